import type { EventHandler, ModuleContext } from '../../kernel/module.ts';
import { OrderEvents, type OrderChanged } from '../orders/contract.ts';
import { PaymentEvents } from './contract.ts';
import { publishPayment, type PaymentProcessing } from './processing.ts';
import { openRefund } from './refunds.ts';
import { refundableAmount } from './service.ts';
import * as store from './store.ts';

/**
 * Payments follows the order: a placed order's card is charged (after this transaction, outside it),
 * a cash-on-delivery order is accepted, a cancelled order's payment is voided or refunded, and cash
 * is captured when the order is delivered.
 */
export function paymentsHandlers(deps: () => { ctx: ModuleContext; processing: PaymentProcessing }): Record<string, EventHandler> {
  return {
    async [OrderEvents.OrderPlaced](event, tx) {
      const { ctx, processing } = deps();
      const order = event.data as OrderChanged;
      if (!order.payment.paymentId) return;
      const payment = await store.findPayment(tx, order.payment.paymentId);
      if (!payment || payment.status !== 'pending') return;
      if (payment.method === 'card') processing.chargeSoon(payment.id);
      if (payment.method === 'cod') await publishPayment(ctx, tx, PaymentEvents.PaymentAuthorized, payment);
    },

    async [OrderEvents.OrderCancelled](event, tx) {
      const { ctx, processing } = deps();
      const order = event.data as OrderChanged;
      for (const payment of await store.paymentsOfOrder(tx, order.orderId, true)) {
        if (payment.status === 'pending') {
          await store.setPaymentStatus(tx, payment.id, 'cancelled', ['pending']);
        } else if (payment.status === 'processing') {
          // The provider may be charging right now: settle that first, then refund (processing.ts).
          await store.requestCancellation(tx, payment.id);
        } else if (payment.status === 'captured') {
          if (refundableAmount(payment, await store.refundsOfPayment(tx, payment.id)) === 0) continue;
          const refund = await openRefund(ctx, tx, payment, { reason: `order cancelled: ${order.reason ?? 'no reason given'}`, actorId: order.actorId });
          if (!refund.toStoreCredit) processing.refundSoon(refund.id);
        }
      }
    },

    async [OrderEvents.OrderDelivered](event, tx) {
      const { ctx } = deps();
      const order = event.data as OrderChanged;
      if (order.status !== 'delivered') return;
      for (const payment of await store.paymentsOfOrder(tx, order.orderId, true)) {
        if (payment.method !== 'cod' || payment.status !== 'pending') continue;
        // The delivery agent collected the cash at the door.
        const captured = await store.setPaymentStatus(tx, payment.id, 'captured', ['pending']);
        if (captured) await publishPayment(ctx, tx, PaymentEvents.PaymentCaptured, captured);
      }
    },
  };
}
