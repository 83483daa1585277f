import { sql } from 'kysely';
import { CUSTOM_PLAN, equalsAny, type Db } from '../../kernel/db/database.ts';
import { writeLast } from '../../kernel/events/outbox.ts';
import type { PaymentMethod, PaymentStatus } from './contract.ts';
import { MAX_SAVED_METHODS_PER_USER } from './service.ts';

export interface PaymentRecord {
  id: string;
  orderId: string;
  userId: string;
  method: PaymentMethod;
  status: PaymentStatus;
  amount: number;
  currency: string;
  refundedAmount: number;
  provider: string | null;
  cardTokenEnc: string | null;
  cardBrand: string | null;
  cardLast4: string | null;
  savedMethodId: string | null;
  authorizationId: string | null;
  chargeId: string | null;
  declineCode: string | null;
  failureMessage: string | null;
  attempts: number;
  cancelRequested: boolean;
  createdAt: Date;
  updatedAt: Date;
  capturedAt: Date | null;
}

export type RefundStatus = 'pending' | 'processing' | 'succeeded' | 'failed';

export interface RefundRecord {
  id: string;
  paymentId: string;
  orderId: string;
  userId: string;
  amount: number;
  currency: string;
  reason: string;
  toStoreCredit: boolean;
  status: RefundStatus;
  groupId: string | null;
  actorId: string | null;
  providerRefundId: string | null;
  failureMessage: string | null;
  attempts: number;
  createdAt: Date;
  updatedAt: Date;
}

const date = (v: unknown) => (v ? new Date(v as string) : null);

const toPayment = (r: Record<string, any>): PaymentRecord => ({
  id: r.id,
  orderId: r.order_id,
  userId: r.user_id,
  method: r.method,
  status: r.status,
  amount: r.amount,
  currency: r.currency,
  refundedAmount: r.refunded_amount,
  provider: r.provider,
  cardTokenEnc: r.card_token_enc,
  cardBrand: r.card_brand,
  cardLast4: r.card_last4,
  savedMethodId: r.saved_method_id,
  authorizationId: r.authorization_id,
  chargeId: r.charge_id,
  declineCode: r.decline_code,
  failureMessage: r.failure_message,
  attempts: r.attempts,
  cancelRequested: r.cancel_requested,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
  capturedAt: date(r.captured_at),
});

const toRefund = (r: Record<string, any>): RefundRecord => ({
  id: r.id,
  paymentId: r.payment_id,
  orderId: r.order_id,
  userId: r.user_id,
  amount: r.amount,
  currency: r.currency,
  reason: r.reason,
  toStoreCredit: r.to_store_credit,
  status: r.status,
  groupId: r.group_id,
  actorId: r.actor_id,
  providerRefundId: r.provider_refund_id,
  failureMessage: r.failure_message,
  attempts: r.attempts,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);

// ---------------------------------------------------------------- payments

export type NewPayment = Pick<PaymentRecord, 'id' | 'orderId' | 'userId' | 'method' | 'status' | 'amount' | 'currency' | 'provider' | 'cardTokenEnc' | 'cardBrand' | 'cardLast4' | 'savedMethodId'>;

function insertPaymentStatement(p: NewPayment) {
  return sql`
    insert into payments.payments (id, order_id, user_id, method, status, amount, currency, provider, card_token_enc,
      card_brand, card_last4, saved_method_id, captured_at)
    values (${p.id}, ${p.orderId}, ${p.userId}, ${p.method}, ${p.status}, ${p.amount}, ${p.currency}, ${p.provider},
      ${p.cardTokenEnc}, ${p.cardBrand}, ${p.cardLast4}, ${p.savedMethodId}, ${p.status === 'captured' ? sql`now()` : null})`;
}

export async function insertPayment(tx: Db, p: NewPayment): Promise<PaymentRecord> {
  const { rows } = await sql<Record<string, any>>`${insertPaymentStatement(p)} returning *`.execute(tx);
  return toPayment(rows[0]!);
}

/**
 * A new payment written with the transaction's last statement (see writeLast in the kernel's outbox),
 * for a transaction that does not read it back: the order's, whose card is charged after commit.
 */
export async function insertPaymentLast(tx: Db, p: NewPayment): Promise<void> {
  await writeLast(tx, [{ statement: insertPaymentStatement(p) }]);
}

export async function findPayment(db: Db, id: string): Promise<PaymentRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await sql<Record<string, any>>`select * from payments.payments where id = ${id}`.execute(db);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function lockPayment(tx: Db, id: string): Promise<PaymentRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await sql<Record<string, any>>`select * from payments.payments where id = ${id} for update`.execute(tx);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function paymentsOfOrder(db: Db, orderId: string, lock = false): Promise<PaymentRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select * from payments.payments where order_id = ${orderId} order by id ${lock ? sql`for update` : sql``}`.execute(db);
  return rows.map(toPayment);
}

export async function paymentsOfUser(db: Db, q: { userId: string; before?: string; limit: number }): Promise<PaymentRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select * from payments.payments where user_id = ${q.userId} ${q.before ? sql`and id < ${q.before}` : sql``}
    order by id desc limit ${q.limit}`.execute(db);
  return rows.map(toPayment);
}

