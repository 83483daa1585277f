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
  routes: (app, ctx) => registerSearchRoutes(app, ctx, index),
};
