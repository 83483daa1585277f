import type { Db } from '../../kernel/db/database.ts';

/**
 * The public face of payments: the port checkout opens an order's payment through (in the order's
 * transaction), the store-credit ledger port, and the events orders, invoicing and notifications
 * follow.
 */

export interface Money {
  amount: number;
  currency: string;
}

export type PaymentMethod = 'card' | 'cod' | 'store_credit';

/** How the customer wants to pay, as checkout received it. */
export type PaymentInstruction =
  | { method: 'card'; token: string }
  | { method: 'card'; savedMethodId: string }
  | { method: 'cod' }
  | { method: 'store_credit' };

/**
 * pending: not charged yet (for cash on delivery: to be collected at the door); processing: a call to
 * the provider is under way; captured: the money is ours; failed: declined or never answered;
 * cancelled: the order went away before anything was charged; refunded: all of it went back.
 */
export type PaymentStatus = 'pending' | 'processing' | 'captured' | 'failed' | 'cancelled' | 'refunded';

export const PAYMENTS_PORT = 'payments.payments';

export interface OpenedPayment {
  paymentId: string;
  method: PaymentMethod;
  status: PaymentStatus;
}

/** Port `payments.payments`. */
export interface PaymentsPort {
  /**
   * Records the payment of a new order inside the order's transaction. Store credit is debited right
   * here (so the order and the debit commit together); a card is charged after commit, when payments
   * handles `orders.order.placed`. Throws PaymentRefusedError when the instruction cannot be honoured.
   * A card payment's row is written with the transaction's last statement: the caller does not read it back.
   */
  openOrderPayment(
    tx: Db,
    input: { orderId: string; userId: string; amount: Money; instruction: PaymentInstruction },
  ): Promise<OpenedPayment>;
}

export type PaymentRefusalReason = 'insufficient-store-credit' | 'unknown-payment-method' | 'currency-mismatch';

export class PaymentRefusedError extends Error {
  constructor(
    readonly reason: PaymentRefusalReason,
    message: string,
  ) {
    super(message);
  }
}

export const STORE_CREDIT_PORT = 'payments.store_credit';

/** Port `payments.store_credit`: a per-user balance kept as a ledger; it can never go below zero. */
export interface StoreCreditPort {
  balance(userId: string, tx?: Db): Promise<Money | null>;
  /** Takes `amount` off the balance, or throws PaymentRefusedError('insufficient-store-credit'). */
  debit(tx: Db, entry: { userId: string; amount: Money; reason: string; reference: string }): Promise<void>;
  credit(tx: Db, entry: { userId: string; amount: Money; reason: string; reference: string; actorId: string | null }): Promise<void>;
}

export const PaymentEvents = {
  /** A cash-on-delivery order was accepted: nothing to capture until delivery. */
  PaymentAuthorized: 'payments.payment.authorized',
  PaymentCaptured: 'payments.payment.captured',
  PaymentFailed: 'payments.payment.failed',
  RefundSucceeded: 'payments.refund.succeeded',
  RefundFailed: 'payments.refund.failed',
  StoreCreditChanged: 'payments.store_credit.changed',
} as const;

/** Payload of payments.payment.authorized / captured / failed. */
export interface PaymentChanged {
  paymentId: string;
  orderId: string;
  userId: string;
  method: PaymentMethod;
  amount: Money;
  status: PaymentStatus;
  /** For failed: the provider's reason (e.g. `card_declined`, `insufficient_funds`). */
  declineCode?: string;
  message?: string;
}

/** Payload of payments.refund.succeeded / failed. */
export interface RefundChanged {
  refundId: string;
  paymentId: string;
  orderId: string;
  userId: string;
  amount: Money;
  reason: string;
  toStoreCredit: boolean;
  /** Everything refunded on the payment so far (this refund included when it succeeded). */
  refundedTotal: Money;
  capturedTotal: Money;
  /** True once the payment has nothing left to refund. */
  fullyRefunded: boolean;
  /** Set when a seller refunded (part of) its own fulfilment group. */
  groupId: string | null;
}

/** Payload of payments.store_credit.changed. */
export interface StoreCreditChanged {
  userId: string;
  delta: Money;
  balance: Money;
  reason: string;
  reference: string;
}

export type { Db };