/**
 * Takes card payments of `ids` for one charge round each: pending ones, or ones whose previous round's
 * lease lapsed (its worker died or gave up for now). One statement, so two workers cannot both take one.
 */
export async function claimPaymentsForCharge(db: Db, ids: string[], leaseMs: number): Promise<PaymentRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    update payments.payments
    set status = 'processing', attempts = attempts + 1, locked_until = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
    where id = any(${sql`${ids}::uuid[]`}) and method = 'card'
      and (status = 'pending' or (status = 'processing' and locked_until < now()))
    returning *`.execute(db);
  return rows.map(toPayment);
}

/** The round could not finish (provider unreachable): keep the payment processing, try again after `delayMs`. */
export async function postponeCharge(db: Db, id: string, delayMs: number): Promise<void> {
  await sql`
    update payments.payments set locked_until = now() + ${delayMs} * interval '1 millisecond', updated_at = now()
    where id = ${id} and status = 'processing'`.execute(db);
}

export type ChargeOutcome =
  /** `card`: the charged card's brand and last digits as the provider gave them (a one-time token's are known only then). */
  | { kind: 'captured'; authorizationId: string | null; chargeId: string; card?: { brand: string; last4: string } }
  | { kind: 'failed'; declineCode: string; message: string };

/**
 * Settles processing payments in one statement (the charge rounds that finished together; one, for a
 * webhook). Payments someone else settled first are missing from the answer; a payment given twice is
 * settled with its first outcome (one row may be updated once per statement). The ids are also given
 * as a plain list: PostgreSQL guesses a hundred rows for `jsonb_to_recordset` and few payments still
 * pending, so joined on the recordset alone it scanned the whole table (620 scans read 870,000 rows
 * in a 2,800-order benchmark, more the longer the table); by id list it takes the primary key.
 */
export async function settleCharges(tx: Db, settlements: { id: string; outcome: ChargeOutcome }[]): Promise<Map<string, PaymentRecord>> {
  const first = new Map<string, ChargeOutcome>();
  for (const { id, outcome } of settlements) if (!first.has(id)) first.set(id, outcome);
  const outcomes = [...first].map(([id, o]) =>
    o.kind === 'captured'
      ? { id, status: 'captured', authorization_id: o.authorizationId, charge_id: o.chargeId, decline_code: null, failure_message: null, card_brand: o.card?.brand ?? null, card_last4: o.card?.last4 ?? null }
      : { id, status: 'failed', authorization_id: null, charge_id: null, decline_code: o.declineCode, failure_message: o.message, card_brand: null, card_last4: null },
  );
  // More than one payment: planned for its ids each time (CUSTOM_PLAN), since a generic plan kept from
  // when the table was small scans all of it.
  const { rows } = await sql<Record<string, any>>`${first.size > 1 ? CUSTOM_PLAN : sql``}
    update payments.payments p set
      status = v.status, authorization_id = v.authorization_id, charge_id = v.charge_id,
      decline_code = v.decline_code, failure_message = v.failure_message,
      card_brand = coalesce(p.card_brand, v.card_brand), card_last4 = coalesce(p.card_last4, v.card_last4),
      captured_at = case when v.status = 'captured' then now() end,
      card_token_enc = null, locked_until = null, updated_at = now()
    from jsonb_to_recordset(${JSON.stringify(outcomes)}::jsonb)
      as v (id uuid, status text, authorization_id text, charge_id text, decline_code text, failure_message text, card_brand text, card_last4 text)
    where ${equalsAny(sql`p.id`, [...first.keys()], 'uuid')} and p.id = v.id and p.status in ('pending', 'processing')
    returning p.*`.execute(tx);
  return new Map(rows.map((r) => [r.id as string, toPayment(r)]));
}

export async function setPaymentStatus(tx: Db, id: string, status: PaymentStatus, from: PaymentStatus[]): Promise<PaymentRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`
    update payments.payments set status = ${status}, updated_at = now(),
      captured_at = case when ${status}::text = 'captured' then now() else captured_at end,
      card_token_enc = case when ${status}::text in ('cancelled', 'captured', 'failed') then null else card_token_enc end
    where id = ${id} and status = any(${sql`${from}::text[]`})
    returning *`.execute(tx);
  return rows[0] ? toPayment(rows[0]) : undefined;
}

export async function requestCancellation(tx: Db, id: string): Promise<void> {
  await sql`update payments.payments set cancel_requested = true, updated_at = now() where id = ${id}`.execute(tx);
}

/** A charge the provider made after we gave the payment up: remember it so it can be refunded. */
export async function recordLateCharge(tx: Db, id: string, chargeId: string): Promise<void> {
  await sql`update payments.payments set charge_id = ${chargeId}, updated_at = now() where id = ${id}`.execute(tx);
}

export async function addRefunded(tx: Db, id: string, amount: number): Promise<PaymentRecord> {
  const { rows } = await sql<Record<string, any>>`
    update payments.payments set
      refunded_amount = refunded_amount + ${amount},
      status = case when refunded_amount + ${amount} >= amount then 'refunded' else status end,
      updated_at = now()
    where id = ${id}
    returning *`.execute(tx);
  return toPayment(rows[0]!);
}

/** Card payments a worker should (re)start: pending ones nobody picked up, and rounds whose lease lapsed. */
export async function resumablePaymentIds(db: Db, pendingOlderThanMs: number, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from payments.payments
    where method = 'card' and (
      (status = 'pending' and created_at < now() - ${pendingOlderThanMs} * interval '1 millisecond')
      or (status = 'processing' and locked_until < now()))
    order by id limit ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------- refunds

export async function insertRefund(
  tx: Db,
  r: Pick<RefundRecord, 'id' | 'paymentId' | 'orderId' | 'userId' | 'amount' | 'currency' | 'reason' | 'toStoreCredit' | 'status' | 'groupId' | 'actorId'>,
): Promise<RefundRecord> {
  const { rows } = await sql<Record<string, any>>`
    insert into payments.refunds (id, payment_id, order_id, user_id, amount, currency, reason, to_store_credit, status, group_id, actor_id)
    values (${r.id}, ${r.paymentId}, ${r.orderId}, ${r.userId}, ${r.amount}, ${r.currency}, ${r.reason}, ${r.toStoreCredit},
      ${r.status}, ${r.groupId}, ${r.actorId})
    returning *`.execute(tx);
  return toRefund(rows[0]!);
}

export async function refundsOfPayment(db: Db, paymentId: string): Promise<RefundRecord[]> {
  const { rows } = await sql<Record<string, any>>`select * from payments.refunds where payment_id = ${paymentId} order by id`.execute(db);
  return rows.map(toRefund);
}

export async function findRefund(db: Db, id: string): Promise<RefundRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await sql<Record<string, any>>`select * from payments.refunds where id = ${id}`.execute(db);
  return rows[0] ? toRefund(rows[0]) : undefined;
}

export async function listRefunds(db: Db, q: { userId?: string; before?: string; limit: number }): Promise<RefundRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select * from payments.refunds where true
      ${q.userId ? sql`and user_id = ${q.userId}` : sql``}
      ${q.before ? sql`and id < ${q.before}` : sql``}
    order by id desc limit ${q.limit}`.execute(db);
  return rows.map(toRefund);
}

