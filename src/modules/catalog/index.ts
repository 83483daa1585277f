import type { BazaarModule } from '../../kernel/module.ts';
import { PRODUCT_CATALOG_PORT, type ProductCatalog } from './contract.ts';
import { catalogHandlers } from './handlers.ts';
import { createMediaStore } from './media.ts';
import { catalogMigrations } from './migrations.ts';
import { createProductCatalog } from './purchasable.ts';
import { catalogRoutes } from './routes.ts';
import { seedDemoCatalog } from './seed.ts';

/**
 * Catalog: the category tree, sellers' products and their variants, product images, and the
 * storefront's view of them. Stock comes from inventory's port; sellers' status from identity's events.
 */
export const catalogModule: BazaarModule = {
  name: 'catalog',
  migrations: catalogMigrations,

  providePorts(ctx) {
    ctx.ports.provide<ProductCatalog>(PRODUCT_CATALOG_PORT, createProductCatalog(ctx));
  },

  routes: (app, ctx) => catalogRoutes(app, ctx, createMediaStore(ctx.config)),

  handlers: catalogHandlers,

  seedDemo: seedDemoCatalog,
};
