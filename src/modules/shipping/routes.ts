import { Type } from '@sinclair/typebox';
import { principalOf, requirePermission } from '../../kernel/http/auth.ts';
import { errorResponses } from '../../kernel/http/schemas.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { ShippingEvents, type RateChanged, type ShippingRate } from './contract.ts';
import { FREE_SHIPPING } from './service.ts';
import { findRates, recentRates, upsertRate } from './store.ts';

const bearer = [{ bearer: [] }];
const Amount = Type.Integer({ minimum: 0, maximum: 100_000_000, description: 'Minor units' });
const Currency = Type.String({ pattern: '^[A-Z]{3}$', description: 'Default USD' });

const RateInput = Type.Union([
  Type.Object({ kind: Type.Literal('flat'), amount: Amount, currency: Type.Optional(Currency) }, { additionalProperties: false }),
  Type.Object(
    { kind: Type.Literal('weight'), baseAmount: Amount, perKgAmount: Amount, currency: Type.Optional(Currency) },
    { additionalProperties: false },
  ),
]);

const RateView = Type.Object({
  sellerId: Type.String(),
  kind: Type.Union([Type.Literal('flat'), Type.Literal('weight')]),
  amount: Type.Optional(Type.Integer()),
  baseAmount: Type.Optional(Type.Integer()),
  perKgAmount: Type.Optional(Type.Integer()),
  currency: Type.String(),
  /** True when the seller configured nothing and ships for free. */
  isDefault: Type.Boolean(),
  updatedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

function rateView(sellerId: string, rate: ShippingRate, updatedAt: Date | null) {
  return { sellerId, ...rate, isDefault: updatedAt === null, updatedAt: updatedAt ? updatedAt.toISOString() : null };
}

export function shippingRoutes(app: HttpApp, ctx: ModuleContext) {
  app.put('/shipping/rates', {
    preHandler: requirePermission('shipping:manage-own-rates'),
    schema: {
      tags: ['shipping'],
      summary: "Set the signed-in seller's shipping rate (flat per parcel, or base + per started kg)",
      security: bearer,
      body: RateInput,
      response: { 200: RateView, ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const body = request.body;
    const rate: ShippingRate =
      body.kind === 'flat'
        ? { kind: 'flat', amount: body.amount, currency: body.currency ?? 'USD' }
        : { kind: 'weight', baseAmount: body.baseAmount, perKgAmount: body.perKgAmount, currency: body.currency ?? 'USD' };
    const stored = await ctx.transaction(async (tx) => {
      const saved = await upsertRate(tx, principal.userId, rate, principal.userId);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'shipping.rate.set',
        targetType: 'shipping_rate',
        targetId: principal.userId,
        details: { ...rate },
        ip: request.ip,
      });
      const data: RateChanged = { sellerId: principal.userId, rate };
      await ctx.publish(tx, { type: ShippingEvents.RateChanged, aggregateId: principal.userId, data });
      return saved;
    }, request.work);
    recentRates(ctx).delete(principal.userId);
    return rateView(stored.sellerId, stored.rate, stored.updatedAt);
  });

  app.get('/shipping/rates/:sellerId', {
    schema: {
      tags: ['shipping'],
      summary: "A seller's shipping rate (flat 0 when the seller set none)",
      params: Type.Object({ sellerId: Type.String({ minLength: 1, maxLength: 100 }) }),
      response: { 200: RateView, ...errorResponses(400) },
    },
  }, async (request) => {
    const { sellerId } = request.params;
    const stored = (await findRates(ctx.db, [sellerId])).get(sellerId);
    return stored ? rateView(sellerId, stored.rate, stored.updatedAt) : rateView(sellerId, FREE_SHIPPING, null);
  });
}
