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
  // A read model: under a stream of stock changes, one transaction for all that arrive together. It
  // does not wait for company: the relay delivers an aggregate's events one after another, so a wait
  // per group is a wait per event of a busy variant (a flash sale's, or the demo data's backlog).
  groupDeliveries: true,
  // Every effect is in the handler's transaction or after its commit (the generation's bump): the
  // group's inbox rows can go with its last statement, which also takes the commit.
  inboxAtCommit: true,
  routes: (app, ctx) => registerSearchRoutes(app, ctx, index),
};
