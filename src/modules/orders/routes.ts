import { Type } from '@sinclair/typebox';
import type { preValidationAsyncHookHandler } from 'fastify';
import { can } from '../../kernel/auth/permissions.ts';
import { hasPermission, principalOf, requirePermission, requireUser, type Principal } from '../../kernel/http/auth.ts';
import { respondIdempotently } from '../../kernel/http/idempotency.ts';
import { badRequest, conflict, forbidden, notFound } from '../../kernel/http/problem.ts';
import { decodeCursor, encodeCursor, errorResponses, IdParams, ListQuery, Page } from '../../kernel/http/schemas.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { MAX_LINE_QUANTITY } from '../cart/contract.ts';
import { placeOrder, prepareCheckout } from './checkout.ts';
import type { OrderStatus } from './contract.ts';
import { deliverGroups, shipGroups } from './fulfilment.ts';
import { cancel } from './lifecycle.ts';
import { cancellationRefusal, InvalidTransitionError } from './service.ts';
import * as store from './store.ts';
import type { OrderRecord } from './store.ts';
import { Order, orderView, ShippingAddressSchema } from './views.ts';
import { orderWatchOf, RECHECK_MS } from './watch.ts';

const bearer = [{ bearer: [] }];
const Id = Type.String({ minLength: 1, maxLength: 100 });
const StatusFilter = Type.Union(
  ['pending', 'payment_failed', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded'].map((s) => Type.Literal(s)),
);

const PaymentInput = Type.Union([
  Type.Object(
    { method: Type.Literal('card'), token: Type.String({ pattern: '^[A-Za-z0-9_]{1,255}$', description: "The gateway's card token" }) },
    { additionalProperties: false },
  ),
  Type.Object({ method: Type.Literal('card'), savedMethodId: Type.String({ format: 'uuid' }) }, { additionalProperties: false }),
  Type.Object({ method: Type.Literal('cod') }, { additionalProperties: false }),
  Type.Object({ method: Type.Literal('store_credit') }, { additionalProperties: false }),
]);

const PlaceOrderBody = Type.Object(
  {
    items: Type.Optional(
      Type.Array(
        Type.Object(
          { productId: Id, variantId: Type.Optional(Id), quantity: Type.Integer({ minimum: 1, maximum: MAX_LINE_QUANTITY }) },
          { additionalProperties: false },
        ),
        { minItems: 1, maxItems: 100, description: "Omit to check out the signed-in user's cart" },
      ),
    ),
    shippingAddress: ShippingAddressSchema,
    payment: PaymentInput,
    couponCode: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
  },
  { additionalProperties: false },
);

const Reason = Type.String({ minLength: 1, maxLength: 500 });

/** Actions without anything to say may be sent without a body. */
const emptyBodyIsEmptyObject: preValidationAsyncHookHandler = async (request) => {
  request.body ??= {};
};

function asProblem(error: unknown): never {
  if (error instanceof InvalidTransitionError) {
    throw conflict('invalid-transition', error.message, { from: error.from, to: error.to });
  }
  throw error;
}

type Viewer = { kind: 'full' } | { kind: 'seller'; sellerId: string } | { kind: 'none' };

/** Owner, admin and support see the whole order; a seller holding items in it sees its own part. */
function viewerOf(order: OrderRecord, principal: Principal): Viewer {
  if (order.userId === principal.userId || can(principal.roles, 'orders:read-any')) return { kind: 'full' };
  if (can(principal.roles, 'orders:read-own-groups') && order.groups.some((g) => g.sellerId === principal.userId)) {
    return { kind: 'seller', sellerId: principal.userId };
  }
  return { kind: 'none' };
}

function render(order: OrderRecord, viewer: Viewer) {
  return orderView(order, viewer.kind === 'seller' ? viewer.sellerId : undefined);
}

/** The id the next page starts below (order ids are UUID v7, so id order is creation order). */
function pageOf(query: { cursor?: string }) {
  const cursor = decodeCursor(query.cursor, 1);
  const before = cursor ? String(cursor[0]) : undefined;
  if (before && !store.isOrderId(before)) throw badRequest('The cursor is not valid', [{ path: 'querystring:/cursor', message: 'is not a cursor this API issued' }]);
  return before;
}

export function ordersRoutes(app: HttpApp, ctx: ModuleContext) {
  const watch = orderWatchOf(ctx);
  app.post('/orders', {
    preHandler: requireUser,
    schema: {
      tags: ['orders'],
      summary: 'Place an order (from `items`, or the cart) — stock is reserved now, payment runs asynchronously',
      description: 'Send an `Idempotency-Key` header: a retry with the same key and body returns the first response.',
      security: bearer,
      headers: Type.Object({ 'idempotency-key': Type.Optional(Type.String({ maxLength: 255 })) }),
      body: PlaceOrderBody,
      response: { 201: Order, ...errorResponses(400, 401, 409, 413, 422) },
    },
  }, async (request, reply) => {
    const { userId } = principalOf(request);
    return respondIdempotently(
      {
        request,
        reply,
        db: ctx.db,
        transaction: ctx.transaction,
        scope: `orders.place:${userId}`,
        requestBody: request.body,
        prepare: () => prepareCheckout(ctx, userId, request.body),
      },
      async (tx, prepared) => ({ statusCode: 201, body: orderView(await placeOrder(ctx, tx, prepared)) }),
    );
  });

  app.get('/orders', {
    preHandler: requireUser,
    schema: {
      tags: ['orders'],
      summary: "The signed-in user's orders, newest first",
      security: bearer,
      querystring: Type.Object({ ...ListQuery, status: Type.Optional(StatusFilter) }),
      response: { 200: Page(Order), ...errorResponses(400, 401) },
    },
  }, async (request) => {
    const { userId } = principalOf(request);
    const { limit, status } = request.query;
    const ids = await store.listOrderIds(ctx.db, { userId, status: status as OrderStatus | undefined, before: pageOf(request.query), limit });
    const orders = await store.loadOrders(ctx.db, ids);
    return { items: orders.map((o) => orderView(o)), nextCursor: ids.length === limit ? encodeCursor([ids.at(-1)!]) : null };
  });

  app.get('/admin/orders', {
    preHandler: requirePermission('orders:read-any'),
    schema: {
      tags: ['orders'],
      summary: 'All orders, newest first, optionally by status',
      security: bearer,
      querystring: Type.Object({ ...ListQuery, status: Type.Optional(StatusFilter) }),
      response: { 200: Page(Order), ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { limit, status } = request.query;
    const ids = await store.listOrderIds(ctx.db, { status: status as OrderStatus | undefined, before: pageOf(request.query), limit });
    const orders = await store.loadOrders(ctx.db, ids);
    return { items: orders.map((o) => orderView(o)), nextCursor: ids.length === limit ? encodeCursor([ids.at(-1)!]) : null };
  });

  app.get('/seller/orders', {
    preHandler: requirePermission('orders:read-own-groups'),
    schema: {
      tags: ['orders'],
      summary: "The signed-in seller's part of each order holding its items, newest first",
      security: bearer,
      querystring: Type.Object({
        ...ListQuery,
        status: Type.Optional(Type.Union(['pending', 'shipped', 'delivered', 'cancelled'].map((s) => Type.Literal(s)), { description: 'Status of the seller’s group' })),
      }),
      response: { 200: Page(Order), ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { userId } = principalOf(request);
    const { limit, status } = request.query;
    const ids = await store.listSellerOrderIds(ctx.db, { sellerId: userId, status, before: pageOf(request.query), limit });
    const orders = await store.loadOrders(ctx.db, ids);
    return { items: orders.map((o) => orderView(o, userId)), nextCursor: ids.length === limit ? encodeCursor([ids.at(-1)!]) : null };
  });

  app.get('/orders/:id', {
    preHandler: requireUser,
    schema: {
      tags: ['orders'],
      summary: 'One order (a seller sees only its own lines and group)',
      description:
        'With `waitWhileStatus`, an order still in that status is answered only when its status changes or after ' +
        '`waitSeconds` (default 10): a checkout page waiting for its payment asks once instead of polling.',
      security: bearer,
      params: IdParams,
      querystring: Type.Object({
        waitWhileStatus: Type.Optional(StatusFilter),
        waitSeconds: Type.Integer({ minimum: 1, maximum: 30, default: 10 }),
      }),
      response: { 200: Order, ...errorResponses(400, 401, 404) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const { waitWhileStatus, waitSeconds } = request.query;
    // A waiter for an order this process has just placed or changed, still in the awaited status, waits
    // without reading it first (watch.ts says why that is safe).
    const known = waitWhileStatus ? watch.recent(request.params.id) : undefined;
    let order = known && known.status === waitWhileStatus ? known : await store.loadOrder(ctx.db, request.params.id);
    const viewer = order ? viewerOf(order, principal) : { kind: 'none' as const };
    if (!order || viewer.kind === 'none') throw notFound('Order');
    if (waitWhileStatus && order.status === waitWhileStatus) {
      const deadline = Date.now() + waitSeconds * 1000;
      let gone = false;
      const leave = () => (gone = true);
      reply.raw.once('close', leave);
      try {
        // A change committed between a read and the wait is seen at the next re-check, a second later.
        while (order!.status === waitWhileStatus && !gone && Date.now() < deadline) {
          const committed = await watch.wait(order!.id, Math.min(RECHECK_MS, deadline - Date.now()));
          if (!gone) order = committed ?? (await store.loadOrder(ctx.db, order!.id)) ?? order;
        }
      } finally {
        reply.raw.off('close', leave);
      }
    }
    return render(order!, viewer);
  });

  app.post('/orders/:id/cancel', {
    preHandler: requireUser,
    preValidation: emptyBodyIsEmptyObject,
    schema: {
      tags: ['orders'],
      summary: 'Cancel an order: the owner before it ships, an admin before delivery; stock goes back, a captured payment is refunded',
      security: bearer,
      params: IdParams,
      body: Type.Object({ reason: Type.Optional(Reason) }, { additionalProperties: false }),
      response: { 200: Order, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const isAdmin = hasPermission(request, 'orders:manage');
    const order = await ctx.transaction(async (tx) => {
      const order = await store.lockOrder(tx, request.params.id);
      if (!order) throw notFound('Order');
      const owner = order.userId === principal.userId;
      if (!owner && !isAdmin) {
        if (viewerOf(order, principal).kind === 'none') throw notFound('Order');
        throw forbidden('Only the customer or an admin can cancel an order');
      }
      const by = isAdmin ? 'admin' : 'owner';
      const refusal = cancellationRefusal({ ...order, anyGroupShipped: order.groups.some((g) => g.status !== 'pending') }, by);
      if (refusal) throw conflict('invalid-transition', refusal, { from: order.status, to: 'cancelled' });
      const reason = request.body.reason ?? (by === 'owner' ? 'cancelled by the customer' : 'cancelled by an admin');
      await cancel(ctx, tx, order, { actorId: principal.userId, reason });
      if (by === 'admin') {
        await ctx.audit(tx, {
          actorId: principal.userId,
          actorRoles: principal.roles,
          action: 'orders.order.cancel',
          targetType: 'order',
          targetId: order.id,
          details: { reason },
          ip: request.ip,
        });
      }
      return order;
    }, request.work);
    return orderView(order);
  });

  app.post('/orders/:id/ship', {
    preHandler: requirePermission('orders:ship'),
    schema: {
      tags: ['orders'],
      summary: "Mark a paid order's parcel shipped (a seller ships its own group; an admin one group or all)",
      security: bearer,
      params: IdParams,
      body: Type.Object(
        {
          trackingNumber: Type.String({ minLength: 1, maxLength: 100 }),
          carrier: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
          groupId: Type.Optional(Id),
        },
        { additionalProperties: false },
      ),
      response: { 200: Order, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const sellerId = hasPermission(request, 'orders:manage') ? null : principal.userId;
    const order = await ctx.transaction(async (tx) => {
      const order = await store.lockOrder(tx, request.params.id);
      if (!order) throw notFound('Order');
      await shipGroups(ctx, tx, order, { userId: principal.userId, sellerId }, request.body).catch(asProblem);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'orders.order.ship',
        targetType: 'order',
        targetId: order.id,
        details: { ...request.body },
        ip: request.ip,
      });
      return order;
    }, request.work);
    return orderView(order, sellerId ?? undefined);
  });

  app.post('/orders/:id/deliver', {
    preHandler: requirePermission('orders:deliver'),
    preValidation: emptyBodyIsEmptyObject,
    schema: {
      tags: ['orders'],
      summary: 'Mark a shipped parcel delivered (admin, delivery agent); the order is delivered once every parcel is',
      security: bearer,
      params: IdParams,
      body: Type.Object({ groupId: Type.Optional(Id) }, { additionalProperties: false }),
      response: { 200: Order, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const order = await ctx.transaction(async (tx) => {
      const order = await store.lockOrder(tx, request.params.id);
      if (!order) throw notFound('Order');
      await deliverGroups(ctx, tx, order, { userId: principal.userId, sellerId: null }, request.body.groupId).catch(asProblem);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'orders.order.deliver',
        targetType: 'order',
        targetId: order.id,
        details: { groupId: request.body.groupId ?? null },
        ip: request.ip,
      });
      return order;
    }, request.work);
    return orderView(order);
  });

  // --- tax rates (admin) ---

  const TaxRate = Type.Object({ country: Type.String(), rateBps: Type.Integer(), updatedAt: Type.String({ format: 'date-time' }) });
  const taxRateView = (r: store.TaxRateRecord) => ({ country: r.country, rateBps: r.rateBps, updatedAt: r.updatedAt.toISOString() });

  app.put('/admin/tax-rates/:country', {
    preHandler: requirePermission('tax:manage'),
    schema: {
      tags: ['orders'],
      summary: 'Set the tax rate of a shipping country, in basis points (prices are tax-exclusive)',
      security: bearer,
      params: Type.Object({ country: Type.String({ pattern: '^[A-Z]{2}$' }) }),
      body: Type.Object({ rateBps: Type.Integer({ minimum: 0, maximum: 10_000 }) }, { additionalProperties: false }),
      response: { 200: TaxRate, ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const saved = await ctx.transaction(async (tx) => {
      const saved = await store.upsertTaxRate(tx, request.params.country, request.body.rateBps, principal.userId);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'orders.tax_rate.set',
        targetType: 'tax_rate',
        targetId: saved.country,
        details: { rateBps: saved.rateBps },
        ip: request.ip,
      });
      return saved;
    }, request.work);
    store.recentTaxRates(ctx).delete(saved.country);
    return taxRateView(saved);
  });

  app.get('/admin/tax-rates', {
    preHandler: requirePermission('tax:manage'),
    schema: {
      tags: ['orders'],
      summary: 'Tax rates per shipping country (a country without one is taxed at 0)',
      security: bearer,
      response: { 200: Type.Object({ items: Type.Array(TaxRate) }), ...errorResponses(401, 403) },
    },
  }, async () => ({ items: (await store.listTaxRates(ctx.db)).map(taxRateView) }));
}
