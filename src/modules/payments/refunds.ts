import type { Db } from '../../kernel/db/database.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { PaymentEvents, STORE_CREDIT_PORT, type RefundChanged, type StoreCreditPort } from './contract.ts';
import { capturedAmount, refundableAmount, refundsToStoreCredit } from './service.ts';
import * as store from './store.ts';
import type { PaymentRecord, RefundRecord } from './store.ts';

/**
 * Refunds, inside a transaction that holds the payment's row lock: never more than was captured minus
 * what is refunded or being refunded. Store-credit refunds complete right here; card refunds are
 * recorded pending and sent to the provider after commit (see processing.ts).
 */

export class RefundRefusedError extends Error {
  constructor(
    readonly reason: 'exceeds-refundable' | 'nothing-captured' | 'currency-mismatch',
    message: string,
    readonly refundable: number,
  ) {
    super(message);
  }
}

export async function publishRefund(ctx: ModuleContext, tx: Db, type: string, refund: RefundRecord, payment: PaymentRecord): Promise<void> {
  const money = (amount: number) => ({ amount, currency: payment.currency });
  const data: RefundChanged = {
    refundId: refund.id,
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amount: money(refund.amount),
    reason: refund.reason,
    toStoreCredit: refund.toStoreCredit,
    refundedTotal: money(payment.refundedAmount),
    capturedTotal: money(capturedAmount(payment)),
    fullyRefunded: payment.status === 'refunded',
    groupId: refund.groupId,
  };
  await ctx.publish(tx, { type, aggregateId: payment.id, data });
}

export interface RefundRequest {
  amount?: number;
  currency?: string;
  reason: string;
  toStoreCredit?: boolean;
  actorId: string | null;
  groupId?: string | null;
  /** A tighter ceiling than the payment's (a seller's own group). */
  limit?: number;
}

/** Opens a refund on a locked payment; throws RefundRefusedError. */
export async function openRefund(ctx: ModuleContext, tx: Db, payment: PaymentRecord, request: RefundRequest): Promise<RefundRecord> {
  const refundable = refundableAmount(payment, await store.refundsOfPayment(tx, payment.id));
  const ceiling = Math.min(refundable, request.limit ?? refundable);
  if (capturedAmount(payment) === 0) throw new RefundRefusedError('nothing-captured', 'Nothing was captured on this payment', 0);
  if (refundable === 0) throw new RefundRefusedError('nothing-captured', 'All that was captured on this payment has been refunded', 0);
  if (request.currency && request.currency !== payment.currency) {
    throw new RefundRefusedError('currency-mismatch', `The payment is in ${payment.currency}`, ceiling);
  }
  const amount = request.amount ?? ceiling;
  if (amount <= 0 || amount > ceiling) {
    throw new RefundRefusedError('exceeds-refundable', `At most ${ceiling} (minor units of ${payment.currency}) can still be refunded`, ceiling);
  }
  return recordRefund(ctx, tx, payment, { ...request, amount });
}

async function recordRefund(ctx: ModuleContext, tx: Db, payment: PaymentRecord, request: RefundRequest & { amount: number }): Promise<RefundRecord> {
  const toStoreCredit = refundsToStoreCredit(payment.method, request.toStoreCredit);
  const refund = await store.insertRefund(tx, {
    id: newId(),
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    amount: request.amount,
    currency: payment.currency,
    reason: request.reason,
    toStoreCredit,
    status: toStoreCredit ? 'succeeded' : 'pending',
    groupId: request.groupId ?? null,
    actorId: request.actorId,
  });
  if (toStoreCredit) {
    await ctx.ports.get<StoreCreditPort>(STORE_CREDIT_PORT).credit(tx, {
      userId: payment.userId,
      amount: { amount: request.amount, currency: payment.currency },
      reason: `refund: ${request.reason}`,
      reference: refund.id,
      actorId: request.actorId,
    });
    const updated = await store.addRefunded(tx, payment.id, request.amount);
    await publishRefund(ctx, tx, PaymentEvents.RefundSucceeded, refund, updated);
  }
  return refund;
}

/**
 * The provider charged a payment we had already given up on (its answer came too late, or only by
 * webhook): the order did not take that money, so it goes straight back.
 */
export async function reverseLateCharge(ctx: ModuleContext, tx: Db, payment: PaymentRecord, chargeId: string): Promise<RefundRecord> {
  await store.recordLateCharge(tx, payment.id, chargeId);
  return recordRefund(ctx, tx, { ...payment, chargeId }, {
    amount: payment.amount,
    reason: 'charge arrived after the payment was given up',
    toStoreCredit: false,
    actorId: null,
  });
}

export async function settleRefundOutcome(
  ctx: ModuleContext,
  tx: Db,
  refundId: string,
  outcome: { kind: 'succeeded'; providerRefundId: string | null } | { kind: 'failed'; message: string },
): Promise<void> {
  const refund = await store.settleRefund(tx, refundId, outcome);
  if (!refund) return;
  if (refund.status === 'succeeded') {
    const payment = await store.addRefunded(tx, refund.paymentId, refund.amount);
    await publishRefund(ctx, tx, PaymentEvents.RefundSucceeded, refund, payment);
  } else {
    const payment = (await store.findPayment(tx, refund.paymentId))!;
    await publishRefund(ctx, tx, PaymentEvents.RefundFailed, refund, payment);
  }
}
