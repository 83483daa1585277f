import { purgeExpiredIdempotencyKeys } from '../../kernel/http/idempotency.ts';
import type { BazaarModule, ModuleContext } from '../../kernel/module.ts';
import { ORDERS_PORT, type OrdersPort } from './contract.ts';
import { ordersHandlers } from './handlers.ts';
import { expireUnpaidOrder } from './lifecycle.ts';
import { ordersMigrations } from './migrations.ts';
import { ordersPort } from './payment-port.ts';
import { ordersRoutes } from './routes.ts';
import { overdueOrderIds } from './store.ts';

/** Cancels unpaid orders past their payment deadline, one transaction each, releasing their stock. */
async function expireUnpaidOrders(ctx: ModuleContext): Promise<number> {
  let expired = 0;
  for (const orderId of await overdueOrderIds(ctx.db, 100)) {
    if (await ctx.transaction((tx) => expireUnpaidOrder(ctx, tx, orderId))) expired++;
  }
  return expired;
}

/**
 * Orders: checkout in one transaction (prices, coupon, stock, payment, order, outbox), the order
 * lifecycle as a state machine with history, one fulfilment group per seller, tax per country, and
 * the reactions to payments' outcomes.
 */
export function createOrdersModule(): BazaarModule {
  let context: ModuleContext | undefined;
  const ctx = () => {
    if (!context) throw new Error('orders: the module has not been started');
    return context;
  };
  return {
    name: 'orders',
    migrations: ordersMigrations,
    providePorts(moduleCtx) {
      context = moduleCtx;
      moduleCtx.ports.provide<OrdersPort>(ORDERS_PORT, ordersPort(moduleCtx));
    },
    routes: ordersRoutes,
    handlers: ordersHandlers(ctx),
    // Payment outcomes change the order, its stock and its events, all in the handler's transaction.
    inboxAtCommit: true,
    jobs: [
      { name: 'orders.expire-unpaid-orders', intervalMs: 15_000, run: async (c) => void (await expireUnpaidOrders(c)) },
      { name: 'orders.purge-idempotency-keys', intervalMs: 3600_000, run: (c) => purgeExpiredIdempotencyKeys(c.db).then(() => {}) },
    ],
  };
}

export const ordersModule = createOrdersModule();
