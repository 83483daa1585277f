import { outsideTransaction, type EventHandler, type ModuleContext } from '../../kernel/module.ts';
import { workForEvent } from '../../kernel/observability/context.ts';
import { OrderEvents, type OrderChanged } from '../orders/contract.ts';
import { PaymentEvents } from './contract.ts';
import { publishPayment, type PaymentProcessing } from './processing.ts';
import { openRefund } from './refunds.ts';
import { refundableAmount } from './service.ts';
import * as store from './store.ts';

/**
 * Payments follows the order: a placed order's card is charged, a cancelled order's payment is voided
 * or refunded, and cash is captured when the order is delivered. (A cash-on-delivery payment announces
 * itself authorized in the order's own transaction: payment-port.ts.)
 */
export function paymentsHandlers(deps: () => { ctx: ModuleContext; processing: PaymentProcessing }): Record<string, EventHandler> {
  return {
    // The event says which payment to charge, and the charge round's claim is the check that it is
    // still to be charged: no transaction or inbox row (four statements per order). A redelivered event
    // finds the payment claimed or settled and does nothing.
    [OrderEvents.OrderPlaced]: outsideTransaction(async (event) => {
      const order = event.data as OrderChanged;
      if (order.payment.method === 'card' && order.payment.paymentId) deps().processing.chargeSoon(order.payment.paymentId, workForEvent(event));
    }),

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
          if (!refund.toStoreCredit) processing.refundSoon(refund.id, workForEvent(event));
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