export async function claimRefund(db: Db, id: string, leaseMs: number): Promise<RefundRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`
    update payments.refunds
    set status = 'processing', attempts = attempts + 1, locked_until = now() + ${leaseMs} * interval '1 millisecond', updated_at = now()
    where id = ${id} and not to_store_credit
      and (status = 'pending' or (status = 'processing' and locked_until < now()))
    returning *`.execute(db);
  return rows[0] ? toRefund(rows[0]) : undefined;
}

export async function postponeRefund(db: Db, id: string, delayMs: number): Promise<void> {
  await sql`
    update payments.refunds set locked_until = now() + ${delayMs} * interval '1 millisecond', updated_at = now()
    where id = ${id} and status = 'processing'`.execute(db);
}

export async function settleRefund(
  tx: Db,
  id: string,
  outcome: { kind: 'succeeded'; providerRefundId: string | null } | { kind: 'failed'; message: string },
): Promise<RefundRecord | undefined> {
  const ok = outcome.kind === 'succeeded';
  const { rows } = await sql<Record<string, any>>`
    update payments.refunds set
      status = ${ok ? 'succeeded' : 'failed'},
      provider_refund_id = ${ok ? outcome.providerRefundId : null},
      failure_message = ${ok ? null : outcome.message},
      locked_until = null, updated_at = now()
    where id = ${id} and status in ('pending', 'processing')
    returning *`.execute(tx);
  return rows[0] ? toRefund(rows[0]) : undefined;
}

