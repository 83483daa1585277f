import { Type } from '@sinclair/typebox';
import type { LedgerEntry, PaymentRecord, RefundRecord, SavedMethodRecord } from './store.ts';

/** The HTTP shapes of payments, refunds, saved cards and store credit. */

const MoneySchema = Type.Object({ amount: Type.Integer(), currency: Type.String() });
const Timestamp = Type.String({ format: 'date-time' });
const NullableString = Type.Union([Type.String(), Type.Null()]);

export const Payment = Type.Object({
  id: Type.String(),
  orderId: Type.String(),
  userId: Type.String(),
  method: Type.Union([Type.Literal('card'), Type.Literal('cod'), Type.Literal('store_credit')]),
  status: Type.Union(['pending', 'processing', 'captured', 'failed', 'cancelled', 'refunded'].map((s) => Type.Literal(s))),
  amount: MoneySchema,
  refunded: MoneySchema,
  card: Type.Union([Type.Object({ brand: NullableString, last4: NullableString }), Type.Null()]),
  declineCode: NullableString,
  failureMessage: NullableString,
  createdAt: Timestamp,
  updatedAt: Timestamp,
  capturedAt: Type.Union([Timestamp, Type.Null()]),
});

export function paymentView(p: PaymentRecord) {
  return {
    id: p.id,
    orderId: p.orderId,
    userId: p.userId,
    method: p.method,
    status: p.status,
    amount: { amount: p.amount, currency: p.currency },
    refunded: { amount: p.refundedAmount, currency: p.currency },
    card: p.method === 'card' ? { brand: p.cardBrand, last4: p.cardLast4 } : null,
    declineCode: p.declineCode,
    failureMessage: p.failureMessage,
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
    capturedAt: p.capturedAt ? p.capturedAt.toISOString() : null,
  };
}

export const Refund = Type.Object({
  id: Type.String(),
  paymentId: Type.String(),
  orderId: Type.String(),
  userId: Type.String(),
  amount: MoneySchema,
  reason: Type.String(),
  destination: Type.Union([Type.Literal('original_method'), Type.Literal('store_credit')]),
  status: Type.Union(['pending', 'processing', 'succeeded', 'failed'].map((s) => Type.Literal(s))),
  groupId: NullableString,
  actorId: NullableString,
  failureMessage: NullableString,
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

export function refundView(r: RefundRecord) {
  return {
    id: r.id,
    paymentId: r.paymentId,
    orderId: r.orderId,
    userId: r.userId,
    amount: { amount: r.amount, currency: r.currency },
    reason: r.reason,
    destination: r.toStoreCredit ? ('store_credit' as const) : ('original_method' as const),
    status: r.status,
    groupId: r.groupId,
    actorId: r.actorId,
    failureMessage: r.failureMessage,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

export const SavedMethod = Type.Object({
  id: Type.String(),
  brand: Type.String(),
  last4: Type.String(),
  expMonth: Type.Integer(),
  expYear: Type.Integer(),
  createdAt: Timestamp,
});

export function savedMethodView(m: SavedMethodRecord) {
  return { id: m.id, brand: m.brand, last4: m.last4, expMonth: m.expMonth, expYear: m.expYear, createdAt: m.createdAt.toISOString() };
}

export const LedgerEntrySchema = Type.Object({
  id: Type.String(),
  amount: MoneySchema,
  balanceAfter: MoneySchema,
  reason: Type.String(),
  reference: Type.String(),
  actorId: NullableString,
  createdAt: Timestamp,
});

export function ledgerEntryView(e: LedgerEntry) {
  return {
    id: e.id,
    amount: { amount: e.amount, currency: e.currency },
    balanceAfter: { amount: e.balanceAfter, currency: e.currency },
    reason: e.reason,
    reference: e.reference,
    actorId: e.actorId,
    createdAt: e.createdAt.toISOString(),
  };
}

export const StoreCredit = Type.Object({
  userId: Type.String(),
  balance: MoneySchema,
  entries: Type.Array(LedgerEntrySchema),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
});
