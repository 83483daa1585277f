import { describe, expect, it } from 'vitest';
import { parcelCost } from './service.ts';

describe('shipping cost of a parcel', () => {
  it('is the flat amount whatever the weight', () => {
    expect(parcelCost({ kind: 'flat', amount: 499, currency: 'USD' }, 12_000)).toBe(499);
  });

  it('is the base plus a price per started kilogram', () => {
    const rate = { kind: 'weight' as const, baseAmount: 300, perKgAmount: 150, currency: 'USD' };
    expect(parcelCost(rate, 0)).toBe(300);
    expect(parcelCost(rate, 1)).toBe(450);
    expect(parcelCost(rate, 1000)).toBe(450);
    expect(parcelCost(rate, 1001)).toBe(600);
  });
});
