import type { IPolicy } from 'cockatiel';
import type { Db } from '../../kernel/db/database.ts';
import { whileDatabaseUnavailable } from '../../kernel/db/unavailable.ts';
import { setWork, workOf } from '../../kernel/events/outbox.ts';
import { groupCommit } from '../../kernel/group-commit.ts';
import type { WorkContext } from '../../kernel/observability/context.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { ORDERS_PORT, type OrdersPort } from '../orders/contract.ts';
import { PaymentEvents, type PaymentChanged } from './contract.ts';
import { callProvider, isRetryLater, type PaymentProvider } from './provider.ts';
import { openRefund, settleRefundOutcome } from './refunds.ts';
import { MAX_PROVIDER_ROUNDS, nextRoundDelayMs } from './service.ts';
import * as store from './store.ts';
import type { ChargeOutcome, PaymentRecord } from './store.ts';

/**
 * The calls to the provider, always outside any database transaction: a slow provider must not hold
 * a connection (on PGlite, the only one). A round claims the payment (or refund) in one statement,
 * calls the provider with the payment's (refund's) id as idempotency key, and settles the outcome in
 * a transaction with its event. A round that dies midway leaves a lapsed claim that `resume` picks up,
 * and the idempotency key makes the repeated call return the first call's result: nothing is charged
 * or refunded twice.
 */

export interface PaymentProcessing {
  /**
   * Each returns false when there was nothing to claim. `orderKnownPayable`: the caller has just seen
   * the order waiting for this payment, so the round need not read it again.
   */
  chargeRound(paymentId: string, options?: { orderKnownPayable?: boolean; work?: WorkContext }): Promise<boolean>;
  refundRound(refundId: string, work?: WorkContext): Promise<boolean>;
  /**
   * Starts a round soon, after the caller's transaction has committed, for a payment whose order was
   * waiting for it a moment ago (just placed, or a retry just accepted).
   */
  chargeSoon(paymentId: string, work?: WorkContext): void;
  refundSoon(refundId: string, work?: WorkContext): void;
  /** Restarts rounds that were never started or whose worker vanished. */
  resume(): Promise<void>;
}

export async function publishPayment(ctx: ModuleContext, tx: Db, type: string, payment: PaymentRecord, options: { eager?: boolean } = {}): Promise<void> {
  const data: PaymentChanged = {
    paymentId: payment.id,
    orderId: payment.orderId,
    userId: payment.userId,
    method: payment.method,
    amount: { amount: payment.amount, currency: payment.currency },
    status: payment.status,
    ...(payment.declineCode ? { declineCode: payment.declineCode } : {}),
    ...(payment.failureMessage ? { message: payment.failureMessage } : {}),
  };
  await ctx.publish(tx, { type, aggregateId: payment.id, data, ...options });
}

/**
 * Records a charge's outcome with its event. A payment whose order was cancelled while the charge was
 * under way is refunded at once. Returns refunds to send to the provider after commit.
 */
export async function settleChargeOutcome(ctx: ModuleContext, tx: Db, paymentId: string, outcome: ChargeOutcome): Promise<string[]> {
  return (await settleChargeOutcomes(ctx, tx, [{ paymentId, outcome }]))[0]!;
}

/**
 * Several outcomes in one transaction, their payments updated in one statement; each one's refunds, in
 * order. `work`: whose work each round was (the order's event, the retry's request): its events carry
 * that correlation.
 */
export async function settleChargeOutcomes(
  ctx: ModuleContext,
  tx: Db,
  outcomes: { paymentId: string; outcome: ChargeOutcome; work?: WorkContext }[],
): Promise<string[][]> {
  const settled = await store.settleCharges(tx, outcomes.map(({ paymentId, outcome }) => ({ id: paymentId, outcome })));
  const refunds: string[][] = [];
  // Each outcome's events carry its own round's ids; one without (a resumed round) those of the
  // transaction (a webhook's request, or none).
  const transactionWork = workOf(tx);
  for (const { paymentId, work } of outcomes) {
    const payment = settled.get(paymentId);
    setWork(tx, work ?? transactionWork);
    // The same payment twice: the second finds it settled, as a second transaction would.
    settled.delete(paymentId);
    refunds.push(payment ? await announceSettled(ctx, tx, payment) : []);
  }
  return refunds;
}

