import { Type } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import type { FastifyError } from 'fastify';
import { can } from '../../kernel/auth/permissions.ts';
import { hasPermission, principalOf, requirePermission, requireUser } from '../../kernel/http/auth.ts';
import { afterCommit } from '../../kernel/db/after-commit.ts';
import { respondIdempotently } from '../../kernel/http/idempotency.ts';
import { badRequest, conflict, forbidden, notFound, Problem, unprocessable } from '../../kernel/http/problem.ts';
import { decodeCursor, decodeIdCursor, encodeCursor, errorResponses, IdParams, ListQuery, Page } from '../../kernel/http/schemas.ts';
import { newId } from '../../kernel/ids.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { accountExists } from '../identity/contract.ts';
import { InsufficientStockError } from '../inventory/contract.ts';
import { ORDERS_PORT, OrderNotPayableError, type OrdersPort } from '../orders/contract.ts';
import { PaymentRefusedError, STORE_CREDIT_PORT, type StoreCreditPort } from './contract.ts';
import { openPayment } from './payment-port.ts';
import { settleChargeOutcome, type PaymentProcessing } from './processing.ts';
import { callProvider, InvalidTokenError, isRetryLater, WebhookSignatureError, type PaymentProvider } from './provider.ts';
import { openRefund, RefundRefusedError, reverseLateCharge, settleRefundOutcome } from './refunds.ts';
import { MAX_SAVED_METHODS_PER_USER, refundableAmount, sellerRefundLimit } from './service.ts';
import * as store from './store.ts';
import { SIGNATURE_HEADER } from './test-gateway.ts';
import {
  LedgerEntrySchema,
  ledgerEntryView,
  Payment,
  paymentView,
  Refund,
  refundView,
  SavedMethod,
  savedMethodView,
  StoreCredit,
} from './views.ts';
import type { IPolicy } from 'cockatiel';

const bearer = [{ bearer: [] }];
const MoneyInput = Type.Object(
  { amount: Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), currency: Type.String({ pattern: '^[A-Z]{3}$' }) },
  { additionalProperties: false },
);
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const IdempotencyHeader = Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) });

const RetryPayment = Type.Union([
  Type.Object({ method: Type.Literal('card'), token: Type.String({ pattern: '^[A-Za-z0-9_]{1,255}$' }) }, { additionalProperties: false }),
  Type.Object({ method: Type.Literal('card'), savedMethodId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
  Type.Object({ method: Type.Literal('store_credit') }, { additionalProperties: false }),
]);

const WebhookEventSchema = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  type: Type.Union([Type.Literal('charge.succeeded'), Type.Literal('charge.failed'), Type.Literal('refund.succeeded')]),
  idempotencyKey: Type.String({ minLength: 1, maxLength: 200 }),
  amount: Type.Integer(),
  currency: Type.String(),
  declineCode: Type.Optional(Type.String()),
  chargeId: Type.Optional(Type.String()),
  refundId: Type.Optional(Type.String()),
});

export interface PaymentsRouteDeps {
  provider: () => PaymentProvider;
  processing: () => PaymentProcessing;
  policy: () => IPolicy;
}

function paymentRefused(error: PaymentRefusedError): Problem {
  if (error.reason === 'insufficient-store-credit') return conflict('insufficient-store-credit', error.message);
  return unprocessable(error.reason, error.message);
}

function refundRefused(error: RefundRefusedError): Problem {
  if (error.reason === 'currency-mismatch') return unprocessable('currency-mismatch', error.message);
  return conflict(error.reason === 'nothing-captured' ? 'nothing-to-refund' : 'refund-exceeds-captured', error.message, { refundable: error.refundable });
}

const walletFull = (): Problem =>
  conflict('too-many-payment-methods', `You can keep at most ${MAX_SAVED_METHODS_PER_USER} cards; forget one first`, { limit: MAX_SAVED_METHODS_PER_USER });

function ledgerCursor(cursor: string | undefined): number | undefined {
  const values = decodeCursor(cursor, 1);
  if (!values) return undefined;
  const seq = Number(values[0]);
  if (!Number.isInteger(seq)) throw badRequest('The cursor is not valid');
  return seq;
}

