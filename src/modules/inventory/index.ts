import type { BazaarModule } from '../../kernel/module.ts';
import { DEMO_LOCATIONS, STOCK_PORT, type StockPort } from './contract.ts';
import { createStockLedger } from './ledger.ts';
import { inventoryMigrations } from './migrations.ts';
import { inventoryRoutes } from './routes.ts';
import { insertLocation } from './store.ts';

/**
 * Inventory: locations (warehouses and stores), stock per variant per location, the movement ledger
 * behind every change, and reservations that hold stock for checkout until they are committed,
 * released, or expire.
 */
export const inventoryModule: BazaarModule = {
  name: 'inventory',
  migrations: inventoryMigrations,

  providePorts(ctx) {
    ctx.ports.provide<StockPort>(STOCK_PORT, createStockLedger(ctx));
  },

  routes: inventoryRoutes,

  jobs: [
    {
      name: 'inventory.release-expired-reservations',
      intervalMs: 5000,
      run: async (ctx) => {
        await createStockLedger(ctx).releaseExpired();
      },
    },
  ],

  // Runs before catalog's demo data, which spreads its stock over these locations.
  async seedDemo(ctx) {
    await ctx.transaction(async (tx) => {
      for (const location of Object.values(DEMO_LOCATIONS)) await insertLocation(tx, location);
    });
  },
};
