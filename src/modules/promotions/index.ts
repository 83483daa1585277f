import type { BazaarModule } from '../../kernel/module.ts';
import { PROMOTIONS_PORT } from './contract.ts';
import { createPromotionsPort } from './coupons.ts';
import { promotionsMigrations } from './migrations.ts';
import { promotionRoutes } from './routes.ts';

/** Coupons: created by admins and sellers, quoted by carts, redeemed and released by checkout. */
export const promotionsModule: BazaarModule = {
  name: 'promotions',
  migrations: promotionsMigrations,
  providePorts(ctx) {
    ctx.ports.provide(PROMOTIONS_PORT, createPromotionsPort(ctx));
  },
  routes: promotionRoutes,
};
