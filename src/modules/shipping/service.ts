import type { ShippingRate } from './contract.ts';

/** Shipping prices as plain rules, in integer minor units. */

export const FREE_SHIPPING: ShippingRate = { kind: 'flat', amount: 0, currency: 'USD' };

/**
 * What one parcel costs under a rate. Weight rates charge per *started* kilogram, the way carriers
 * bill: 1 g costs one kilogram, 1001 g two. An empty parcel (no weights given) pays the base only.
 */
export function parcelCost(rate: ShippingRate, weightGrams: number): number {
  if (rate.kind === 'flat') return rate.amount;
  const kilograms = Math.ceil(Math.max(0, weightGrams) / 1000);
  return rate.baseAmount + rate.perKgAmount * kilograms;
}
