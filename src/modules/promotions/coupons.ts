import type { ModuleContext } from '../../kernel/module.ts';
import { newId } from '../../kernel/ids.ts';
import { CouponError, type CouponQuote, type PromotionsPort } from './contract.ts';
import { checkUsable, codeKey, priceCoupon } from './service.ts';
import {
  claimUse,
  countActiveUses,
  findCouponById,
  findCouponByCodeKey,
  findRedemptionByOrder,
  recordRedemption,
  releaseRedemption,
  returnUse,
} from './store.ts';

/** The port carts quote with and checkout redeems through (`promotions.coupons`). */
export function createPromotionsPort(ctx: ModuleContext): PromotionsPort {
  return {
    async quote(input, tx): Promise<CouponQuote> {
      const db = tx ?? ctx.db;
      const coupon = await findCouponByCodeKey(db, codeKey(input.code));
      if (!coupon) throw new CouponError('not-found', `No coupon ${input.code}`);
      const uses = input.userId && coupon.perCustomerLimit !== null ? await countActiveUses(db, coupon.id, input.userId) : null;
      checkUsable(coupon, new Date(), uses);
      const discount = priceCoupon(coupon, input.lines, input.currency);
      return {
        couponId: coupon.id,
        code: coupon.code,
        kind: coupon.kind,
        discountTotal: discount.discountTotal,
        freeShipping: discount.freeShipping,
        currency: input.currency,
        sellerId: coupon.sellerId,
        allocations: input.lines.map((line, i) => ({ variantId: line.variantId, amount: discount.allocations[i] ?? 0 })),
      };
    },

    async redeem(tx, { couponId, userId, orderId }) {
      const previous = await findRedemptionByOrder(tx, orderId);
      if (previous && previous.releasedAt === null) {
        if (previous.couponId === couponId) return;
        throw new Error(`Order ${orderId} already redeemed another coupon`);
      }
      const claimed = await claimUse(tx, couponId);
      if (!claimed) {
        const coupon = await findCouponById(tx, couponId);
        if (!coupon || !coupon.active) throw new CouponError('not-found', 'The coupon no longer exists');
        throw new CouponError('exhausted', `Coupon ${coupon.code} has been used up`);
      }
      if (claimed.perCustomerLimit !== null && (await countActiveUses(tx, couponId, userId)) >= claimed.perCustomerLimit) {
        // A caller that catches this and goes on without the coupon must not keep the use we took.
        await returnUse(tx, couponId);
        throw new CouponError('per-customer-limit', 'You have already used this coupon as often as it allows');
      }
      await recordRedemption(tx, { id: newId(), couponId, userId, orderId });
    },

    async release(tx, orderId) {
      await releaseRedemption(tx, orderId);
    },
  };
}
