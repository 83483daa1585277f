import { describe, expect, it } from 'vitest';
import { CouponError, type QuoteLine } from './contract.ts';
import { allocateProportionally, checkUsable, codeKey, discountFor, priceCoupon, type Coupon } from './service.ts';

const coupon = (over: Partial<Coupon> = {}): Coupon => ({
  id: 'c1',
  code: 'SAVE10',
  kind: 'percentage',
  value: 10,
  currency: null,
  minSubtotal: null,
  startsAt: null,
  endsAt: null,
  usageLimit: null,
  perCustomerLimit: null,
  sellerId: null,
  active: true,
  usedCount: 0,
  ...over,
});

const line = (unitPrice: number, quantity = 1, sellerId = 's1', variantId = `v${unitPrice}`): QuoteLine => ({
  variantId,
  productId: `p-${variantId}`,
  sellerId,
  unitPrice,
  quantity,
});

const reasonOf = (work: () => unknown): string | undefined => {
  try {
    work();
  } catch (error) {
    if (error instanceof CouponError) return error.reason;
    throw error;
  }
  return undefined;
};

/** A small seeded generator, so a failing random cart can be reproduced from its seed. */
function random(seed: number) {
  let state = seed >>> 0;
  return (max: number) => {
    state = (Math.imul(state ^ (state >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0;
    return state % max;
  };
}

describe('discount amounts', () => {
  it('rounds a percentage down on the subtotal: 15% of 9.99 is 1.49, not 1.50', () => {
    expect(discountFor({ kind: 'percentage', value: 15 }, 999)).toBe(149);
  });

  it('never takes off more than the items cost with a fixed amount', () => {
    expect(discountFor({ kind: 'fixed', value: 5000 }, 1999)).toBe(1999);
    expect(discountFor({ kind: 'fixed', value: 500 }, 1999)).toBe(500);
  });

  it('gives free shipping without an amount off the items', () => {
    const priced = priceCoupon(coupon({ kind: 'free_shipping', value: 0 }), [line(1000)], 'USD');
    expect(priced).toEqual({ discountTotal: 0, freeShipping: true, allocations: [0] });
  });

  it('keeps cent-exact amounts for very large carts', () => {
    expect(discountFor({ kind: 'percentage', value: 33 }, 9_007_199_254_740_99)).toBe(297_237_575_406_452);
  });
});

describe('allocating a discount to lines (largest remainder)', () => {
  it('splits 10 off three equal lines as 4, 3, 3: heaviest remainder first, then the earlier line', () => {
    expect(allocateProportionally(10, [100, 100, 100])).toEqual([4, 3, 3]);
  });

  it('splits in proportion to line totals', () => {
    expect(allocateProportionally(100, [300, 100])).toEqual([75, 25]);
    expect(allocateProportionally(1, [1, 2])).toEqual([0, 1]);
  });

  it('gives nothing to a line that carries no weight', () => {
    expect(allocateProportionally(50, [0, 100, 0])).toEqual([0, 50, 0]);
  });

  it('refuses to allocate more than the lines are worth', () => {
    expect(() => allocateProportionally(11, [5, 5])).toThrow(RangeError);
  });

  it('over 2,000 random carts: allocations sum to the discount, are never negative and never exceed their line', () => {
    for (let seed = 1; seed <= 2000; seed++) {
      const next = random(seed);
      const lines = Array.from({ length: 1 + next(8) }, (_, i) =>
        line(next(5) === 0 ? 1 + next(9) : 1 + next(200_000), 1 + next(12), next(3) === 0 ? 's2' : 's1', `v${i}`),
      );
      const kind = (['percentage', 'fixed'] as const)[next(2)]!;
      const c = coupon({ kind, value: kind === 'percentage' ? 1 + next(100) : 1 + next(500_000), sellerId: next(4) === 0 ? 's2' : null });
      let priced;
      try {
        priced = priceCoupon(c, lines, 'USD');
      } catch (error) {
        // A seller coupon on a cart without that seller's items: nothing to check.
        expect((error as CouponError).reason).toBe('not-applicable');
        continue;
      }
      const context = `seed ${seed}`;
      expect(priced.allocations.reduce((s, a) => s + a, 0), context).toBe(priced.discountTotal);
      priced.allocations.forEach((amount, i) => {
        const l = lines[i]!;
        expect(amount, context).toBeGreaterThanOrEqual(0);
        expect(amount, context).toBeLessThanOrEqual(l.unitPrice * l.quantity);
        expect(Number.isInteger(amount), context).toBe(true);
        if (c.sellerId && l.sellerId !== c.sellerId) expect(amount, context).toBe(0);
      });
      const applicable = lines.filter((l) => !c.sellerId || l.sellerId === c.sellerId).reduce((s, l) => s + l.unitPrice * l.quantity, 0);
      expect(priced.discountTotal, context).toBeLessThanOrEqual(applicable);
    }
  });
});

describe('when a coupon applies', () => {
  const now = new Date('2030-06-01T12:00:00Z');

  it('names why a coupon cannot be used', () => {
    expect(reasonOf(() => checkUsable(coupon({ active: false }), now, null))).toBe('not-found');
    expect(reasonOf(() => checkUsable(coupon({ startsAt: new Date('2030-06-02T00:00:00Z') }), now, null))).toBe('not-started');
    expect(reasonOf(() => checkUsable(coupon({ endsAt: new Date('2030-06-01T00:00:00Z') }), now, null))).toBe('expired');
    expect(reasonOf(() => checkUsable(coupon({ usageLimit: 5, usedCount: 5 }), now, null))).toBe('exhausted');
    expect(reasonOf(() => checkUsable(coupon({ perCustomerLimit: 1 }), now, 1))).toBe('per-customer-limit');
    expect(reasonOf(() => checkUsable(coupon({ usageLimit: 5, usedCount: 4, perCustomerLimit: 2 }), now, 1))).toBeUndefined();
  });

  it('applies a seller coupon to that seller’s items only, and judges the minimum on them', () => {
    const lines = [line(4000, 1, 's1'), line(6000, 1, 's2')];
    const priced = priceCoupon(coupon({ value: 50, sellerId: 's2' }), lines, 'USD');
    expect(priced).toEqual({ discountTotal: 3000, freeShipping: false, allocations: [0, 3000] });
    expect(reasonOf(() => priceCoupon(coupon({ sellerId: 's2', minSubtotal: 7000 }), lines, 'USD'))).toBe('min-subtotal');
    expect(reasonOf(() => priceCoupon(coupon({ sellerId: 's3' }), lines, 'USD'))).toBe('not-applicable');
  });

  it('refuses an amount in another currency', () => {
    expect(reasonOf(() => priceCoupon(coupon({ kind: 'fixed', value: 500, currency: 'EUR' }), [line(1000)], 'USD'))).toBe('not-applicable');
  });

  it('accepts a coupon on an empty cart with nothing off yet', () => {
    expect(priceCoupon(coupon({ minSubtotal: 10_000 }), [], 'USD')).toEqual({ discountTotal: 0, freeShipping: false, allocations: [] });
  });

  it('matches codes whatever their case', () => {
    expect(codeKey(' summer-Sale ')).toBe(codeKey('SUMMER-sale'));
  });
});
