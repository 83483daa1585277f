import type { Db } from '../../kernel/db/database.ts';

/** The public face of promotions: the coupon port carts quote with and checkout redeems through. */

export const PROMOTIONS_PORT = 'promotions.coupons';

export const PromotionEvents = {
  CouponCreated: 'promotions.coupon.created',
  CouponUpdated: 'promotions.coupon.updated',
} as const;

/** Payload of promotions.coupon.created / updated: the coupon as its owner sees it. */
export interface CouponChanged {
  coupon: {
    id: string;
    code: string;
    kind: 'percentage' | 'fixed' | 'free_shipping';
    value: number;
    currency: string | null;
    sellerId: string | null;
    active: boolean;
    startsAt: string | null;
    endsAt: string | null;
    usageLimit: number | null;
    perCustomerLimit: number | null;
    minSubtotal: number | null;
    usedCount: number;
  };
}

export interface QuoteLine {
  variantId: string;
  productId: string;
  sellerId: string;
  /** Minor units. */
  unitPrice: number;
  quantity: number;
}

export interface CouponQuote {
  couponId: string;
  code: string;
  kind: 'percentage' | 'fixed' | 'free_shipping';
  /** Minor units. */
  discountTotal: number;
  freeShipping: boolean;
  currency: string;
  /** The seller whose items alone the coupon covers (its free shipping waives only that seller's); null for a platform coupon. */
  sellerId: string | null;
  /** Discount allocated to each line (sums to discountTotal), needed for partial refunds. */
  allocations: { variantId: string; amount: number }[];
}

export type CouponErrorReason =
  | 'not-found'
  | 'expired'
  | 'not-started'
  | 'exhausted'
  | 'min-subtotal'
  | 'not-applicable'
  | 'per-customer-limit';

export class CouponError extends Error {
  constructor(
    readonly reason: CouponErrorReason,
    message: string,
  ) {
    super(message);
  }
}

export interface PromotionsPort {
  /** Prices a coupon against lines; throws CouponError. Pure read (no usage recorded). */
  quote(input: { code: string; userId: string | null; lines: QuoteLine[]; currency: string }, tx?: Db): Promise<CouponQuote>;
  /** Records one use inside the order's transaction, enforcing total and per-customer limits atomically (conditional update); throws CouponError('exhausted' | 'per-customer-limit'). */
  redeem(tx: Db, input: { couponId: string; userId: string; orderId: string }): Promise<void>;
  /** Gives a use back (order cancelled before payment / payment failed). Idempotent per order. */
  release(tx: Db, orderId: string): Promise<void>;
}

export type { Db };
