import { describe, expect, it } from 'vitest';
import type { OrderStatus } from './contract.ts';
import {
  allocateProportionally,
  assertTransition,
  cancellationRefusal,
  computeTotals,
  InvalidTransitionError,
  mergeLines,
  parcelWeight,
  roundHalfUp,
  taxOn,
  TRANSITIONS,
} from './service.ts';

const card = (status: OrderStatus) => ({ status, paymentMethod: 'card' as const });

describe('the order lifecycle', () => {
  it('lets a card order go pending -> paid -> processing -> shipped -> delivered -> refunded', () => {
    const path: OrderStatus[] = ['pending', 'paid', 'processing', 'shipped', 'delivered', 'refunded'];
    for (let i = 1; i < path.length; i++) expect(() => assertTransition(card(path[i - 1]!), path[i]!)).not.toThrow();
  });

  it('lets a declined order be paid on retry, fail again, or be cancelled', () => {
    for (const to of ['paid', 'payment_failed', 'cancelled'] as const) expect(() => assertTransition(card('payment_failed'), to)).not.toThrow();
  });

  it('refuses steps that skip the lifecycle, and says which', () => {
    const refusals: [OrderStatus, OrderStatus][] = [
      ['pending', 'shipped'],
      ['pending', 'delivered'],
      ['paid', 'delivered'],
      ['delivered', 'cancelled'],
      ['cancelled', 'paid'],
      ['refunded', 'pending'],
      ['shipped', 'paid'],
    ];
    for (const [from, to] of refusals) {
      const error = (() => {
        try {
          assertTransition(card(from), to);
        } catch (e) {
          return e;
        }
      })();
      expect(error, `${from} -> ${to}`).toBeInstanceOf(InvalidTransitionError);
      expect((error as InvalidTransitionError).from).toBe(from);
      expect((error as InvalidTransitionError).to).toBe(to);
    }
  });

  it('sends only cash-on-delivery orders to fulfilment before payment (a guard)', () => {
    expect(() => assertTransition({ status: 'pending', paymentMethod: 'cod' }, 'processing')).not.toThrow();
    expect(() => assertTransition(card('pending'), 'processing')).toThrow(/cash-on-delivery/);
  });

  it('has no way out of cancelled or refunded', () => {
    expect(Object.keys(TRANSITIONS.cancelled)).toEqual([]);
    expect(Object.keys(TRANSITIONS.refunded)).toEqual([]);
  });

  it('lets the owner cancel until a parcel ships, and an admin until delivery', () => {
    const order = (status: OrderStatus, anyGroupShipped = false) => ({ ...card(status), anyGroupShipped });
    expect(cancellationRefusal(order('pending'), 'owner')).toBeNull();
    expect(cancellationRefusal(order('paid'), 'owner')).toBeNull();
    expect(cancellationRefusal(order('processing', true), 'owner')).toMatch(/shipped/);
    expect(cancellationRefusal(order('shipped', true), 'owner')).toMatch(/shipped/);
    expect(cancellationRefusal(order('shipped', true), 'admin')).toBeNull();
    expect(cancellationRefusal(order('delivered', true), 'admin')).toMatch(/cannot be cancelled/);
    expect(cancellationRefusal(order('cancelled'), 'admin')).toMatch(/cannot be cancelled/);
  });
});

