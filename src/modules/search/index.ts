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

export const searchModule: BazaarModule = {
  name: 'search',
  migrations: searchMigrations,
  handlers: searchHandlers(index),
  // A read model: under a stream of stock changes, one transaction for all that arrive together.
  groupDeliveries: true,
  routes: (app, ctx) => registerSearchRoutes(app, ctx, index),
};