async function announceSettled(ctx: ModuleContext, tx: Db, payment: PaymentRecord): Promise<string[]> {
  // Eager: the order (and its customer) waits for the outcome. A card payment's outcome is its first
  // event (cash on delivery, the only method announced earlier, is never charged here).
  if (payment.status === 'failed') {
    await publishPayment(ctx, tx, PaymentEvents.PaymentFailed, payment, { eager: true });
    return [];
  }
  await publishPayment(ctx, tx, PaymentEvents.PaymentCaptured, payment, { eager: true });
  if (!payment.cancelRequested) return [];
  const refund = await openRefund(ctx, tx, payment, { reason: 'order cancelled', actorId: null });
  return [refund.id];
}

export function createPaymentProcessing(ctx: ModuleContext, provider: () => PaymentProvider, policy: IPolicy): PaymentProcessing {
  // Long enough for every attempt of a round (authorize and capture, each with retries) to finish.
  const leaseMs = ctx.config.PAYMENT_PROVIDER_TIMEOUT_MS * 8 + 5000;

  // Rounds running at the same time claim their payments in one statement and record their outcomes in
  // one transaction (group commit): under a stream of orders, a charge costs a fraction of the four
  // round trips a transaction of its own would.
  const claim = groupCommit(async (ids: string[]) => {
    const claimed = new Map((await store.claimPaymentsForCharge(ctx.db, [...new Set(ids)], leaseMs)).map((p) => [p.id, p]));
    // A payment asked for twice in one batch is claimed once: the first round gets it.
    return ids.map((id) => {
      const payment = claimed.get(id);
      claimed.delete(id);
      return payment;
    });
  });
  const settle = groupCommit((outcomes: { paymentId: string; outcome: ChargeOutcome; work?: WorkContext }[]) =>
    ctx.transaction((tx) => settleChargeOutcomes(ctx, tx, outcomes)),
  );

  /** Rounds started in the background must never surface as unhandled rejections. */
  function track(work: Promise<unknown>) {
    void work.catch((error) => ctx.logger.error({ err: error }, 'payment round failed'));
  }

  /** Returns false when there was nothing to claim (already settled, claimed elsewhere, or not visible yet). */
  async function chargeRound(paymentId: string, options: { orderKnownPayable?: boolean; work?: WorkContext } = {}): Promise<boolean> {
    const payment = await claim(paymentId);
    if (!payment) return false;
    // A round resumed later may find the order gone (cancelled, expired) before its cancellation
    // reached us: charge nothing. A round started right after the order was placed skips the read (the
    // heaviest statement of the round); a cancellation racing it marks the payment, and the charge
    // settled meanwhile is refunded at once (settleChargeOutcome).
    const order = options.orderKnownPayable ? undefined : await ctx.ports.get<OrdersPort>(ORDERS_PORT).getOrderForPayment(payment.orderId);
    if (order && order.status !== 'pending' && order.status !== 'payment_failed') {
      await ctx.transaction((tx) => store.setPaymentStatus(tx, paymentId, 'cancelled', ['processing']), options.work);
      return true;
    }
    let outcome: ChargeOutcome;
    try {
      if (!payment.cardTokenEnc) throw new Error('The payment has no card to charge');
      const token = ctx.secrets.decrypt(payment.cardTokenEnc);
      const call = { idempotencyKey: payment.id, amount: payment.amount, currency: payment.currency };
      const authorization = await callProvider(policy, () => provider().authorize({ ...call, token }));
      if (authorization.status === 'declined') {
        outcome = { kind: 'failed', declineCode: authorization.declineCode, message: authorization.message };
      } else {
        const { chargeId } = await callProvider(policy, () =>
          provider().capture({ idempotencyKey: payment.id, authorizationId: authorization.authorizationId, amount: payment.amount }),
        );
        outcome = { kind: 'captured', authorizationId: authorization.authorizationId, chargeId, card: authorization.card };
      }
    } catch (error) {
      if (isRetryLater(error) && payment.attempts < MAX_PROVIDER_ROUNDS) {
        ctx.logger.warn({ err: error, paymentId, round: payment.attempts }, 'payment provider unreachable; the charge is retried later');
        await store.postponeCharge(ctx.db, paymentId, nextRoundDelayMs(payment.attempts));
        return true;
      }
      ctx.logger.error({ err: error, paymentId }, 'charge given up');
      outcome = isRetryLater(error)
        ? { kind: 'failed', declineCode: 'provider_unavailable', message: 'The payment provider could not be reached' }
        : { kind: 'failed', declineCode: 'processing_error', message: 'The payment could not be processed' };
    }
    // The provider has answered: only the record is left. A database restart here must not park the
    // payment until its lease lapses (minutes), so the record is retried for a few seconds first.
    const refunds = await whileDatabaseUnavailable(() => settle({ paymentId, outcome, work: options.work }));
    for (const refundId of refunds) refundSoon(refundId, options.work);
    return true;
  }

  async function refundRound(refundId: string, work?: WorkContext): Promise<boolean> {
    const refund = await store.claimRefund(ctx.db, refundId, leaseMs);
    if (!refund) return false;
    let outcome: { kind: 'succeeded'; providerRefundId: string | null } | { kind: 'failed'; message: string };
    try {
      const payment = await store.findPayment(ctx.db, refund.paymentId);
      if (!payment?.chargeId) throw new Error('The payment has no charge to refund');
      const { refundId: providerRefundId } = await callProvider(policy, () =>
        provider().refund({ idempotencyKey: refund.id, chargeId: payment.chargeId!, amount: refund.amount }),
      );
      outcome = { kind: 'succeeded', providerRefundId };
    } catch (error) {
      if (isRetryLater(error) && refund.attempts < MAX_PROVIDER_ROUNDS) {
        ctx.logger.warn({ err: error, refundId, round: refund.attempts }, 'payment provider unreachable; the refund is retried later');
        await store.postponeRefund(ctx.db, refundId, nextRoundDelayMs(refund.attempts));
        return true;
      }
      ctx.logger.error({ err: error, refundId }, 'refund failed');
      outcome = { kind: 'failed', message: (error as Error).message ?? 'The refund could not be made' };
    }
    await ctx.transaction((tx) => settleRefundOutcome(ctx, tx, refundId, outcome), work);
    return true;
  }

  /**
   * The row may not be visible yet when the caller's transaction has not committed (PostgreSQL); on
   * PGlite the first statement simply waits for it. A few quick retries cover the gap; `resume` covers
   * anything beyond it.
   */
  function soon(round: (id: string) => Promise<boolean>, find: (id: string) => Promise<unknown>, id: string) {
    track(
      (async () => {
        // The claim itself is the first look: usually the row is there and this is one statement. Only
        // when nothing was claimed does a read tell "not visible yet" (retry) from "already handled";
        // a row that became visible between the two is claimed by one more round.
        for (const delay of [0, 50, 200, 1000]) {
          await new Promise((resolve) => setTimeout(resolve, delay));
          if (await round(id)) return;
          if (await find(id)) {
            await round(id);
            return;
          }
        }
      })(),
    );
  }

  function refundSoon(refundId: string, work?: WorkContext) {
    soon((id) => refundRound(id, work), (id) => store.findRefund(ctx.db, id), refundId);
  }

  return {
    chargeRound,
    refundRound,
    chargeSoon: (paymentId, work) => soon((id) => chargeRound(id, { orderKnownPayable: true, work }), (id) => store.findPayment(ctx.db, id), paymentId),
    refundSoon,
    async resume() {
      for (const id of await store.resumablePaymentIds(ctx.db, 10_000, 50)) await chargeRound(id);
      for (const id of await store.resumableRefundIds(ctx.db, 10_000, 50)) await refundRound(id);
    },
  };
}
