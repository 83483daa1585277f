import type { BazaarModule, ModuleContext } from '../../kernel/module.ts';
import { SHIPPING_RATES_PORT, ShippingCurrencyError, type ShippingRatesPort } from './contract.ts';
import { shippingMigrations } from './migrations.ts';
import { shippingRoutes } from './routes.ts';
import { parcelCost } from './service.ts';
import { findRates, findRatesCached } from './store.ts';

function shippingRates(ctx: ModuleContext): ShippingRatesPort {
  return {
    async quote(parcels, tx) {
      const sellerIds = [...new Set(parcels.map((p) => p.sellerId))];
      // Inside a caller's transaction the table is read (consistent with it); outside, the short cache serves.
      const rates = tx ? await findRates(tx, sellerIds) : await findRatesCached(ctx, sellerIds);
      const costs = new Map<string, number>();
      for (const parcel of parcels) {
        const stored = rates.get(parcel.sellerId);
        if (!stored) {
          costs.set(parcel.sellerId, 0);
          continue;
        }
        if (stored.rate.currency !== parcel.currency) throw new ShippingCurrencyError(parcel.sellerId, stored.rate.currency, parcel.currency);
        costs.set(parcel.sellerId, parcelCost(stored.rate, parcel.weightGrams));
      }
      return costs;
    },
  };
}

/**
 * Shipping: for now each seller's shipping rate, which checkout prices parcels with through the
 * `shipping.rates` port. Shipments, tracking and delivery assignments come later.
 */
export const shippingModule: BazaarModule = {
  name: 'shipping',
  migrations: shippingMigrations,
  routes: shippingRoutes,
  providePorts(ctx) {
    ctx.ports.provide<ShippingRatesPort>(SHIPPING_RATES_PORT, shippingRates(ctx));
  },
};
