import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { hasPermission, principalOf, requirePermission } from '../../kernel/http/auth.ts';
import { badRequest, conflict, forbidden, notFound, unprocessable } from '../../kernel/http/problem.ts';
import { decodeIdCursor, encodeCursor, errorResponses, ListQuery, MoneyRef, Page } from '../../kernel/http/schemas.ts';
import { newId } from '../../kernel/ids.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { accountExists } from '../identity/contract.ts';
import { PromotionEvents } from './contract.ts';
import { codeKey } from './service.ts';
import { DuplicateCodeError, findCouponById, insertCoupon, listCoupons, updateCoupon, type CouponChanges, type CouponRecord } from './store.ts';

const MAX_AMOUNT = 1_000_000_000_000;
/** The currency of an amount that names none, for a coupon created without one. */
const DEFAULT_CURRENCY = 'USD';
const Kind = Type.Union([Type.Literal('percentage'), Type.Literal('fixed'), Type.Literal('free_shipping')]);
const Instant = Type.String({ format: 'date-time', maxLength: 40 });
const Uuid = Type.String({ format: 'uuid' });

const Currency = Type.String({ pattern: '^[A-Z]{3}$' });
/** An amount as API.md's Money (`{ amount, currency }`), or a bare integer in the coupon's currency. */
const AmountInput = Type.Union([
  Type.Integer({ minimum: 0, maximum: MAX_AMOUNT }),
  Type.Object({ amount: Type.Integer({ minimum: 0, maximum: MAX_AMOUNT }), currency: Currency }, { additionalProperties: false }),
]);
type AmountInput = Static<typeof AmountInput>;

/** An optional field a coupon's view shows as null when unset: null is taken as "not given". */
const Unset = <T extends TSchema>(schema: T) => Type.Optional(Type.Union([schema, Type.Null()]));

const CouponBody = Type.Object(
  {
    code: Type.String({ pattern: '^[A-Za-z0-9][A-Za-z0-9_-]{2,39}$', description: 'Case-insensitive; 3-40 letters, digits, - or _' }),
    kind: Kind,
    value: Type.Optional(Type.Union([AmountInput], { description: 'Percent (1..100, an integer), or the amount off (Money, or minor units); unused for free_shipping' })),
    // The view's names (and its nulls for what is unset) are accepted too, so a coupon read back can be
    // posted again as it reads.
    percentOff: Unset(Type.Integer({ minimum: 1, maximum: 100, description: "A percentage coupon's percent (instead of value)" })),
    amountOff: Unset(Type.Union([AmountInput], { description: "A fixed coupon's amount off (instead of value)" })),
    currency: Unset(Currency),
    minSubtotal: Unset(AmountInput),
    startsAt: Unset(Instant),
    endsAt: Unset(Instant),
    usageLimit: Unset(Type.Integer({ minimum: 1, maximum: 1_000_000_000 })),
    perCustomerLimit: Unset(Type.Integer({ minimum: 1, maximum: 1_000_000 })),
    sellerId: Unset(Uuid),
  },
  { additionalProperties: false },
);
type CouponInput = { [K in keyof Static<typeof CouponBody>]: Exclude<Static<typeof CouponBody>[K], null> };

/** The body with its nulls taken as absent fields. */
function withoutNulls(body: Static<typeof CouponBody>): CouponInput {
  return Object.fromEntries(Object.entries(body).filter(([, value]) => value !== null)) as CouponInput;
}

