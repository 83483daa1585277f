import { Type, type Static } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { hasPermission, principalOf, requirePermission } from '../../kernel/http/auth.ts';
import { badRequest, conflict, forbidden, notFound } from '../../kernel/http/problem.ts';
import { decodeSeqCursor, encodeCursor, errorResponses, ListQuery, Page } from '../../kernel/http/schemas.ts';
import { newId } from '../../kernel/ids.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { DEFAULT_LOCATION_ID, InsufficientStockError, InventoryEvents, type LocationCreated } from './contract.ts';
import { createStockLedger } from './ledger.ts';
import * as store from './store.ts';

const Uuid = Type.String({ format: 'uuid' });
const Reason = Type.String({ minLength: 1, maxLength: 500 });

const Location = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('warehouse'), Type.Literal('store')]),
  sellable: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

const NewLocation = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Union([Type.Literal('warehouse'), Type.Literal('store')]),
    sellable: Type.Optional(Type.Boolean({ description: 'Counts towards online availability. Default: true for a warehouse, false for a store.' })),
  },
  { additionalProperties: false },
);

const StockView = Type.Object({
  variantId: Type.String(),
  available: Type.Integer({ description: 'On hand minus reserved, across sellable locations' }),
  reserved: Type.Integer({ description: 'Across sellable locations' }),
  onHand: Type.Integer({ description: 'Across sellable locations' }),
  lowStockThreshold: Type.Integer(),
  locations: Type.Array(
    Type.Object({
      locationId: Type.String(),
      name: Type.String(),
      sellable: Type.Boolean(),
      onHand: Type.Integer(),
      reserved: Type.Integer(),
      available: Type.Integer(),
    }),
  ),
});