export async function resumableRefundIds(db: Db, pendingOlderThanMs: number, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from payments.refunds
    where not to_store_credit and (
      (status = 'pending' and created_at < now() - ${pendingOlderThanMs} * interval '1 millisecond')
      or (status = 'processing' and locked_until < now()))
    order by id limit ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------- store credit

export interface LedgerEntry {
  id: string;
  amount: number;
  currency: string;
  balanceAfter: number;
  reason: string;
  reference: string;
  actorId: string | null;
  createdAt: Date;
  seq: number;
}

export async function findBalance(db: Db, userId: string): Promise<{ currency: string; balance: number } | undefined> {
  const { rows } = await sql<{ currency: string; balance: number }>`
    select currency, balance from payments.store_credit_balances where user_id = ${userId}`.execute(db);
  return rows[0];
}

/** The conditional debit: succeeds only if the balance covers it, so concurrent debits can never overdraw. */
export async function debitBalance(tx: Db, userId: string, amount: number, currency: string): Promise<number | undefined> {
  const { rows } = await sql<{ balance: number }>`
    update payments.store_credit_balances set balance = balance - ${amount}, updated_at = now()
    where user_id = ${userId} and currency = ${currency} and balance >= ${amount}
    returning balance`.execute(tx);
  return rows[0]?.balance;
}

/** Adds credit; undefined when the user's balance is kept in another currency. */
export async function creditBalance(tx: Db, userId: string, amount: number, currency: string): Promise<number | undefined> {
  const { rows } = await sql<{ balance: number }>`
    insert into payments.store_credit_balances (user_id, currency, balance) values (${userId}, ${currency}, ${amount})
    on conflict (user_id) do update set balance = payments.store_credit_balances.balance + excluded.balance, updated_at = now()
      where payments.store_credit_balances.currency = excluded.currency
    returning balance`.execute(tx);
  return rows[0]?.balance;
}

export async function insertLedgerEntry(
  tx: Db,
  e: { id: string; userId: string; amount: number; currency: string; balanceAfter: number; reason: string; reference: string; actorId: string | null },
): Promise<void> {
  await sql`
    insert into payments.store_credit_ledger (id, user_id, amount, currency, balance_after, reason, reference, actor_id)
    values (${e.id}, ${e.userId}, ${e.amount}, ${e.currency}, ${e.balanceAfter}, ${e.reason}, ${e.reference}, ${e.actorId})`.execute(tx);
}

export async function ledgerEntries(db: Db, q: { userId: string; beforeSeq?: number; limit: number }): Promise<LedgerEntry[]> {
  const { rows } = await sql<Record<string, any>>`
    select * from payments.store_credit_ledger where user_id = ${q.userId}
      ${q.beforeSeq !== undefined ? sql`and seq < ${q.beforeSeq}` : sql``}
    order by seq desc limit ${q.limit}`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    amount: r.amount,
    currency: r.currency,
    balanceAfter: r.balance_after,
    reason: r.reason,
    reference: r.reference,
    actorId: r.actor_id,
    createdAt: new Date(r.created_at),
    seq: r.seq,
  }));
}

