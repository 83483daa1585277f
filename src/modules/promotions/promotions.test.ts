import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../kernel/ids.ts';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { admin, caller, coupon, customer, seller, type Caller } from '../../../test/support/cart.ts';
import { CouponError, PROMOTIONS_PORT, type PromotionsPort, type QuoteLine } from './contract.ts';
import { promotionsModule } from './index.ts';

describe('coupons', () => {
  let t: TestApp;
  let port: PromotionsPort;
  let boss: Caller;
  let shop: Caller;

  beforeAll(async () => {
    t = await startTestApp({}, { modules: [promotionsModule] });
    port = t.app.ctx.ports.get<PromotionsPort>(PROMOTIONS_PORT);
    boss = await admin(t);
    shop = await seller(t);
  });
  afterAll(() => t.close());

  const lines = (sellerId: string, ...prices: number[]): QuoteLine[] =>
    prices.map((unitPrice, i) => ({ variantId: `00000000-0000-7000-8000-00000000000${i}`, productId: newId(), sellerId, unitPrice, quantity: 1 }));

  const reasonOf = async (work: Promise<unknown>) => {
    try {
      await work;
      return 'ok';
    } catch (error) {
      if (error instanceof CouponError) return error.reason;
      throw error;
    }
  };

  const redeemInOwnTransaction = (couponId: string, userId: string) =>
    reasonOf(t.app.ctx.transaction((tx) => port.redeem(tx, { couponId, userId, orderId: newId() })));

  describe('created by admins and sellers', () => {
    it('lets an admin create a coupon, matched case-insensitively and unique whatever the case', async () => {
      const created = await t.post('/api/v1/coupons', { code: 'Summer-Sale', kind: 'percentage', value: 15 }, { token: boss.token });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ code: 'Summer-Sale', kind: 'percentage', percentOff: 15, amountOff: null, active: true, usedCount: 0, sellerId: null });

      const again = await t.post('/api/v1/coupons', { code: 'SUMMER-SALE', kind: 'fixed', value: 500 }, { token: shop.token });
      expect(again.status).toBe(409);
      expect(again.body.type).toMatch(/\/coupon-code-taken$/);

      const quote = await port.quote({ code: 'summer-sale', userId: null, lines: lines(shop.id, 1000, 999), currency: 'USD' });
      expect(quote).toMatchObject({ couponId: created.body.id, code: 'Summer-Sale', discountTotal: 299, freeShipping: false });
      expect(quote.allocations.map((a) => a.amount)).toEqual([150, 149]);
    });

    it('scopes a seller’s coupon to that seller: its items, its list, its edits', async () => {
      const other = await seller(t);
      const forOther = await t.post('/api/v1/coupons', { code: `X${newId().slice(-8)}`, kind: 'fixed', value: 100, sellerId: other.id }, { token: shop.token });
      expect(forOther.status).toBe(403);

      const own = await coupon(t, shop, { kind: 'fixed', value: 700 });
      const quote = await port.quote({ code: own.code, userId: null, lines: [...lines(other.id, 5000), ...lines(shop.id, 2000)], currency: 'USD' });
      expect(quote.discountTotal).toBe(700);
      expect(quote.allocations.map((a) => a.amount)).toEqual([0, 700]);

      const othersView = await t.get(`/api/v1/coupons/${own.id}`, { token: other.token });
      expect(othersView.status).toBe(404);
      const othersEdit = await t.patch(`/api/v1/coupons/${own.id}`, { active: false }, { token: other.token });
      expect(othersEdit.status).toBe(404);
      const othersList = await t.get('/api/v1/coupons', { token: other.token });
      expect(othersList.body.items.map((c: any) => c.id)).not.toContain(own.id);
      const ownList = await t.get('/api/v1/coupons', { token: shop.token });
      expect(ownList.body.items.map((c: any) => c.id)).toContain(own.id);
      expect(ownList.body.items.every((c: any) => c.sellerId === shop.id)).toBe(true);
    });

    it('keeps customers out', async () => {
      const buyer = await customer(t);
      expect((await t.post('/api/v1/coupons', { code: 'NOPE123', kind: 'percentage', value: 5 }, { token: buyer.token })).status).toBe(403);
      expect((await t.get('/api/v1/coupons', { token: buyer.token })).status).toBe(403);
      expect((await t.get('/api/v1/coupons')).status).toBe(401);
    });

    it('records every create and edit in the audit log', async () => {
      const created = await coupon(t, shop, { kind: 'percentage', value: 10 });
      const edited = await t.patch(`/api/v1/coupons/${created.id}`, { usageLimit: 3, endsAt: '2099-01-01T00:00:00Z' }, { token: shop.token });
      expect(edited.status).toBe(200);
      expect(edited.body).toMatchObject({ usageLimit: 3, endsAt: '2099-01-01T00:00:00.000Z' });
      const { rows } = await sql<{ action: string; actor_id: string }>`
        select action, actor_id from kernel.audit_log where target_id = ${created.id} order by id`.execute(t.app.ctx.db);
      expect(rows).toEqual([
        { action: 'promotions.coupon.create', actor_id: shop.id },
        { action: 'promotions.coupon.update', actor_id: shop.id },
      ]);
    });

    it('pages the admin list with a cursor', async () => {
      for (let i = 0; i < 3; i++) await coupon(t, boss, { kind: 'percentage', value: 5 });
      const first = await t.get('/api/v1/coupons?limit=2', { token: boss.token });
      expect(first.body.items).toHaveLength(2);
      const second = await t.get(`/api/v1/coupons?limit=2&cursor=${first.body.nextCursor}`, { token: boss.token });
      expect(second.status).toBe(200);
      const ids = [...first.body.items, ...second.body.items].map((c: any) => c.id);
      expect(new Set(ids).size).toBe(ids.length);
    });

    it("takes amounts as API.md's Money too, shows them only as Money, and one currency holds across value, minimum and currency", async () => {
      const create = (body: Record<string, unknown>) => t.post('/api/v1/coupons', body, { token: boss.token });
      const euros = await create({ code: 'EURO5', kind: 'fixed', value: { amount: 500, currency: 'EUR' }, minSubtotal: { amount: 2000, currency: 'EUR' } });
      expect(euros.status).toBe(201);
      expect(euros.body).toMatchObject({ percentOff: null, amountOff: { amount: 500, currency: 'EUR' }, currency: 'EUR', minSubtotal: { amount: 2000, currency: 'EUR' } });
      expect(euros.body).not.toHaveProperty('value');
      const percent = await create({ code: 'TENPCT-MIN', kind: 'percentage', value: 10, minSubtotal: { amount: 100_000, currency: 'USD' } });
      expect(percent.status).toBe(201);
      expect(percent.body).toMatchObject({ percentOff: 10, amountOff: null, minSubtotal: { amount: 100_000, currency: 'USD' }, currency: 'USD' });
      // A bare minimum is in the default currency: an amount with no currency would mean 50 of anything.
      const bareMinimum = await create({ code: 'TENPCT-BARE', kind: 'percentage', value: 10, minSubtotal: 5000 });
      expect(bareMinimum.body).toMatchObject({ currency: 'USD', minSubtotal: { amount: 5000, currency: 'USD' } });
      const anyCurrency = await create({ code: 'TENPCT-ANY', kind: 'percentage', value: 10 });
      expect(anyCurrency.body).toMatchObject({ currency: null, minSubtotal: null, percentOff: 10 });
      const noMinimumHere = await t.patch(`/api/v1/coupons/${anyCurrency.body.id}`, { minSubtotal: 5000 }, { token: boss.token });
      expect(noMinimumHere.status).toBe(400);
      expect(noMinimumHere.body.errors[0].path).toBe('/minSubtotal');
      expect((await create({ code: 'MIXED', kind: 'fixed', value: { amount: 5, currency: 'EUR' }, currency: 'USD' })).status).toBe(400);
      expect((await create({ code: 'MIXED2', kind: 'fixed', value: 5, currency: 'USD', minSubtotal: { amount: 5, currency: 'GBP' } })).status).toBe(400);
      expect((await create({ code: 'PCTMONEY', kind: 'percentage', value: { amount: 10, currency: 'USD' } })).status).toBe(400);
      const patched = await t.patch(`/api/v1/coupons/${euros.body.id}`, { minSubtotal: { amount: 3000, currency: 'EUR' } }, { token: boss.token });
      expect(patched.status).toBe(200);
      expect(patched.body.minSubtotal).toEqual({ amount: 3000, currency: 'EUR' });
      expect((await t.patch(`/api/v1/coupons/${euros.body.id}`, { minSubtotal: { amount: 3000, currency: 'USD' } }, { token: boss.token })).status).toBe(400);
    });

    it('takes the fields it shows: a coupon read back can be posted again as it reads', async () => {
      const create = (body: Record<string, unknown>) => t.post('/api/v1/coupons', body, { token: boss.token });
      const fixed = await create({ code: 'AMOUNTOFF7', kind: 'fixed', amountOff: { amount: 700, currency: 'EUR' }, minSubtotal: { amount: 3000, currency: 'EUR' } });
      expect(fixed.status).toBe(201);
      expect(fixed.body).toMatchObject({ kind: 'fixed', percentOff: null, amountOff: { amount: 700, currency: 'EUR' }, currency: 'EUR' });
      const percent = await create({ code: 'PERCENTOFF15', kind: 'percentage', percentOff: 15 });
      expect(percent.body).toMatchObject({ kind: 'percentage', percentOff: 15, amountOff: null });

      // The view, with what the server owns taken out, makes the same offer under a new code.
      const { id: _id, usedCount: _used, active: _active, createdAt: _created, updatedAt: _updated, ...offer } = fixed.body;
      const copy = await create({ ...offer, code: 'AMOUNTOFF7-COPY' });
      expect(copy.status).toBe(201);
      expect({ ...copy.body, id: fixed.body.id, code: fixed.body.code, createdAt: fixed.body.createdAt, updatedAt: fixed.body.updatedAt }).toEqual(fixed.body);

      const refused = async (body: Record<string, unknown>) => {
        const res = await create(body);
        expect(res.status).toBe(400);
        return [...new Set(res.body.errors.map((e: { path: string }) => e.path))];
      };
      expect(await refused({ code: 'TWICE', kind: 'percentage', value: 10, percentOff: 10 })).toEqual(['/percentOff']);
      expect(await refused({ code: 'WRONGKIND', kind: 'fixed', percentOff: 10 })).toEqual(['/percentOff']);
      expect(await refused({ code: 'WRONGKIND2', kind: 'percentage', amountOff: 500 })).toEqual(['/amountOff']);
      expect(await refused({ code: 'PCT200', kind: 'percentage', percentOff: 200 })).toEqual(['/percentOff']);
      expect(await refused({ code: 'ZEROOFF', kind: 'fixed', amountOff: 0 })).toEqual(['/amountOff']);
      expect(await refused({ code: 'MIXEDCUR', kind: 'fixed', amountOff: { amount: 5, currency: 'EUR' }, currency: 'USD' })).toEqual(['/currency']);
    });

    it('rejects nonsense with a 400 naming the field', async () => {
      const bad = async (body: Record<string, unknown>) => (await t.post('/api/v1/coupons', body, { token: boss.token })).status;
      expect(await bad({ code: 'PCT0', kind: 'percentage', value: 0 })).toBe(400);
      expect(await bad({ code: 'PCT101', kind: 'percentage', value: 101 })).toBe(400);
      expect(await bad({ code: 'NOVALUE', kind: 'fixed' })).toBe(400);
      expect(await bad({ code: 'NEG', kind: 'fixed', value: -5 })).toBe(400);
      expect(await bad({ code: 'a b', kind: 'fixed', value: 5 })).toBe(400);
      expect(await bad({ code: 'BACKWARDS', kind: 'fixed', value: 5, startsAt: '2030-02-01T00:00:00Z', endsAt: '2030-01-01T00:00:00Z' })).toBe(400);
      expect(await bad({ code: 'WHEN', kind: 'fixed', value: 5, startsAt: 'tomorrow' })).toBe(400);
      expect((await t.get('/api/v1/coupons/not-a-uuid', { token: boss.token })).status).toBe(400);
      expect((await t.get(`/api/v1/coupons/${newId()}`, { token: boss.token })).status).toBe(404);
      expect((await t.patch(`/api/v1/coupons/${newId()}`, {}, { token: boss.token })).status).toBe(400);
      expect((await t.get('/api/v1/coupons?cursor=garbage', { token: boss.token })).status).toBe(400);
      // Well-formed cursors whose value is no coupon id: refused, not a 500 from the database's uuid cast.
      for (const value of ['x', '1', "' or 1=1 --", 7]) {
        const cursor = Buffer.from(JSON.stringify([value])).toString('base64url');
        expect((await t.get(`/api/v1/coupons?cursor=${cursor}`, { token: boss.token })).status).toBe(400);
      }
    });
  });

  describe('quoting', () => {
    it('names why a coupon does not apply', async () => {
      const quote = (code: string, userId: string | null = null, ls = lines(shop.id, 1000)) => reasonOf(port.quote({ code, userId, lines: ls, currency: 'USD' }));
      expect(await quote('NO-SUCH-CODE')).toBe('not-found');
      const later = await coupon(t, boss, { kind: 'percentage', value: 5, startsAt: '2099-01-01T00:00:00Z' });
      expect(await quote(later.code)).toBe('not-started');
      const past = await coupon(t, boss, { kind: 'percentage', value: 5, startsAt: '2000-01-01T00:00:00Z', endsAt: '2001-01-01T00:00:00Z' });
      expect(await quote(past.code)).toBe('expired');
      const big = await coupon(t, boss, { kind: 'fixed', value: 500, minSubtotal: 5000 });
      expect(await quote(big.code)).toBe('min-subtotal');
      expect(await quote(big.code, null, lines(shop.id, 3000, 2000))).toBe('ok');
      const someoneElses = await coupon(t, await seller(t), { kind: 'percentage', value: 5 });
      expect(await quote(someoneElses.code)).toBe('not-applicable');
      const off = await coupon(t, boss, { kind: 'percentage', value: 5 });
      await t.patch(`/api/v1/coupons/${off.id}`, { active: false }, { token: boss.token });
      expect(await quote(off.code)).toBe('not-found');
    });

    it('says a coupon is used up, or used up by this customer, before checkout tries', async () => {
      const once = await coupon(t, boss, { kind: 'percentage', value: 5, usageLimit: 1 });
      const onePerCustomer = await coupon(t, boss, { kind: 'percentage', value: 5, perCustomerLimit: 1 });
      const buyer = await customer(t);
      expect(await redeemInOwnTransaction(once.id, buyer.id)).toBe('ok');
      expect(await redeemInOwnTransaction(onePerCustomer.id, buyer.id)).toBe('ok');
      const ls = lines(shop.id, 1000);
      expect(await reasonOf(port.quote({ code: once.code, userId: null, lines: ls, currency: 'USD' }))).toBe('exhausted');
      expect(await reasonOf(port.quote({ code: onePerCustomer.code, userId: buyer.id, lines: ls, currency: 'USD' }))).toBe('per-customer-limit');
      expect(await reasonOf(port.quote({ code: onePerCustomer.code, userId: newId(), lines: ls, currency: 'USD' }))).toBe('ok');
    });
  });

  describe('redeeming at checkout', () => {
    it('lets exactly 5 of 100 concurrent checkouts use a 5-use coupon', async () => {
      const five = await coupon(t, boss, { kind: 'percentage', value: 10, usageLimit: 5 });
      const outcomes = await Promise.all(Array.from({ length: 100 }, () => redeemInOwnTransaction(five.id, newId())));
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(5);
      expect(outcomes.filter((o) => o === 'exhausted')).toHaveLength(95);
      const view = await t.get(`/api/v1/coupons/${five.id}`, { token: boss.token });
      expect(view.body.usedCount).toBe(5);
    });

    it('lets one customer use a twice-per-customer coupon exactly twice, however many checkouts race', async () => {
      const twice = await coupon(t, boss, { kind: 'percentage', value: 10, perCustomerLimit: 2 });
      const buyer = await customer(t);
      const outcomes = await Promise.all(Array.from({ length: 30 }, () => redeemInOwnTransaction(twice.id, buyer.id)));
      expect(outcomes.filter((o) => o === 'ok')).toHaveLength(2);
      expect(outcomes.filter((o) => o === 'per-customer-limit')).toHaveLength(28);
      const view = await t.get(`/api/v1/coupons/${twice.id}`, { token: boss.token });
      expect(view.body.usedCount).toBe(2);
    });

    it('gives a use back when the order is cancelled, once however often it is released', async () => {
      const once = await coupon(t, boss, { kind: 'fixed', value: 100, usageLimit: 1 });
      const orderId = newId();
      const buyer = await customer(t);
      await t.app.ctx.transaction((tx) => port.redeem(tx, { couponId: once.id, userId: buyer.id, orderId }));
      expect(await redeemInOwnTransaction(once.id, buyer.id)).toBe('exhausted');

      await t.app.ctx.transaction((tx) => port.release(tx, orderId));
      await t.app.ctx.transaction((tx) => port.release(tx, orderId));
      expect((await t.get(`/api/v1/coupons/${once.id}`, { token: boss.token })).body.usedCount).toBe(0);
      expect(await redeemInOwnTransaction(once.id, (await customer(t)).id)).toBe('ok');
    });

    it('does not count a use when the order’s transaction rolls back', async () => {
      const once = await coupon(t, boss, { kind: 'fixed', value: 100, usageLimit: 1 });
      await expect(
        t.app.ctx.transaction(async (tx) => {
          await port.redeem(tx, { couponId: once.id, userId: newId(), orderId: newId() });
          throw new Error('payment step failed');
        }),
      ).rejects.toThrow('payment step failed');
      expect(await redeemInOwnTransaction(once.id, newId())).toBe('ok');
    });

    it('treats a repeated redeem for the same order as one use', async () => {
      const twice = await coupon(t, boss, { kind: 'fixed', value: 100, usageLimit: 2 });
      const orderId = newId();
      const buyer = await caller(t, ['customer']);
      for (let i = 0; i < 2; i++) await t.app.ctx.transaction((tx) => port.redeem(tx, { couponId: twice.id, userId: buyer.id, orderId }));
      expect((await t.get(`/api/v1/coupons/${twice.id}`, { token: boss.token })).body.usedCount).toBe(1);
    });
  });
});