const CouponPatch = Type.Object(
  {
    active: Type.Optional(Type.Boolean()),
    startsAt: Type.Optional(Type.Union([Instant, Type.Null()])),
    endsAt: Type.Optional(Type.Union([Instant, Type.Null()])),
    usageLimit: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000_000 }), Type.Null()])),
    perCustomerLimit: Type.Optional(Type.Union([Type.Integer({ minimum: 1, maximum: 1_000_000 }), Type.Null()])),
    minSubtotal: Type.Optional(Type.Union([AmountInput, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);

const CouponView = Type.Object({
  id: Type.String(),
  code: Type.String(),
  kind: Kind,
  // API.md's money is always { amount, currency }, so the view names what the input's `value` meant.
  percentOff: Type.Union([Type.Integer(), Type.Null()], { description: 'A percentage coupon\'s percent; null otherwise' }),
  amountOff: Type.Union([MoneyRef, Type.Null()], { description: 'A fixed coupon\'s amount off; null otherwise' }),
  currency: Type.Union([Type.String(), Type.Null()]),
  minSubtotal: Type.Union([MoneyRef, Type.Null()]),
  startsAt: Type.Union([Type.String(), Type.Null()]),
  endsAt: Type.Union([Type.String(), Type.Null()]),
  usageLimit: Type.Union([Type.Integer(), Type.Null()]),
  perCustomerLimit: Type.Union([Type.Integer(), Type.Null()]),
  sellerId: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  usedCount: Type.Integer(),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});
type CouponView = Static<typeof CouponView>;

const toView = (c: CouponRecord): CouponView => ({
  id: c.id,
  code: c.code,
  kind: c.kind,
  percentOff: c.kind === 'percentage' ? c.value : null,
  amountOff: c.kind === 'fixed' ? { amount: c.value, currency: c.currency ?? DEFAULT_CURRENCY } : null,
  currency: c.currency,
  minSubtotal: c.minSubtotal === null ? null : { amount: c.minSubtotal, currency: c.currency ?? DEFAULT_CURRENCY },
  startsAt: c.startsAt?.toISOString() ?? null,
  endsAt: c.endsAt?.toISOString() ?? null,
  usageLimit: c.usageLimit,
  perCustomerLimit: c.perCustomerLimit,
  sellerId: c.sellerId,
  active: c.active,
  usedCount: c.usedCount,
  createdAt: c.createdAt.toISOString(),
  updatedAt: c.updatedAt.toISOString(),
});

function checkWindow(startsAt: Date | null, endsAt: Date | null) {
  if (startsAt && endsAt && endsAt <= startsAt) {
    throw badRequest('A coupon must end after it starts', [{ path: '/endsAt', message: 'must be later than startsAt' }]);
  }
}

/** Admins see every coupon; a seller sees its own only, and others' are "not found" rather than "forbidden". */
async function visibleCoupon(ctx: ModuleContext, request: FastifyRequest, id: string): Promise<CouponRecord> {
  const coupon = await findCouponById(ctx.db, id);
  const principal = principalOf(request);
  if (!coupon || (!hasPermission(request, 'promotions:manage-any') && coupon.sellerId !== principal.userId)) throw notFound('Coupon');
  return coupon;
}

export function promotionRoutes(app: HttpApp, ctx: ModuleContext) {
  const manage = requirePermission('promotions:manage');

  app.post('/coupons', {
    preHandler: manage,
    schema: { tags: ['promotions'], body: CouponBody, response: { 201: CouponView, ...errorResponses(400, 401, 403, 409, 422) } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    const body = withoutNulls(request.body);
    const anySeller = hasPermission(request, 'promotions:manage-any');
    if (!anySeller && body.sellerId && body.sellerId !== principal.userId) throw forbidden('A seller creates coupons for its own items only');
    const sellerId = anySeller ? (body.sellerId ?? null) : principal.userId;
    if (sellerId && sellerId !== principal.userId && (await accountExists(ctx.ports, sellerId)) === false) {
      throw unprocessable('unknown-seller', 'No account has that sellerId');
    }

    const given = (['value', 'percentOff', 'amountOff'] as const).filter((field) => body[field] !== undefined);
    if (given.length > 1) {
      throw badRequest(`Give the coupon's value once: ${given.join(' and ')} both say it`, given.slice(1).map((field) => ({ path: `/${field}`, message: `must not be given with ${given[0]}` })));
    }
    if (body.percentOff !== undefined && body.kind !== 'percentage') {
      throw badRequest('percentOff is for a percentage coupon', [{ path: '/percentOff', message: `is not used by a ${body.kind} coupon` }]);
    }
    if (body.amountOff !== undefined && body.kind !== 'fixed') {
      throw badRequest('amountOff is for a fixed coupon', [{ path: '/amountOff', message: `is not used by a ${body.kind} coupon` }]);
    }
    const field = given[0] ?? 'value';
    const valueInput = body.value ?? body.percentOff ?? body.amountOff;
    if (body.kind === 'percentage' && typeof valueInput === 'object') {
      throw badRequest('A percentage is a number, not an amount of money', [{ path: `/${field}`, message: 'must be integer' }]);
    }
    // One currency for the coupon, whichever fields name it.
    const named = [body.currency, currencyOf(valueInput), currencyOf(body.minSubtotal)].filter((c): c is string => c !== undefined);
    if (new Set(named).size > 1) throw badRequest('The coupon\'s amounts and currency must name one currency', [{ path: '/currency', message: 'differs from an amount\'s currency' }]);
    const value = body.kind === 'free_shipping' ? (amountOf(valueInput) ?? 0) : amountOf(valueInput);
    if (value === undefined) throw badRequest(`A ${body.kind} coupon needs a value`, [{ path: '/value', message: `is required (or ${body.kind === 'percentage' ? 'percentOff' : 'amountOff'})` }]);
    if (body.kind === 'percentage' && (value < 1 || value > 100)) {
      throw badRequest('A percentage is between 1 and 100', [{ path: `/${field}`, message: 'must be between 1 and 100' }]);
    }
    if (body.kind === 'fixed' && value < 1) throw badRequest('A fixed discount is at least 1 minor unit', [{ path: `/${field}`, message: 'must be at least 1' }]);
    const startsAt = body.startsAt ? new Date(body.startsAt) : null;
    const endsAt = body.endsAt ? new Date(body.endsAt) : null;
    checkWindow(startsAt, endsAt);

    const coupon = await ctx.transaction(async (tx) => {
      let created: CouponRecord;
      try {
        created = await insertCoupon(tx, {
          id: newId(),
          code: body.code,
          codeKey: codeKey(body.code),
          kind: body.kind,
          value,
          // An amount (off, or a minimum) means nothing without its currency; a bare percentage works in any.
          currency: named[0] ?? (body.kind === 'fixed' || body.minSubtotal !== undefined ? DEFAULT_CURRENCY : null),
          minSubtotal: amountOf(body.minSubtotal) ?? null,
          startsAt,
          endsAt,
          usageLimit: body.usageLimit ?? null,
          perCustomerLimit: body.perCustomerLimit ?? null,
          sellerId,
          active: true,
          createdBy: principal.userId,
        });
      } catch (error) {
        if (error instanceof DuplicateCodeError) throw conflict('coupon-code-taken', `A coupon with code ${body.code} already exists`);
        throw error;
      }
      const view = toView(created);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'promotions.coupon.create',
        targetType: 'coupon',
        targetId: created.id,
        details: view,
      });
      await ctx.publish(tx, { type: PromotionEvents.CouponCreated, aggregateId: created.id, data: { coupon: view } });
      return view;
    }, request.work);
    return reply.status(201).send(coupon);
  });

  app.get('/coupons', {
    preHandler: manage,
    schema: {
      tags: ['promotions'],
      querystring: Type.Object({ ...ListQuery, sellerId: Type.Optional(Uuid) }, { additionalProperties: false }),
      response: { 200: Page(CouponView), ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const { limit, cursor } = request.query;
    const sellerId = hasPermission(request, 'promotions:manage-any') ? request.query.sellerId : principal.userId;
    const before = decodeIdCursor(cursor);
    const rows = await listCoupons(ctx.db, { sellerId, before, limit: limit + 1 });
    const page = rows.slice(0, limit);
    return { items: page.map(toView), nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.id]) : null };
  });

  app.get('/coupons/:id', {
    preHandler: manage,
    schema: { tags: ['promotions'], params: Type.Object({ id: Uuid }), response: { 200: CouponView, ...errorResponses(400, 401, 403, 404) } },
  }, async (request) => toView(await visibleCoupon(ctx, request, request.params.id)));

  app.patch('/coupons/:id', {
    preHandler: manage,
    schema: {
      tags: ['promotions'],
      params: Type.Object({ id: Uuid }),
      body: CouponPatch,
      response: { 200: CouponView, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    const current = await visibleCoupon(ctx, request, request.params.id);
    const body = request.body;
    const instant = (v: string | null | undefined) => (v === undefined ? undefined : v === null ? null : new Date(v));
    const changes: CouponChanges = {
      active: body.active,
      startsAt: instant(body.startsAt),
      endsAt: instant(body.endsAt),
      usageLimit: body.usageLimit,
      perCustomerLimit: body.perCustomerLimit,
      minSubtotal: body.minSubtotal === null ? null : amountOf(body.minSubtotal),
    };
    const minCurrency = currencyOf(body.minSubtotal ?? undefined);
    if (body.minSubtotal != null && current.currency === null) {
      throw badRequest('This coupon applies in any currency, so a minimum subtotal would have none; create a coupon in one currency', [
        { path: '/minSubtotal', message: 'needs a coupon with a currency' },
      ]);
    }
    if (minCurrency && current.currency && minCurrency !== current.currency) {
      throw badRequest(`This coupon is in ${current.currency}`, [{ path: '/minSubtotal/currency', message: `must be ${current.currency}` }]);
    }
    checkWindow(changes.startsAt === undefined ? current.startsAt : changes.startsAt, changes.endsAt === undefined ? current.endsAt : changes.endsAt);
    return ctx.transaction(async (tx) => {
      const updated = await updateCoupon(tx, current.id, changes);
      if (!updated) throw notFound('Coupon');
      const view = toView(updated);
      await ctx.audit(tx, {
        actorId: principal.userId,
        actorRoles: principal.roles,
        action: 'promotions.coupon.update',
        targetType: 'coupon',
        targetId: updated.id,
        details: { changes: body },
      });
      await ctx.publish(tx, { type: PromotionEvents.CouponUpdated, aggregateId: updated.id, data: { coupon: view } });
      return view;
    }, request.work);
  });
}

const amountOf = (input: AmountInput | undefined): number | undefined => (input === undefined ? undefined : typeof input === 'number' ? input : input.amount);
const currencyOf = (input: AmountInput | undefined): string | undefined => (typeof input === 'object' ? input.currency : undefined);