// ---------------------------------------------------------------- saved payment methods

export interface SavedMethodRecord {
  id: string;
  userId: string;
  provider: string;
  tokenEnc: string;
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
  createdAt: Date;
}

const toMethod = (r: Record<string, any>): SavedMethodRecord => ({
  id: r.id,
  userId: r.user_id,
  provider: r.provider,
  tokenEnc: r.token_enc,
  brand: r.brand,
  last4: r.last4,
  expMonth: r.exp_month,
  expYear: r.exp_year,
  createdAt: new Date(r.created_at),
});

export async function countSavedMethods(db: Db, userId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`select count(*)::int as n from payments.payment_methods where user_id = ${userId}`.execute(db);
  return rows[0]!.n;
}

/**
 * Saves the card unless the user already keeps MAX_SAVED_METHODS_PER_USER (then undefined). A lock
 * per user makes two saves at once agree on the count.
 */
export async function insertSavedMethod(tx: Db, m: Omit<SavedMethodRecord, 'createdAt'>): Promise<SavedMethodRecord | undefined> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`payments.saved-methods:${m.userId}`}, 0))`.execute(tx);
  const { rows } = await sql<Record<string, any>>`
    insert into payments.payment_methods (id, user_id, provider, token_enc, brand, last4, exp_month, exp_year)
    select ${m.id}, ${m.userId}, ${m.provider}, ${m.tokenEnc}, ${m.brand}, ${m.last4}, ${m.expMonth}, ${m.expYear}
    where (select count(*) from payments.payment_methods where user_id = ${m.userId}) < ${MAX_SAVED_METHODS_PER_USER}
    returning *`.execute(tx);
  return rows[0] ? toMethod(rows[0]) : undefined;
}

export async function savedMethodsOf(db: Db, userId: string): Promise<SavedMethodRecord[]> {
  const { rows } = await sql<Record<string, any>>`select * from payments.payment_methods where user_id = ${userId} order by id`.execute(db);
  return rows.map(toMethod);
}

export async function findSavedMethod(db: Db, userId: string, id: string): Promise<SavedMethodRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await sql<Record<string, any>>`
    select * from payments.payment_methods where id = ${id} and user_id = ${userId}`.execute(db);
  return rows[0] ? toMethod(rows[0]) : undefined;
}

export async function deleteSavedMethod(tx: Db, userId: string, id: string): Promise<boolean> {
  if (!isUuid(id)) return false;
  const result = await sql`delete from payments.payment_methods where id = ${id} and user_id = ${userId}`.execute(tx);
  return Number(result.numAffectedRows ?? 0) > 0;
}

// ---------------------------------------------------------------- webhooks

/** True the first time a provider event id is seen. */
export async function recordWebhookEvent(tx: Db, id: string, type: string): Promise<boolean> {
  const { rows } = await sql`
    insert into payments.webhook_events (id, type) values (${id}, ${type}) on conflict do nothing returning id`.execute(tx);
  return rows.length === 1;
}
