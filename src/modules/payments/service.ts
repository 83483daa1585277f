import type { PaymentMethod, PaymentStatus } from './contract.ts';

/** Payment rules as plain functions: what may still be refunded, where a refund goes, when to try again. */

/** Money the merchant holds for a payment: all of it once captured, nothing before. */
export function capturedAmount(payment: { status: PaymentStatus; amount: number }): number {
  return payment.status === 'captured' || payment.status === 'refunded' ? payment.amount : 0;
}

/** Refunds that are done or under way count against the payment; failed ones give their amount back. */
export function refundableAmount(
  payment: { status: PaymentStatus; amount: number },
  refunds: readonly { amount: number; status: string }[],
): number {
  const committed = refunds.filter((r) => r.status !== 'failed').reduce((sum, r) => sum + r.amount, 0);
  return Math.max(0, capturedAmount(payment) - committed);
}

/**
 * A seller refunding its own part of an order: no more than its group's total minus what was already
 * refunded against that group, and never more than the payment has left.
 */
export function sellerRefundLimit(
  groupTotal: number,
  refundsOfGroup: readonly { amount: number; status: string }[],
  paymentRefundable: number,
): number {
  const used = refundsOfGroup.filter((r) => r.status !== 'failed').reduce((sum, r) => sum + r.amount, 0);
  return Math.max(0, Math.min(groupTotal - used, paymentRefundable));
}

/**
 * Card money goes back to the card unless store credit is asked for; cash on delivery and store
 * credit have no card to return to, so their refunds always become store credit.
 */
export function refundsToStoreCredit(method: PaymentMethod, asked: boolean | undefined): boolean {
  return method !== 'card' || asked === true;
}

/** Charge or refund rounds after which an unreachable provider makes us give up (and reconcile by webhook). */
export const MAX_PROVIDER_ROUNDS = 5;

/** Wait before the next round after an unreachable provider: 2 s, 4 s, 8 s ... capped at 2 minutes. */
export function nextRoundDelayMs(roundsSoFar: number): number {
  return Math.min(120_000, 1000 * 2 ** Math.max(1, roundsSoFar));
}

/** Cards one user may keep: a wallet, not a store of every card ever tried. */
export const MAX_SAVED_METHODS_PER_USER = 20;
