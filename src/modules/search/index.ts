import type { BazaarModule } from '../../kernel/module.ts';
import { searchHandlers } from './handlers.ts';
import { searchMigrations } from './migrations.ts';
import { registerSearchRoutes } from './routes.ts';
import { postgresSearchIndex } from './store.ts';

/**
 * Search: a read model of the catalog fed by catalog and inventory events, with full-text search,
 * typo tolerance, filters, facets and type-ahead. It owns no source of truth; see docs/search.md.
 */
const index = postgresSearchIndex;
const SEARCH_DELIVERY_LINGER_MS = 100;

export const searchModule: BazaarModule = {
  name: 'search',
  migrations: searchMigrations,
  handlers: searchHandlers(index),
  // A read model: under a stream of stock changes, one transaction for all that arrive within 100 ms.
  // Every sale changes stock, so without the wait a busy shop paid a search transaction (five
  // statements) for every two or three orders; shoppers see a stock figure at most 100 ms later.
  groupDeliveries: { lingerMs: SEARCH_DELIVERY_LINGER_MS },
  routes: (app, ctx) => registerSearchRoutes(app, ctx, index),
};
