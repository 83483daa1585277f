import type { ModuleContext } from '../../kernel/module.ts';
import { OrderNotPayableError, type OrderForPayment, type OrdersPort } from './contract.ts';
import { holdStockAgain } from './lifecycle.ts';
import * as store from './store.ts';
import type { OrderRecord } from './store.ts';

function forPayment(order: OrderRecord): OrderForPayment {
  const money = (amount: number) => ({ amount, currency: order.currency });
  return {
    orderId: order.id,
    userId: order.userId,
    status: order.status,
    total: money(order.total),
    groups: order.groups.map((g) => ({ groupId: g.id, sellerId: g.sellerId, total: money(g.total) })),
  };
}

/** Port `orders.orders`: what payments needs to know about an order, and the stock hold of a retried payment. */
export function ordersPort(ctx: ModuleContext): OrdersPort {
  return {
    async getOrderForPayment(orderId, tx) {
      const order = await store.loadOrder(tx ?? ctx.db, orderId);
      return order ? forPayment(order) : null;
    },

    async holdStockForPaymentRetry(tx, { orderId, userId, paymentId, method }) {
      const order = await store.lockOrder(tx, orderId);
      if (!order || order.userId !== userId) throw new OrderNotPayableError('not-found', 'Order not found');
      if (order.status !== 'payment_failed') {
        throw new OrderNotPayableError('not-retryable', `Only an order whose payment failed can be paid again; this one is ${order.status}`);
      }
      if (order.reservationState === 'held') {
        throw new OrderNotPayableError('payment-in-progress', 'A payment of this order is already under way');
      }
      // Throws inventory's InsufficientStockError when the stock went to someone else meanwhile.
      await holdStockAgain(ctx, tx, order);
      order.paymentId = paymentId;
      order.paymentMethod = method;
      order.paymentStatus = 'pending';
      order.updatedAt = new Date();
      await store.saveOrderState(tx, order);
      return forPayment(order);
    },
  };
}
