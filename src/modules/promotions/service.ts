import { CouponError, type QuoteLine } from './contract.ts';

/**
 * Coupon rules as plain functions: whether a coupon may be used now, and how much it takes off which
 * line. Everything is integer minor units; see docs/promotions.md for the rounding rule.
 */

export type CouponKind = 'percentage' | 'fixed' | 'free_shipping';

export interface Coupon {
  id: string;
  code: string;
  kind: CouponKind;
  /** Percent (1..100) for `percentage`, minor units for `fixed`, unused for `free_shipping`. */
  value: number;
  /** Null: applies to a cart in any currency (percentage and free shipping need none). */
  currency: string | null;
  minSubtotal: number | null;
  startsAt: Date | null;
  endsAt: Date | null;
  usageLimit: number | null;
  perCustomerLimit: number | null;
  /** A seller's coupon discounts that seller's items only. */
  sellerId: string | null;
  active: boolean;
  usedCount: number;
}

export interface Discount {
  discountTotal: number;
  freeShipping: boolean;
  /** One per input line, in input order. */
  allocations: number[];
}

/** Why a coupon cannot be used at `now`, before looking at the lines; checks in the order a shopper can act on. */
export function checkUsable(coupon: Coupon, now: Date, usesByCustomer: number | null): void {
  if (!coupon.active) throw new CouponError('not-found', `No active coupon ${coupon.code}`);
  if (coupon.startsAt && now < coupon.startsAt) throw new CouponError('not-started', `Coupon ${coupon.code} is not valid yet`);
  if (coupon.endsAt && now >= coupon.endsAt) throw new CouponError('expired', `Coupon ${coupon.code} has expired`);
  if (coupon.usageLimit !== null && coupon.usedCount >= coupon.usageLimit) {
    throw new CouponError('exhausted', `Coupon ${coupon.code} has been used up`);
  }
  if (coupon.perCustomerLimit !== null && usesByCustomer !== null && usesByCustomer >= coupon.perCustomerLimit) {
    throw new CouponError('per-customer-limit', `You have already used coupon ${coupon.code} as often as it allows`);
  }
}

/**
 * Prices a usable coupon against lines. With no lines there is nothing to discount yet: the coupon is
 * accepted with a zero discount and judged again once the cart has items.
 */
export function priceCoupon(coupon: Coupon, lines: readonly QuoteLine[], currency: string): Discount {
  if (lines.length === 0) return { discountTotal: 0, freeShipping: false, allocations: [] };
  if (coupon.currency !== null && coupon.currency !== currency) {
    throw new CouponError('not-applicable', `Coupon ${coupon.code} is for ${coupon.currency} carts`);
  }
  const lineTotals = lines.map((l) => (coupon.sellerId === null || l.sellerId === coupon.sellerId ? l.unitPrice * l.quantity : 0));
  const applicableSubtotal = lineTotals.reduce((sum, t) => sum + t, 0);
  if (applicableSubtotal === 0) throw new CouponError('not-applicable', `Coupon ${coupon.code} does not apply to these items`);
  if (coupon.minSubtotal !== null && applicableSubtotal < coupon.minSubtotal) {
    throw new CouponError('min-subtotal', `Coupon ${coupon.code} needs a subtotal of at least ${coupon.minSubtotal} (minor units) on the items it applies to`);
  }
  const discountTotal = discountFor(coupon, applicableSubtotal);
  return {
    discountTotal,
    freeShipping: coupon.kind === 'free_shipping',
    allocations: allocateProportionally(discountTotal, lineTotals),
  };
}

/** Percentages round down on the applicable subtotal (the shop never gives more than it says); a fixed amount is capped by it. */
export function discountFor(coupon: Pick<Coupon, 'kind' | 'value'>, applicableSubtotal: number): number {
  switch (coupon.kind) {
    case 'percentage':
      return Number((BigInt(applicableSubtotal) * BigInt(coupon.value)) / 100n);
    case 'fixed':
      return Math.min(coupon.value, applicableSubtotal);
    case 'free_shipping':
      return 0;
  }
}

/**
 * Splits `total` over lines in proportion to their weights with the largest-remainder method: each
 * line gets the floor of its exact share, and the few minor units left go one each to the lines with
 * the largest remainders (ties: the heavier line, then the earlier one). The parts sum to `total`
 * exactly, and with `total <= sum(weights)` no line gets more than its weight. BigInt keeps the
 * products exact for any amount that fits in a JS number.
 */
export function allocateProportionally(total: number, weights: readonly number[]): number[] {
  if (weights.some((w) => !Number.isSafeInteger(w) || w < 0)) throw new RangeError('weights must be non-negative integers');
  const sum = weights.reduce((s, w) => s + w, 0);
  if (!Number.isSafeInteger(total) || total < 0 || total > sum) throw new RangeError('total must be an integer between 0 and the sum of the weights');
  if (total === 0) return weights.map(() => 0);
  const bigTotal = BigInt(total);
  const bigSum = BigInt(sum);
  const shares = weights.map((w, index) => {
    const exact = bigTotal * BigInt(w);
    return { index, weight: w, floor: Number(exact / bigSum), remainder: exact % bigSum };
  });
  let left = total - shares.reduce((s, x) => s + x.floor, 0);
  const byRemainder = [...shares].sort((a, b) =>
    a.remainder !== b.remainder ? (b.remainder > a.remainder ? 1 : -1) : b.weight - a.weight || a.index - b.index,
  );
  for (const share of byRemainder) {
    if (left === 0) break;
    if (share.remainder === 0n) continue;
    share.floor += 1;
    left -= 1;
  }
  return shares.map((s) => s.floor);
}

/** Codes are matched case-insensitively; the key is what the unique index holds. */
export const codeKey = (code: string): string => code.trim().toUpperCase();
