import type { BazaarModule } from '../../kernel/module.ts';
import { abandonedCartsJob } from './abandoned.ts';
import { createCarts } from './carts.ts';
import { CART_PORT } from './contract.ts';
import { cartHandlers } from './handlers.ts';
import { cartMigrations } from './migrations.ts';
import { cartRoutes } from './routes.ts';

/** Guest and user carts priced live from catalog, stock and coupons; wishlists with back-in-stock news. */
export const cartModule: BazaarModule = {
  name: 'cart',
  migrations: cartMigrations,
  providePorts(ctx) {
    ctx.ports.provide(CART_PORT, createCarts(ctx).port);
  },
  routes(app, ctx) {
    cartRoutes(app, ctx, createCarts(ctx));
  },
  handlers: cartHandlers,
  jobs: [abandonedCartsJob],
};
