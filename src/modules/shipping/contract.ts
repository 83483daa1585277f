import type { Db } from '../../kernel/db/database.ts';

/** The public face of shipping (rates, for now): what checkout asks to price each seller's parcel. */

export const SHIPPING_RATES_PORT = 'shipping.rates';

/** A seller's rate: one price per parcel, or a base price plus a price per started kilogram. */
export type ShippingRate =
  | { kind: 'flat'; amount: number; currency: string }
  | { kind: 'weight'; baseAmount: number; perKgAmount: number; currency: string };

export interface Parcel {
  sellerId: string;
  /** Sum of the lines' weights; lines without a weight count as 0 g. */
  weightGrams: number;
  currency: string;
}

export interface ShippingRatesPort {
  /**
   * Shipping cost in minor units per seller. A seller without a rate ships for free (flat 0). Throws
   * ShippingCurrencyError when a seller's rate is in another currency than the parcel.
   */
  quote(parcels: Parcel[], tx?: Db): Promise<Map<string, number>>;
}

export class ShippingCurrencyError extends Error {
  constructor(
    readonly sellerId: string,
    readonly rateCurrency: string,
    readonly parcelCurrency: string,
  ) {
    super(`Seller ${sellerId} ships in ${rateCurrency}, not ${parcelCurrency}`);
  }
}

export const ShippingEvents = {
  RateChanged: 'shipping.rate.changed',
} as const;

/** Payload of shipping.rate.changed. */
export interface RateChanged {
  sellerId: string;
  rate: ShippingRate;
}

export type { Db };