describe('money', () => {
  it('rounds half up, exactly, for any size', () => {
    expect(roundHalfUp(5n, 10n)).toBe(1);
    expect(roundHalfUp(4n, 10n)).toBe(0);
    expect(roundHalfUp(15n, 10n)).toBe(2);
    expect(roundHalfUp(25n, 10n)).toBe(3);
    expect(roundHalfUp(9_007_199_254_740_991n * 10_000n + 5_000n, 10_000n)).toBe(9_007_199_254_740_992);
  });

  it('taxes a tax-exclusive amount with round-half-up', () => {
    expect(taxOn(1000, 2000)).toBe(200); // 20 % of 10.00
    expect(taxOn(999, 825)).toBe(82); // 8.25 % of 9.99 = 82.4175
    expect(taxOn(1010, 825)).toBe(83); // 83.325
    expect(taxOn(200, 2500)).toBe(50);
    expect(taxOn(2, 2500)).toBe(1); // 0.5 rounds up
    expect(taxOn(0, 2000)).toBe(0);
  });

  it('splits an amount in proportion, in whole units that add up', () => {
    expect(allocateProportionally(100, [1, 1, 1])).toEqual([34, 33, 33]);
    expect(allocateProportionally(10, [700, 300])).toEqual([7, 3]);
    expect(allocateProportionally(1, [1, 3])).toEqual([0, 1]);
    expect(allocateProportionally(5, [0, 0])).toEqual([5, 0]);
    const parts = allocateProportionally(997, [333, 12, 1001, 7]);
    expect(parts.reduce((a, b) => a + b, 0)).toBe(997);
  });

  it('computes totals per seller and overall: tax on subtotal − discount + shipping, groups adding up to the order', () => {
    const totals = computeTotals({
      lines: [
        { sellerId: 'a', variantId: 'a1', unitPrice: 1999, quantity: 2, discount: 400 },
        { sellerId: 'b', variantId: 'b1', unitPrice: 500, quantity: 1, discount: 0 },
        { sellerId: 'a', variantId: 'a2', unitPrice: 333, quantity: 3, discount: 0 },
      ],
      shippingBySeller: new Map([['a', 499], ['b', 250]]),
      freeShippingFor: new Set(),
      taxRateBps: 825,
    });
    expect(totals.subtotal).toBe(1999 * 2 + 500 + 333 * 3);
    expect(totals.discount).toBe(400);
    expect(totals.shipping).toBe(749);
    const taxable = totals.subtotal - 400 + 749;
    expect(totals.tax).toBe(taxOn(taxable, 825));
    expect(totals.total).toBe(taxable + totals.tax);
    expect(totals.groups.map((g) => g.sellerId)).toEqual(['a', 'b']);
    expect(totals.groups.reduce((s, g) => s + g.total, 0)).toBe(totals.total);
    expect(totals.groups.reduce((s, g) => s + g.tax, 0)).toBe(totals.tax);
    expect(totals.groups[1]).toMatchObject({ subtotal: 500, discount: 0, shipping: 250 });
  });

  it('waives shipping for every seller, or only the coupon seller', () => {
    const lines = [
      { sellerId: 'a', variantId: 'a1', unitPrice: 1000, quantity: 1, discount: 0 },
      { sellerId: 'b', variantId: 'b1', unitPrice: 1000, quantity: 1, discount: 0 },
    ];
    const shippingBySeller = new Map([['a', 300], ['b', 400]]);
    expect(computeTotals({ lines, shippingBySeller, freeShippingFor: 'all', taxRateBps: 0 }).shipping).toBe(0);
    expect(computeTotals({ lines, shippingBySeller, freeShippingFor: new Set(['a']), taxRateBps: 0 }).shipping).toBe(400);
  });

  it('never discounts a line below zero', () => {
    const totals = computeTotals({
      lines: [{ sellerId: 'a', variantId: 'a1', unitPrice: 100, quantity: 1, discount: 5000 }],
      shippingBySeller: new Map(),
      freeShippingFor: new Set(),
      taxRateBps: 2000,
    });
    expect(totals).toMatchObject({ subtotal: 100, discount: 100, tax: 0, total: 0 });
  });
});

describe('lines and parcels', () => {
  it('merges lines of the same variant, keeping the order they came in', () => {
    expect(mergeLines([{ variantId: 'x', quantity: 1 }, { variantId: 'y', quantity: 2 }, { variantId: 'x', quantity: 3 }])).toEqual([
      { variantId: 'x', quantity: 4 },
      { variantId: 'y', quantity: 2 },
    ]);
  });

  it('weighs a parcel by its lines, counting lines without a weight as nothing', () => {
    expect(parcelWeight([{ weightGrams: 250, quantity: 3 }, { weightGrams: null, quantity: 5 }])).toBe(750);
  });
});