const Movement = Type.Object({
  id: Type.String(),
  variantId: Type.String(),
  locationId: Type.String(),
  type: Type.String(),
  onHandDelta: Type.Integer(),
  reservedDelta: Type.Integer(),
  reason: Type.String(),
  reference: Type.Union([Type.String(), Type.Null()]),
  actorId: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

const Adjustment = Type.Object(
  {
    variantId: Uuid,
    delta: Type.Integer({ minimum: -1_000_000, maximum: 1_000_000, description: 'Change to on hand; not zero' }),
    reason: Reason,
    locationId: Type.Optional(Uuid),
  },
  { additionalProperties: false },
);

const Transfer = Type.Object(
  {
    variantId: Uuid,
    fromLocationId: Uuid,
    toLocationId: Uuid,
    quantity: Type.Integer({ minimum: 1, maximum: 1_000_000 }),
    reason: Type.Optional(Reason),
  },
  { additionalProperties: false },
);

const VariantParams = Type.Object({ variantId: Uuid });

export function inventoryRoutes(app: HttpApp, ctx: ModuleContext) {
  const ledger = createStockLedger(ctx);

  /** The variant, if the caller may see and change its stock: its seller, or staff who manage any stock. */
  async function ownedVariant(request: FastifyRequest, variantId: string) {
    const variant = await store.findVariant(ctx.db, variantId);
    if (!variant) throw notFound('Variant');
    const principal = principalOf(request);
    if (variant.sellerId !== principal.userId && !hasPermission(request, 'inventory:manage-any-stock')) {
      throw forbidden('Only the seller of this variant, warehouse staff or an admin may do this');
    }
    return variant;
  }

  async function stockView(variantId: string, threshold: number): Promise<Static<typeof StockView>> {
    const levels = await store.readLevels(ctx.db, variantId);
    const sellable = levels.filter((l) => l.sellable);
    const onHand = sellable.reduce((n, l) => n + l.onHand, 0);
    const reserved = sellable.reduce((n, l) => n + l.reserved, 0);
    return {
      variantId,
      onHand,
      reserved,
      available: onHand - reserved,
      lowStockThreshold: threshold,
      locations: levels.map((l) => ({ ...l, available: l.onHand - l.reserved })),
    };
  }

  function insufficient(error: InsufficientStockError) {
    return conflict('insufficient-stock', 'Not enough stock for this change', { shortages: error.shortages });
  }

  app.get('/inventory/locations', {
    preHandler: requirePermission('inventory:read'),
    schema: { tags: ['inventory'], security: [{ bearer: [] }], response: { 200: Type.Object({ items: Type.Array(Location) }), ...errorResponses(401, 403) } },
  }, async () => {
    const locations = await store.listLocations(ctx.db);
    return { items: locations.map((l) => ({ ...l, createdAt: l.createdAt.toISOString() })) };
  });

  app.post('/inventory/locations', {
    preHandler: requirePermission('inventory:manage-locations'),
    schema: { tags: ['inventory'], security: [{ bearer: [] }], body: NewLocation, response: { 201: Location, ...errorResponses(400, 401, 403) } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const { name, type } = request.body;
    const sellable = request.body.sellable ?? type === 'warehouse';
    const location = await ctx.transaction(async (tx) => {
      const created = await store.insertLocation(tx, { id: newId(), name, type, sellable });
      const data: LocationCreated = { location: { id: created.id, name, type, sellable } };
      await ctx.publish(tx, { type: InventoryEvents.LocationCreated, aggregateId: created.id, data });
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'inventory.location.create',
        targetType: 'location',
        targetId: created.id,
        details: { name, type, sellable },
        ip: request.ip,
      });
      return created;
    }, request.work);
    return reply.status(201).send({ ...location, createdAt: location.createdAt.toISOString() });
  });

  app.get('/inventory/:variantId', {
    preHandler: requirePermission('inventory:read'),
    schema: { tags: ['inventory'], security: [{ bearer: [] }], params: VariantParams, response: { 200: StockView, ...errorResponses(400, 401, 403, 404) } },
  }, async (request) => {
    const variant = await ownedVariant(request, request.params.variantId);
    return stockView(variant.variantId, variant.lowStockThreshold);
  });

  app.patch('/inventory/:variantId', {
    preHandler: requirePermission('inventory:adjust'),
    schema: {
      tags: ['inventory'],
      security: [{ bearer: [] }],
      params: VariantParams,
      body: Type.Object({ lowStockThreshold: Type.Integer({ minimum: 0, maximum: 1_000_000 }) }, { additionalProperties: false }),
      response: { 200: StockView, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const variant = await ownedVariant(request, request.params.variantId);
    const principal = principalOf(request);
    const { lowStockThreshold } = request.body;
    await ctx.transaction(async (tx) => {
      await store.setLowStockThreshold(tx, variant.variantId, lowStockThreshold);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'inventory.threshold.update',
        targetType: 'variant',
        targetId: variant.variantId,
        details: { lowStockThreshold, previous: variant.lowStockThreshold },
        ip: request.ip,
      });
    }, request.work);
    return stockView(variant.variantId, lowStockThreshold);
  });

  app.get('/inventory/:variantId/movements', {
    preHandler: requirePermission('inventory:read'),
    schema: {
      tags: ['inventory'],
      security: [{ bearer: [] }],
      params: VariantParams,
      querystring: Type.Object(ListQuery),
      response: { 200: Page(Movement), ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const variant = await ownedVariant(request, request.params.variantId);
    const { limit, cursor } = request.query;
    const rows = await store.listMovements(ctx.db, variant.variantId, limit + 1, decodeSeqCursor(cursor));
    const page = rows.slice(0, limit);
    return {
      items: page.map(({ seq: _seq, ...m }) => ({ ...m, createdAt: m.createdAt.toISOString() })),
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.seq]) : null,
    };
  });

  app.post('/inventory/adjustments', {
    preHandler: requirePermission('inventory:adjust'),
    schema: {
      tags: ['inventory'],
      security: [{ bearer: [] }],
      body: Adjustment,
      response: { 201: Type.Composite([StockView, Type.Object({ movementId: Type.String() })]), ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    const { variantId, delta, reason } = request.body;
    if (delta === 0) throw badRequest('An adjustment must change the stock', [{ path: '/delta', message: 'must not be 0' }]);
    const variant = await ownedVariant(request, variantId);
    const principal = principalOf(request);
    const locationId = request.body.locationId ?? DEFAULT_LOCATION_ID;
    if (!(await store.findLocation(ctx.db, locationId))) throw notFound('Location');
    try {
      const [movementId] = await ctx.transaction(async (tx) => {
        const ids = await ledger.move(tx, [
          { variantId, locationId, type: 'adjustment', onHandDelta: delta, reservedDelta: 0, reason, reference: null, actorId: principal.userId },
        ]);
        await ctx.audit(tx, {
          actorId: principal.userId,
          actorRoles: principal.roles,
          action: 'inventory.stock.adjust',
          targetType: 'variant',
          targetId: variantId,
          details: { delta, reason, locationId },
          ip: request.ip,
        });
        return ids;
      }, request.work);
      return reply.status(201).send({ ...(await stockView(variantId, variant.lowStockThreshold)), movementId: movementId! });
    } catch (error) {
      if (error instanceof InsufficientStockError) throw insufficient(error);
      throw error;
    }
  });

  app.post('/inventory/transfers', {
    preHandler: requirePermission('inventory:adjust'),
    schema: { tags: ['inventory'], security: [{ bearer: [] }], body: Transfer, response: { 201: StockView, ...errorResponses(400, 401, 403, 404, 409) } },
  }, async (request, reply) => {
    const { variantId, fromLocationId, toLocationId, quantity } = request.body;
    if (fromLocationId === toLocationId) {
      throw badRequest('A transfer needs two different locations', [{ path: '/toLocationId', message: 'must differ from fromLocationId' }]);
    }
    const variant = await ownedVariant(request, variantId);
    const principal = principalOf(request);
    for (const id of [fromLocationId, toLocationId]) if (!(await store.findLocation(ctx.db, id))) throw notFound('Location');
    const reason = request.body.reason ?? 'transfer';
    const reference = newId();
    try {
      await ctx.transaction(async (tx) => {
        await ledger.move(tx, [
          { variantId, locationId: fromLocationId, type: 'transfer_out', onHandDelta: -quantity, reservedDelta: 0, reason, reference, actorId: principal.userId },
          { variantId, locationId: toLocationId, type: 'transfer_in', onHandDelta: quantity, reservedDelta: 0, reason, reference, actorId: principal.userId },
        ]);
        await ctx.audit(tx, {
          actorId: principal.userId,
          actorRoles: principal.roles,
          action: 'inventory.stock.transfer',
          targetType: 'variant',
          targetId: variantId,
          details: { fromLocationId, toLocationId, quantity, reason, transferId: reference },
          ip: request.ip,
        });
      }, request.work);
    } catch (error) {
      if (error instanceof InsufficientStockError) throw insufficient(error);
      throw error;
    }
    return reply.status(201).send(await stockView(variantId, variant.lowStockThreshold));
  });
}
