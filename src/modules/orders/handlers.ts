import type { EventHandler, ModuleContext } from '../../kernel/module.ts';
import { PaymentEvents, type PaymentChanged, type RefundChanged } from '../payments/contract.ts';
import { recordPaymentAuthorized, recordPaymentCaptured, recordPaymentFailed, recordRefund } from './lifecycle.ts';

/** What orders does when payments reports: each handler runs in the transaction that records the event in orders' inbox. */
export function ordersHandlers(ctx: () => ModuleContext): Record<string, EventHandler> {
  return {
    [PaymentEvents.PaymentCaptured]: (event, tx) => recordPaymentCaptured(ctx(), tx, event.data as PaymentChanged),
    [PaymentEvents.PaymentAuthorized]: (event, tx) => recordPaymentAuthorized(ctx(), tx, event.data as PaymentChanged),
    [PaymentEvents.PaymentFailed]: (event, tx) => recordPaymentFailed(ctx(), tx, event.data as PaymentChanged),
    [PaymentEvents.RefundSucceeded]: (event, tx) => recordRefund(ctx(), tx, event.data as RefundChanged),
  };
}