function idCursor(cursor: string | undefined): string | undefined {
  const values = decodeCursor(cursor, 1);
  if (!values) return undefined;
  const id = String(values[0]);
  if (!store.isUuid(id)) throw badRequest('The cursor is not valid');
  return id;
}

export function paymentsRoutes(deps: PaymentsRouteDeps) {
  return (app: HttpApp, ctx: ModuleContext) => {
    const orders = () => ctx.ports.get<OrdersPort>(ORDERS_PORT);
    const credit = () => ctx.ports.get<StoreCreditPort>(STORE_CREDIT_PORT);

    // ------------------------------------------------------------ retry a failed payment

    app.post('/payments/pay', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'Pay an order whose payment failed, again: its stock is held again and the new payment runs asynchronously',
        security: bearer,
        headers: IdempotencyHeader,
        body: Type.Object({ orderId: Type.String({ minLength: 1, maxLength: 100 }), payment: RetryPayment }, { additionalProperties: false }),
        response: { 202: Payment, ...errorResponses(400, 401, 404, 409, 422) },
      },
    }, async (request, reply) => {
      const { userId } = principalOf(request);
      const { orderId, payment: instruction } = request.body;
      return respondIdempotently(
        { request, reply, db: ctx.db, transaction: ctx.transaction, scope: `payments.pay:${userId}`, requestBody: request.body },
        async (tx) => {
          const paymentId = newId();
          let order;
          try {
            order = await orders().holdStockForPaymentRetry(tx, { orderId, userId, paymentId, method: instruction.method });
          } catch (error) {
            if (error instanceof OrderNotPayableError) {
              if (error.reason === 'not-found') throw notFound('Order');
              throw conflict(error.reason === 'payment-in-progress' ? 'payment-in-progress' : 'order-not-payable', error.message);
            }
            if (error instanceof InsufficientStockError) {
              throw conflict('insufficient-stock', 'The stock of this order is gone; it cannot be paid any more', { shortages: error.shortages });
            }
            throw error;
          }
          try {
            await openPayment(ctx, deps.provider().name, tx, { paymentId, orderId, userId, amount: order.total, instruction });
          } catch (error) {
            if (error instanceof PaymentRefusedError) throw paymentRefused(error);
            throw error;
          }
          // Only once committed: a repeat's transaction (same Idempotency-Key) rolls back.
          afterCommit(tx, () => deps.processing().chargeSoon(paymentId, request.work));
          return { statusCode: 202, body: paymentView((await store.findPayment(tx, paymentId))!) };
        },
      );
    });

    // ------------------------------------------------------------ reading payments

    app.get('/payments', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: "Payments of an order (its owner, admin, support), or the signed-in user's payments",
        security: bearer,
        querystring: Type.Object({ ...ListQuery, orderId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })) }),
        response: { 200: Page(Payment), ...errorResponses(400, 401, 404) },
      },
    }, async (request) => {
      const principal = principalOf(request);
      const { orderId, limit, cursor } = request.query;
      if (orderId) {
        const all = await store.paymentsOfOrder(ctx.db, orderId);
        const visible = can(principal.roles, 'payments:read-any') ? all : all.filter((p) => p.userId === principal.userId);
        if (all.length > 0 && visible.length === 0) throw notFound('Order');
        return { items: visible.map(paymentView), nextCursor: null };
      }
      const page = await store.paymentsOfUser(ctx.db, { userId: principal.userId, before: idCursor(cursor), limit });
      return { items: page.map(paymentView), nextCursor: page.length === limit ? encodeCursor([page.at(-1)!.id]) : null };
    });

    app.get('/payments/refunds', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'Refunds: every refund for admins and support, your own for anyone else',
        security: bearer,
        querystring: Type.Object(ListQuery),
        response: { 200: Page(Refund), ...errorResponses(400, 401) },
      },
    }, async (request) => {
      const principal = principalOf(request);
      const { limit, cursor } = request.query;
      const userId = can(principal.roles, 'payments:read-any') ? undefined : principal.userId;
      const page = await store.listRefunds(ctx.db, { userId, before: idCursor(cursor), limit });
      return { items: page.map(refundView), nextCursor: page.length === limit ? encodeCursor([page.at(-1)!.id]) : null };
    });

    app.get('/payments/:id', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'One payment (its owner, admin, support)',
        security: bearer,
        params: IdParams,
        response: { 200: Payment, ...errorResponses(401, 404) },
      },
    }, async (request) => {
      const principal = principalOf(request);
      const payment = await store.findPayment(ctx.db, request.params.id);
      if (!payment || (payment.userId !== principal.userId && !can(principal.roles, 'payments:read-any'))) throw notFound('Payment');
      return paymentView(payment);
    });

    // ------------------------------------------------------------ refunds

    app.post('/payments/:id/refunds', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'Refund a captured payment in full (no amount) or in part; never more than captured minus refunded',
        description: 'Admins refund any payment; with SELLER_REFUNDS_ENABLED a seller refunds up to its own group of the order.',
        security: bearer,
        headers: IdempotencyHeader,
        params: IdParams,
        body: Type.Object(
          { amount: Type.Optional(MoneyInput), reason: Reason, toStoreCredit: Type.Optional(Type.Boolean()) },
          { additionalProperties: false },
        ),
        response: { 201: Refund, ...errorResponses(400, 401, 403, 404, 409, 422) },
      },
    }, async (request, reply) => {
      const principal = principalOf(request);
      const asAdmin = hasPermission(request, 'payments:refund');
      const asSeller = !asAdmin && ctx.config.SELLER_REFUNDS_ENABLED && hasPermission(request, 'payments:refund-own-group');
      if (!asAdmin && !asSeller) throw forbidden('Only an admin (or, where enabled, the seller of the items) can refund');
      const { amount, reason, toStoreCredit } = request.body;
      return respondIdempotently(
        {
          request,
          reply,
          db: ctx.db,
          transaction: ctx.transaction,
          scope: `payments.refund:${principal.userId}`,
          requestBody: { paymentId: request.params.id, ...request.body },
        },
        async (tx) => {
          const payment = await store.lockPayment(tx, request.params.id);
          if (!payment) throw notFound('Payment');
          let groupId: string | null = null;
          let limit: number | undefined;
          if (asSeller) {
            const order = await orders().getOrderForPayment(payment.orderId, tx);
            const group = order?.groups.find((g) => g.sellerId === principal.userId);
            if (!group) throw notFound('Payment');
            const refunds = await store.refundsOfPayment(tx, payment.id);
            groupId = group.groupId;
            limit = sellerRefundLimit(group.total.amount, refunds.filter((r) => r.groupId === groupId), refundableAmount(payment, refunds));
          }
          let refund;
          try {
            refund = await openRefund(ctx, tx, payment, {
              amount: amount?.amount,
              currency: amount?.currency,
              reason,
              toStoreCredit,
              actorId: principal.userId,
              groupId,
              limit,
            });
          } catch (error) {
            if (error instanceof RefundRefusedError) throw refundRefused(error);
            throw error;
          }
          await ctx.audit(tx, {
            actorId: principal.userId,
            actorRoles: principal.roles,
            action: 'payments.refund.create',
            targetType: 'payment',
            targetId: payment.id,
            details: { refundId: refund.id, amount: refund.amount, currency: refund.currency, reason, toStoreCredit: refund.toStoreCredit, groupId },
            ip: request.ip,
          });
          if (refund.status === 'pending') afterCommit(tx, () => deps.processing().refundSoon(refund.id, request.work));
          return { statusCode: 201, body: refundView(refund) };
        },
      );
    });

    // ------------------------------------------------------------ provider webhooks

    app.register(async (scope) => {
      // The signature covers the exact bytes the provider sent, so keep them next to the parsed body.
      scope.removeContentTypeParser('application/json');
      scope.addContentTypeParser('application/json', { parseAs: 'string' }, (request, body, done) => {
        (request as unknown as { rawBody: string }).rawBody = body as string;
        try {
          done(null, JSON.parse(body as string));
        } catch {
          const error = new Error('The body is not valid JSON') as FastifyError;
          error.statusCode = 400;
          done(error, undefined);
        }
      });
      const hooks = scope as unknown as HttpApp;
      hooks.post('/payments/webhooks/test-gateway', {
        schema: {
          tags: ['payments'],
          summary: "The built-in test gateway's webhooks (HMAC-SHA256 signed; a bad signature is a 400)",
          headers: Type.Object({ [SIGNATURE_HEADER]: Type.Optional(Type.String({ maxLength: 500 })) }),
          body: Type.Object({}, { additionalProperties: true }),
          response: { 200: Type.Object({ received: Type.Boolean() }), ...errorResponses(400) },
        },
      }, async (request) => {
        const raw = (request as unknown as { rawBody?: string }).rawBody ?? '';
        let event;
        try {
          event = deps.provider().verifyWebhook(raw, request.headers[SIGNATURE_HEADER] as string | undefined);
        } catch (error) {
          if (error instanceof WebhookSignatureError) {
            throw new Problem({ status: 400, type: 'invalid-signature', title: 'Invalid signature', detail: error.message });
          }
          throw error;
        }
        if (!Value.Check(WebhookEventSchema, event)) throw badRequest('The webhook event has an unexpected shape');
        const toRefund = await ctx.transaction(async (tx) => {
          if (!(await store.recordWebhookEvent(tx, event.id, event.type))) return [];
          if (event.type === 'refund.succeeded') {
            await settleRefundOutcome(ctx, tx, event.idempotencyKey, { kind: 'succeeded', providerRefundId: event.refundId ?? null });
            return [];
          }
          const payment = await store.lockPayment(tx, event.idempotencyKey);
          if (!payment || payment.method !== 'card') return [];
          const unsettled = payment.status === 'pending' || payment.status === 'processing';
          if (event.type === 'charge.failed') {
            if (unsettled) await settleChargeOutcome(ctx, tx, payment.id, { kind: 'failed', declineCode: event.declineCode ?? 'card_declined', message: 'Declined (reported by webhook)' });
            return [];
          }
          if (unsettled) return settleChargeOutcome(ctx, tx, payment.id, { kind: 'captured', authorizationId: null, chargeId: event.chargeId ?? 'unknown' });
          if ((payment.status === 'failed' || payment.status === 'cancelled') && !payment.chargeId && event.chargeId) {
            return [(await reverseLateCharge(ctx, tx, payment, event.chargeId)).id];
          }
          return [];
        }, request.work);
        for (const refundId of toRefund) deps.processing().refundSoon(refundId, request.work);
        return { received: true };
      });
    });

    // ------------------------------------------------------------ saved cards

    app.post('/payment-methods', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: "Save a card from the gateway's token; only the brand, last 4 digits and expiry are kept readable",
        security: bearer,
        body: Type.Object({ token: Type.String({ pattern: '^[A-Za-z0-9_]{1,255}$' }) }, { additionalProperties: false }),
        response: { 201: SavedMethod, ...errorResponses(400, 401, 409, 422, 503) },
      },
    }, async (request, reply) => {
      const { userId } = principalOf(request);
      // Checked before the gateway is asked too, so a full wallet costs no provider call.
      if ((await store.countSavedMethods(ctx.db, userId)) >= MAX_SAVED_METHODS_PER_USER) throw walletFull();
      let saved;
      try {
        saved = await callProvider(deps.policy(), () => deps.provider().saveCard(request.body.token));
      } catch (error) {
        if (error instanceof InvalidTokenError) throw unprocessable('invalid-payment-token', 'The gateway does not know this card token');
        if (isRetryLater(error)) {
          throw new Problem({ status: 503, type: 'payment-provider-unavailable', title: 'Payment provider unavailable', detail: 'Try again in a moment', headers: { 'retry-after': '5' } });
        }
        throw error;
      }
      const method = await ctx.transaction((tx) =>
        store.insertSavedMethod(tx, {
          id: newId(),
          userId,
          provider: deps.provider().name,
          // Sealed at rest: a database dump alone cannot charge anyone.
          tokenEnc: ctx.secrets.encrypt(saved.reusableToken),
          ...saved.card,
        }),
      request.work);
      if (!method) throw walletFull();
      return reply.status(201).send(savedMethodView(method));
    });

    app.get('/payment-methods', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'Your saved cards',
        security: bearer,
        querystring: Type.Object(ListQuery, { additionalProperties: false }),
        response: { 200: Page(SavedMethod), ...errorResponses(400, 401) },
      },
    }, async (request) => {
      // At most MAX_SAVED_METHODS_PER_USER rows: read whole, paged like every list.
      const { limit, cursor } = request.query;
      const after = decodeIdCursor(cursor);
      const all = await store.savedMethodsOf(ctx.db, principalOf(request).userId);
      const rest = after ? all.filter((m) => m.id > after) : all;
      const page = rest.slice(0, limit);
      return { items: page.map(savedMethodView), nextCursor: rest.length > limit ? encodeCursor([page[page.length - 1]!.id]) : null };
    });

    app.delete('/payment-methods/:id', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'Forget a saved card',
        security: bearer,
        params: IdParams,
        response: { 204: Type.Null(), ...errorResponses(401, 404) },
      },
    }, async (request, reply) => {
      const { userId } = principalOf(request);
      const deleted = await ctx.transaction((tx) => store.deleteSavedMethod(tx, userId, request.params.id), request.work);
      if (!deleted) throw notFound('Payment method');
      return reply.status(204).send(null);
    });

    // ------------------------------------------------------------ store credit

    /** An admin names the account: one that does not exist is a 404, not a ledger for nobody. */
    async function assertUserExists(userId: string) {
      if ((await accountExists(ctx.ports, userId)) === false) throw notFound('User');
    }

    async function storeCreditView(userId: string, cursor: string | undefined, limit: number) {
      const balance = await credit().balance(userId);
      const entries = await store.ledgerEntries(ctx.db, { userId, beforeSeq: ledgerCursor(cursor), limit });
      return {
        userId,
        balance: balance ?? { amount: 0, currency: entries[0]?.currency ?? 'USD' },
        entries: entries.map(ledgerEntryView),
        nextCursor: entries.length === limit ? encodeCursor([entries.at(-1)!.seq]) : null,
      };
    }

    app.get('/store-credit', {
      preHandler: requireUser,
      schema: {
        tags: ['payments'],
        summary: 'Your store credit: balance and ledger entries, newest first',
        security: bearer,
        querystring: Type.Object(ListQuery),
        response: { 200: StoreCredit, ...errorResponses(400, 401) },
      },
    }, async (request) => storeCreditView(principalOf(request).userId, request.query.cursor, request.query.limit));

    app.get('/admin/store-credit/:userId', {
      preHandler: requirePermission('store-credit:grant'),
      schema: {
        tags: ['payments'],
        summary: "A user's store credit",
        security: bearer,
        params: Type.Object({ userId: Type.String({ minLength: 1, maxLength: 100 }) }),
        querystring: Type.Object(ListQuery),
        response: { 200: StoreCredit, ...errorResponses(400, 401, 403, 404) },
      },
    }, async (request) => {
      await assertUserExists(request.params.userId);
      return storeCreditView(request.params.userId, request.query.cursor, request.query.limit);
    });

    app.post('/admin/store-credit', {
      preHandler: requirePermission('store-credit:grant'),
      schema: {
        tags: ['payments'],
        summary: 'Grant store credit to a user',
        security: bearer,
        body: Type.Object(
          { userId: Type.String({ minLength: 1, maxLength: 100 }), amount: MoneyInput, reason: Reason },
          { additionalProperties: false },
        ),
        response: { 201: Type.Object({ userId: Type.String(), balance: StoreCredit.properties.balance, entry: LedgerEntrySchema }), ...errorResponses(400, 401, 403, 404, 422) },
      },
    }, async (request, reply) => {
      const principal = principalOf(request);
      const { userId, amount, reason } = request.body;
      await assertUserExists(userId);
      const reference = newId();
      await ctx.transaction(async (tx) => {
        try {
          await credit().credit(tx, { userId, amount, reason, reference, actorId: principal.userId });
        } catch (error) {
          if (error instanceof PaymentRefusedError) throw paymentRefused(error);
          throw error;
        }
        await ctx.audit(tx, {
          actorId: principal.userId,
          actorRoles: principal.roles,
          action: 'payments.store_credit.grant',
          targetType: 'user',
          targetId: userId,
          details: { amount: amount.amount, currency: amount.currency, reason, reference },
          ip: request.ip,
        });
      }, request.work);
      const view = await storeCreditView(userId, undefined, 1);
      return reply.status(201).send({ userId, balance: view.balance, entry: view.entries[0]! });
    });
  };
}
