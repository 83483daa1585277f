import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../kernel/ids.ts';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { asGuest, caller, coupon, customer, product, seller, admin, type Caller, type TestProduct } from '../../../test/support/cart.ts';
import { countQueries } from '../../../test/support/queries.ts';
import { eventually } from '../../../test/support/events.ts';
import { catalogModule } from '../catalog/index.ts';
import { IdentityEvents } from '../identity/contract.ts';
import { inventoryModule } from '../inventory/index.ts';
import { promotionsModule } from '../promotions/index.ts';
import { markAbandonedCarts } from './abandoned.ts';
import { CART_PORT, CartEvents, type CartPort } from './contract.ts';
import { cartModule } from './index.ts';

/** What checkout would throw when the cart changed under it. */
class CartChanged extends Error {}

describe('cart', () => {
  let t: TestApp;
  let shop: Caller;
  let mug: TestProduct;

  beforeAll(async () => {
    t = await startTestApp({}, { modules: [inventoryModule, catalogModule, cartModule, promotionsModule] });
    shop = await seller(t);
    mug = await product(t, shop, { name: 'Blue mug', prices: [1250, 1500], stock: 10 });
  });
  afterAll(() => t.close());

  const cartToken = (res: { headers: Record<string, unknown> }) => res.headers['x-cart-token'] as string;

  /** A guest with a cart token, holding the given lines. */
  async function guestWith(...lines: { productId: string; variantId?: string; quantity: number }[]): Promise<string> {
    let token = cartToken(await t.get('/api/v1/cart'));
    for (const line of lines) {
      const res = await t.post('/api/v1/cart/items', line, asGuest(token));
      expect(res.status).toBe(201);
      token = cartToken(res);
    }
    return token;
  }

  const events = async (type: string) => {
    const { rows } = await sql<{ data: any }>`select data from kernel.outbox where type = ${type} order by id`.execute(t.app.ctx.db);
    return rows.map((r) => r.data);
  };

  describe('as a guest', () => {
    it('hands out a cart token on the first call and keeps the cart behind it', async () => {
      const first = await t.get('/api/v1/cart');
      expect(first.status).toBe(200);
      const token = cartToken(first);
      expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(first.body).toMatchObject({ items: [], subtotal: { amount: 0, currency: 'USD' }, total: { amount: 0, currency: 'USD' }, coupon: null });

      const added = await t.post('/api/v1/cart/items', { productId: mug.id, variantId: mug.variants[1]!.id, quantity: 2 }, asGuest(token));
      expect(added.status).toBe(201);
      expect(added.body.id).toBe(first.body.id);
      expect(added.body.items).toEqual([
        expect.objectContaining({
          productId: mug.id,
          variantId: mug.variants[1]!.id,
          name: 'Blue mug',
          sku: mug.variants[1]!.sku,
          quantity: 2,
          unitPrice: { amount: 1500, currency: 'USD' },
          lineTotal: { amount: 3000, currency: 'USD' },
          available: 10,
          priceChanged: false,
          unavailable: false,
        }),
      ]);
      expect(added.body).toMatchObject({ subtotal: { amount: 3000 }, discount: { amount: 0 }, total: { amount: 3000 }, itemCount: 2 });

      const again = await t.get('/api/v1/cart', asGuest(token));
      expect(again.body.items).toHaveLength(1);
      const stranger = await t.get('/api/v1/cart');
      expect(stranger.body.items).toEqual([]);
      expect(cartToken(stranger)).not.toBe(token);
    });

    it('gives a fresh cart, not an error, for a token it does not know', async () => {
      const res = await t.get('/api/v1/cart', asGuest('not a token at all'));
      expect(res.status).toBe(200);
      expect(res.body.items).toEqual([]);
      expect(cartToken(res)).toMatch(/^[A-Za-z0-9_-]{43}$/);
    });

    it('adds the default variant when none is named, and grows the line when added again', async () => {
      const token = await guestWith({ productId: mug.id, quantity: 1 }, { productId: mug.id, quantity: 2 });
      const cart = (await t.get('/api/v1/cart', asGuest(token))).body;
      expect(cart.items).toHaveLength(1);
      expect(cart.items[0]).toMatchObject({ variantId: mug.variants[0]!.id, quantity: 3, lineTotal: { amount: 3750 } });
    });

    it('changes and removes lines', async () => {
      const token = await guestWith({ productId: mug.id, quantity: 1 }, { productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 });
      const [first, second] = (await t.get('/api/v1/cart', asGuest(token))).body.items;
      const changed = await t.patch(`/api/v1/cart/items/${first.id}`, { quantity: 4 }, asGuest(token));
      expect(changed.status).toBe(200);
      expect(changed.body.items.find((i: any) => i.id === first.id).quantity).toBe(4);

      const zeroed = await t.patch(`/api/v1/cart/items/${first.id}`, { quantity: 0 }, asGuest(token));
      expect(zeroed.body.items.map((i: any) => i.id)).toEqual([second.id]);

      const removed = await t.delete(`/api/v1/cart/items/${second.id}`, asGuest(token));
      expect(removed.status).toBe(200);
      expect(removed.body).toMatchObject({ items: [], subtotal: { amount: 0 } });
      expect((await t.delete(`/api/v1/cart/items/${second.id}`, asGuest(token))).status).toBe(404);
    });

    it('does not let one cart touch another cart’s lines', async () => {
      const owner = await guestWith({ productId: mug.id, quantity: 1 });
      const [line] = (await t.get('/api/v1/cart', asGuest(owner))).body.items;
      const other = await guestWith();
      expect((await t.patch(`/api/v1/cart/items/${line.id}`, { quantity: 2 }, asGuest(other))).status).toBe(404);
      expect((await t.delete(`/api/v1/cart/items/${line.id}`, asGuest(other))).status).toBe(404);
      expect((await t.get('/api/v1/cart', asGuest(owner))).body.items[0].quantity).toBe(1);
    });
  });

  describe('stock', () => {
    it('refuses more than is available with a 409 that says how many are', async () => {
      const few = await product(t, shop, { stock: 3 });
      const token = await guestWith();
      const tooMany = await t.post('/api/v1/cart/items', { productId: few.id, quantity: 4 }, asGuest(token));
      expect(tooMany.status).toBe(409);
      expect(tooMany.headers['content-type']).toContain('application/problem+json');
      expect(tooMany.body).toMatchObject({ type: expect.stringMatching(/\/insufficient-stock$/), available: 3, requested: 4 });

      await t.post('/api/v1/cart/items', { productId: few.id, quantity: 2 }, asGuest(token));
      const growing = await t.post('/api/v1/cart/items', { productId: few.id, quantity: 2 }, asGuest(token));
      expect(growing.status).toBe(409);
      expect(growing.body).toMatchObject({ available: 3, requested: 4 });

      const [line] = (await t.get('/api/v1/cart', asGuest(token))).body.items;
      const patched = await t.patch(`/api/v1/cart/items/${line.id}`, { quantity: 5 }, asGuest(token));
      expect(patched.status).toBe(409);
      expect(patched.body.available).toBe(3);
      expect((await t.get('/api/v1/cart', asGuest(token))).body.items[0].quantity).toBe(2);
    });
  });

  describe('live prices and availability', () => {
    it('flags a price that changed since the line was added, until the shopper changes the line', async () => {
      const lamp = await product(t, shop, { prices: [4000] });
      const token = await guestWith({ productId: lamp.id, quantity: 2 });
      const patched = await t.patch(`/api/v1/products/${lamp.id}`, { variants: [{ id: lamp.variants[0]!.id, price: { amount: 3500, currency: 'USD' } }] }, { token: shop.token });
      expect(patched.status).toBe(200);

      const cart = (await t.get('/api/v1/cart', asGuest(token))).body;
      expect(cart.items[0]).toMatchObject({
        unitPrice: { amount: 3500, currency: 'USD' },
        priceChanged: true,
        previousUnitPrice: { amount: 4000, currency: 'USD' },
        lineTotal: { amount: 7000 },
      });
      expect(cart.subtotal.amount).toBe(7000);

      const seen = await t.patch(`/api/v1/cart/items/${cart.items[0].id}`, { quantity: 1 }, asGuest(token));
      expect(seen.body.items[0].priceChanged).toBe(false);
      expect(seen.body.items[0].previousUnitPrice).toBeUndefined();
    });

    it('keeps an archived product’s line, flagged unavailable and left out of the totals', async () => {
      const vase = await product(t, shop, { name: 'Tall vase', prices: [9000] });
      const token = await guestWith({ productId: vase.id, quantity: 1 }, { productId: mug.id, quantity: 1 });
      expect((await t.patch(`/api/v1/products/${vase.id}`, { status: 'archived' }, { token: shop.token })).status).toBe(200);

      const cart = (await t.get('/api/v1/cart', asGuest(token))).body;
      expect(cart.items.find((i: any) => i.productId === vase.id)).toMatchObject({ name: 'Tall vase', unavailable: true });
      expect(cart.items.find((i: any) => i.productId === mug.id).unavailable).toBe(false);
      expect(cart.subtotal.amount).toBe(1250);

      const readd = await t.post('/api/v1/cart/items', { productId: vase.id, quantity: 1 }, asGuest(token));
      expect(readd.status).toBe(409);
      expect(readd.body.type).toMatch(/\/product-unavailable$/);
    });
  });

  describe('signed in', () => {
    it('keeps a user’s cart across calls, without a cart token', async () => {
      const buyer = await customer(t);
      const added = await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      expect(added.status).toBe(201);
      expect(added.headers['x-cart-token']).toBeUndefined();
      const cart = await t.get('/api/v1/cart', { token: buyer.token });
      expect(cart.body.id).toBe(added.body.id);
      expect(cart.body.items).toHaveLength(1);
    });

    it('merges the guest cart named by X-Cart-Token into the user’s cart, after which the token is spent', async () => {
      const buyer = await customer(t);
      await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      const guest = await guestWith({ productId: mug.id, quantity: 2 }, { productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 });

      const off = await coupon(t, await admin(t), { kind: 'fixed', value: 100 });
      expect((await t.post('/api/v1/cart/coupon', { code: off.code }, asGuest(guest))).status).toBe(200);

      const merged = await t.get('/api/v1/cart', { token: buyer.token, headers: { 'x-cart-token': guest } });
      expect(merged.status).toBe(200);
      const quantities = Object.fromEntries(merged.body.items.map((i: any) => [i.variantId, i.quantity]));
      expect(quantities).toEqual({ [mug.variants[0]!.id]: 3, [mug.variants[1]!.id]: 1 });
      expect(merged.body.coupon).toMatchObject({ code: off.code, valid: true, discount: { amount: 100 } });

      const again = await t.get('/api/v1/cart', { token: buyer.token, headers: { 'x-cart-token': guest } });
      expect(again.body.items.map((i: any) => i.quantity)).toEqual(merged.body.items.map((i: any) => i.quantity));
      const spent = await t.get('/api/v1/cart', asGuest(guest));
      expect(spent.body.items).toEqual([]);
      expect(cartToken(spent)).not.toBe(guest);
    });

    it('merges once when two sign-ins race with the same guest token', async () => {
      const buyer = await customer(t);
      const guest = await guestWith({ productId: mug.id, quantity: 2 });
      const port = t.app.ctx.ports.get<CartPort>(CART_PORT);
      await Promise.all([
        port.mergeGuestCart(guest, buyer.id),
        port.mergeGuestCart(guest, buyer.id),
        t.get('/api/v1/cart', { token: buyer.token, headers: { 'x-cart-token': guest } }),
        t.get('/api/v1/cart', { token: buyer.token, headers: { 'x-cart-token': guest } }),
      ]);
      const cart = (await t.get('/api/v1/cart', { token: buyer.token })).body;
      expect(cart.items.map((i: any) => i.quantity)).toEqual([2]);
    });

    it('keeps every line when two guest carts merge into one user at once', async () => {
      const buyer = await customer(t);
      const [a, b] = await Promise.all([
        guestWith({ productId: mug.id, quantity: 1 }),
        guestWith({ productId: mug.id, quantity: 2 }, { productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 }),
      ]);
      const port = t.app.ctx.ports.get<CartPort>(CART_PORT);
      await Promise.all([port.mergeGuestCart(a, buyer.id), port.mergeGuestCart(b, buyer.id)]);
      const cart = (await t.get('/api/v1/cart', { token: buyer.token })).body;
      expect(Object.fromEntries(cart.items.map((i: any) => [i.variantId, i.quantity]))).toEqual({
        [mug.variants[0]!.id]: 3,
        [mug.variants[1]!.id]: 1,
      });
    });

    it('hands checkout the lines and coupon, and empties the cart in the order’s transaction', async () => {
      const buyer = await customer(t);
      const port = t.app.ctx.ports.get<CartPort>(CART_PORT);
      expect(await port.getCheckoutCart(buyer.id)).toBeNull();
      const off = await coupon(t, await admin(t), { kind: 'percentage', value: 10 });
      await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 2 }, { token: buyer.token });
      await t.post('/api/v1/cart/coupon', { code: off.code.toLowerCase() }, { token: buyer.token });

      const checkout = await port.getCheckoutCart(buyer.id);
      expect(checkout).toMatchObject({ lines: [{ productId: mug.id, variantId: mug.variants[0]!.id, quantity: 2 }], couponCode: off.code });
      await t.app.ctx.transaction((tx) => port.clearCart(tx, checkout!, () => new CartChanged()));
      expect(await port.getCheckoutCart(buyer.id)).toBeNull();
      expect((await t.get('/api/v1/cart', { token: buyer.token })).body).toMatchObject({ items: [], coupon: null });
    });

    it('empties only the cart checkout read: a cart changed since is left as it is', async () => {
      const buyer = await customer(t);
      const port = t.app.ctx.ports.get<CartPort>(CART_PORT);
      await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      const read = (await port.getCheckoutCart(buyer.id))!;
      await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 2 }, { token: buyer.token });
      // The commit fails with the caller's error, and the cart is left as it is.
      await expect(t.app.ctx.transaction((tx) => port.clearCart(tx, read, () => new CartChanged()))).rejects.toBeInstanceOf(CartChanged);
      expect((await port.getCheckoutCart(buyer.id))!.lines).toEqual([{ productId: mug.id, variantId: mug.variants[0]!.id, quantity: 3 }]);
      const current = (await port.getCheckoutCart(buyer.id))!;
      expect(current.version).not.toBe(read.version);
      await t.app.ctx.transaction((tx) => port.clearCart(tx, current, () => new CartChanged()));
      expect(await port.getCheckoutCart(buyer.id)).toBeNull();
    });

    it('writes nothing until the order’s transaction commits: inside it, the cart still holds its lines', async () => {
      const buyer = await customer(t);
      const port = t.app.ctx.ports.get<CartPort>(CART_PORT);
      await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      const current = (await port.getCheckoutCart(buyer.id))!;
      const seenInside = await t.app.ctx.transaction(async (tx) => {
        await port.clearCart(tx, current, () => new CartChanged());
        return (await port.getCheckoutCart(buyer.id, tx))?.lines.length;
      });
      expect(seenInside).toBe(1);
      expect(await port.getCheckoutCart(buyer.id)).toBeNull();
      expect((await t.get('/api/v1/cart', { token: buyer.token })).body).toMatchObject({ items: [] });
    });
  });

  it('forgets an erased user’s cart and wishlist', async () => {
    const gone = await customer(t);
    await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: gone.token });
    await t.post('/api/v1/wishlist', { productId: mug.id }, { token: gone.token });
    await t.app.ctx.transaction((tx) => t.app.ctx.publish(tx, { type: IdentityEvents.UserDeleted, aggregateId: gone.id, data: { userId: gone.id } }));
    const port = t.app.ctx.ports.get<CartPort>(CART_PORT);
    await eventually(async () => (await port.getCheckoutCart(gone.id)) === null);
    expect((await t.get('/api/v1/wishlist', { token: gone.token })).body.items).toEqual([]);
  });

  describe('coupons', () => {
    it('applies a coupon, shows the discount, and removes it', async () => {
      const off = await coupon(t, await admin(t), { kind: 'percentage', value: 15 });
      const token = await guestWith({ productId: mug.id, quantity: 1 }, { productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 });
      const applied = await t.post('/api/v1/cart/coupon', { code: off.code.toLowerCase() }, asGuest(token));
      expect(applied.status).toBe(200);
      expect(applied.body).toMatchObject({
        subtotal: { amount: 2750 },
        discount: { amount: 412 },
        total: { amount: 2338 },
        coupon: { code: off.code, kind: 'percentage', valid: true, discount: { amount: 412 } },
      });
      expect((await t.get('/api/v1/cart', asGuest(token))).body.discount.amount).toBe(412);

      const removed = await t.delete('/api/v1/cart/coupon', asGuest(token));
      expect(removed.body).toMatchObject({ coupon: null, discount: { amount: 0 }, total: { amount: 2750 } });
    });

    it('says why a coupon cannot be used', async () => {
      const boss = await admin(t);
      const token = await guestWith({ productId: mug.id, quantity: 1 });
      const reason = async (code: string) => {
        const res = await t.post('/api/v1/cart/coupon', { code }, asGuest(token));
        expect(res.status).toBe(422);
        expect(res.body.type).toMatch(/\/invalid-coupon$/);
        return res.body.reason;
      };
      expect(await reason('NO-SUCH-COUPON')).toBe('not-found');
      expect(await reason((await coupon(t, boss, { kind: 'fixed', value: 100, minSubtotal: 5000 })).code)).toBe('min-subtotal');
      expect(await reason((await coupon(t, boss, { kind: 'fixed', value: 100, endsAt: '2001-01-01T00:00:00Z', startsAt: '2000-01-01T00:00:00Z' })).code)).toBe('expired');
      expect(await reason((await coupon(t, await seller(t), { kind: 'percentage', value: 10 })).code)).toBe('not-applicable');
      expect((await t.get('/api/v1/cart', asGuest(token))).body.coupon).toBeNull();
    });

    it('keeps a coupon that stopped applying, marked invalid and taking nothing off', async () => {
      const big = await coupon(t, await admin(t), { kind: 'fixed', value: 500, minSubtotal: 2000 });
      const token = await guestWith({ productId: mug.id, quantity: 2 });
      expect((await t.post('/api/v1/cart/coupon', { code: big.code }, asGuest(token))).body.discount.amount).toBe(500);
      const [line] = (await t.get('/api/v1/cart', asGuest(token))).body.items;
      const smaller = await t.patch(`/api/v1/cart/items/${line.id}`, { quantity: 1 }, asGuest(token));
      expect(smaller.body).toMatchObject({ discount: { amount: 0 }, total: { amount: 1250 }, coupon: { code: big.code, valid: false, reason: 'min-subtotal' } });
    });
  });

  describe('abandoned carts', () => {
    it('marks a cart idle past CART_ABANDONED_AFTER_MINUTES abandoned once, with its user, lines and subtotal', async () => {
      const buyer = await customer(t);
      const added = await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 3 }, { token: buyer.token });
      const cartId = added.body.id;
      const idle = async () => sql`update cart.carts set updated_at = now() - interval '2 days', active_at = now() - interval '2 days' where id = ${cartId}`.execute(t.app.ctx.db);
      await idle();

      // The app's own job may get there first; either way the cart is marked, and announced, once.
      const now = new Date();
      await markAbandonedCarts(t.app.ctx, now);
      const mine = (await events(CartEvents.CartAbandoned)).filter((e) => e.cartId === cartId);
      expect(mine).toEqual([
        expect.objectContaining({
          userId: buyer.id,
          lines: [{ productId: mug.id, variantId: mug.variants[0]!.id, quantity: 3, unitPrice: { amount: 1250, currency: 'USD' } }],
          subtotal: { amount: 3750, currency: 'USD' },
        }),
      ]);
      await markAbandonedCarts(t.app.ctx, now);
      expect((await events(CartEvents.CartAbandoned)).filter((e) => e.cartId === cartId)).toHaveLength(1);

      // Coming back clears the mark; idling again is a new abandonment.
      await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      await markAbandonedCarts(t.app.ctx, now);
      expect((await events(CartEvents.CartAbandoned)).filter((e) => e.cartId === cartId)).toHaveLength(1);
      await idle();
      await markAbandonedCarts(t.app.ctx, now);
      expect((await events(CartEvents.CartAbandoned)).filter((e) => e.cartId === cartId)).toHaveLength(2);
    });

    it('does not take a cart touched a moment ago for idle, though its coarse activity time is old', async () => {
      const buyer = await customer(t);
      const added = await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      // As after a change within five minutes of the previous one: active_at stays behind, updated_at does not.
      await sql`update cart.carts set active_at = now() - interval '2 days' where id = ${added.body.id}`.execute(t.app.ctx.db);
      await markAbandonedCarts(t.app.ctx);
      expect((await events(CartEvents.CartAbandoned)).filter((e) => e.cartId === added.body.id)).toEqual([]);
    });

    it('drops a guest cart that stayed empty that long', async () => {
      const visit = await t.get('/api/v1/cart');
      await sql`update cart.carts set updated_at = now() - interval '2 days', active_at = now() - interval '2 days' where id = ${visit.body.id}`.execute(t.app.ctx.db);
      await markAbandonedCarts(t.app.ctx);
      const back = await t.get('/api/v1/cart', asGuest(cartToken(visit)));
      expect(back.body.id).not.toBe(visit.body.id);
    });

    it('leaves a recently changed cart alone', async () => {
      const buyer = await customer(t);
      const added = await t.post('/api/v1/cart/items', { productId: mug.id, quantity: 1 }, { token: buyer.token });
      await markAbandonedCarts(t.app.ctx);
      expect((await events(CartEvents.CartAbandoned)).filter((e) => e.cartId === added.body.id)).toEqual([]);
    });
  });

  describe('wishlist', () => {
    it('adds a product once however often it is wished for, lists it with its price and stock, and removes it', async () => {
      const buyer = await customer(t);
      const first = await t.post('/api/v1/wishlist', { productId: mug.id }, { token: buyer.token });
      expect(first.status).toBe(201);
      expect(first.body).toMatchObject({ productId: mug.id, name: 'Blue mug', price: { amount: 1250, currency: 'USD' }, inStock: true, unavailable: false });
      expect((await t.post('/api/v1/wishlist', { productId: mug.id }, { token: buyer.token })).status).toBe(200);

      const list = await t.get('/api/v1/wishlist', { token: buyer.token });
      expect(list.body.items).toHaveLength(1);
      expect(list.body.items[0]).toMatchObject({ productId: mug.id, available: 10 });

      expect((await t.delete(`/api/v1/wishlist/${mug.id}`, { token: buyer.token })).status).toBe(204);
      expect((await t.get('/api/v1/wishlist', { token: buyer.token })).body.items).toEqual([]);
    });

    it('pages a long wishlist', async () => {
      const buyer = await customer(t);
      for (let i = 0; i < 3; i++) await t.post('/api/v1/wishlist', { productId: (await product(t, shop)).id }, { token: buyer.token });
      const first = await t.get('/api/v1/wishlist?limit=2', { token: buyer.token });
      const second = await t.get(`/api/v1/wishlist?limit=2&cursor=${first.body.nextCursor}`, { token: buyer.token });
      expect(second.body.nextCursor).toBeNull();
      const ids = [...first.body.items, ...second.body.items].map((i: any) => i.productId);
      expect(new Set(ids).size).toBe(3);
    });

    it('is for signed-in users, and only for products that exist', async () => {
      expect((await t.get('/api/v1/wishlist')).status).toBe(401);
      const buyer = await customer(t);
      expect((await t.post('/api/v1/wishlist', { productId: newId() }, { token: buyer.token })).status).toBe(404);
      expect((await t.post('/api/v1/wishlist', { productId: 'x' }, { token: buyer.token })).status).toBe(400);
      expect((await t.delete('/api/v1/wishlist/x', { token: buyer.token })).status).toBe(400);
    });

    it('tells everyone wishing for a sold-out product when it is back in stock, once', async () => {
      const kettle = await product(t, shop, { stock: 0 });
      const [ann, bob] = [await customer(t), await customer(t)];
      for (const who of [ann, bob]) expect((await t.post('/api/v1/wishlist', { productId: kettle.id }, { token: who.token })).status).toBe(201);
      const restock = (delta: number) =>
        t.post('/api/v1/inventory/adjustments', { variantId: kettle.variants[0]!.id, delta, reason: 'restock' }, { token: shop.token });
      expect((await restock(5)).status).toBe(201);

      const back = async () => (await events(CartEvents.WishlistItemBackInStock)).filter((e) => e.productId === kettle.id);
      const notified = await eventually(async () => ((await back()).length >= 2 ? back() : undefined));
      expect(notified.map((e) => e.userId).sort()).toEqual([ann.id, bob.id].sort());
      expect(notified[0]).toMatchObject({ variantId: kettle.variants[0]!.id, available: 5 });

      // More stock while already in stock is no news; selling out and coming back is.
      expect((await restock(2)).status).toBe(201);
      expect((await restock(-7)).status).toBe(201);
      expect((await restock(1)).status).toBe(201);
      await eventually(async () => (await back()).length >= 4);
      expect(await back()).toHaveLength(4);
    });
  });

  describe('on the hot path', () => {
    it('reads and adds to a cart of any size with the same few queries', async () => {
      const cup = await product(t, shop, { prices: [300, 400, 500] });
      const plate = await product(t, shop);
      const small = await guestWith({ productId: mug.id, quantity: 1 });
      const big = await guestWith(
        { productId: mug.id, quantity: 1 },
        { productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 },
        ...cup.variants.map((v) => ({ productId: cup.id, variantId: v.id, quantity: 2 })),
        { productId: plate.id, quantity: 1 },
      );
      const counter = countQueries();
      try {
        const as = (token: string, requestId: string) => ({ headers: { 'x-cart-token': token, 'x-request-id': requestId } });
        expect((await t.get('/api/v1/cart', as(small, 'read-small'))).body.items).toHaveLength(1);
        expect((await t.get('/api/v1/cart', as(big, 'read-big'))).body.items).toHaveLength(6);
        expect((await t.post('/api/v1/cart/items', { productId: plate.id, quantity: 1 }, as(small, 'add-small'))).status).toBe(201);
        expect((await t.post('/api/v1/cart/items', { productId: plate.id, quantity: 1 }, as(big, 'add-big'))).status).toBe(201);
        // A read: the cart, its lines, and reads of stock and of the catalog unless inventory's kept figures
        // and the catalog's one-second cache have them. An add: one write that finds the cart and returns
        // its lines, and the same reads on a miss. Never one more statement per line: the big cart (six
        // lines) may cost at most one read more.
        for (const [small, big] of [['read-small', 'read-big'], ['add-small', 'add-big']] as const) {
          expect(counter.of(big)).toBeLessThanOrEqual(counter.of(small) + 1);
          expect(counter.of(big)).toBeLessThanOrEqual(4);
        }
        expect(counter.of('add-small')).toBeGreaterThanOrEqual(1);
      } finally {
        counter.stop();
      }
    });
  });

  describe('hostile input', () => {
    it('answers bad quantities, ids and bodies with 4xx problems, never a 500', async () => {
      const token = await guestWith({ productId: mug.id, quantity: 1 });
      const [line] = (await t.get('/api/v1/cart', asGuest(token))).body.items;
      const other = await product(t, shop);
      const add = (body: unknown) => t.post('/api/v1/cart/items', body, asGuest(token));
      const cases: [Promise<{ status: number }>, number][] = [
        [add({ productId: mug.id, quantity: 0 }), 400],
        [add({ productId: mug.id, quantity: -3 }), 400],
        [add({ productId: mug.id, quantity: 1.5 }), 400],
        [add({ productId: mug.id, quantity: 1e12 }), 400],
        [add({ productId: mug.id }), 400],
        [add({ productId: 'not-a-uuid', quantity: 1 }), 400],
        [add({ productId: mug.id, variantId: '../etc', quantity: 1 }), 400],
        [add({ productId: mug.id, quantity: 1, price: 1 }), 400],
        [add({ productId: newId(), quantity: 1 }), 404],
        [add({ productId: mug.id, variantId: newId(), quantity: 1 }), 404],
        [add({ productId: mug.id, variantId: other.variants[0]!.id, quantity: 1 }), 404],
        [add({ productId: mug.id, quantity: 9999 }), 409],
        [t.request('POST', '/api/v1/cart/items', { raw: '{"productId":', headers: { 'content-type': 'application/json', 'x-cart-token': token } }), 400],
        [t.patch(`/api/v1/cart/items/${line.id}`, { quantity: -1 }, asGuest(token)), 400],
        [t.patch(`/api/v1/cart/items/${line.id}`, { quantity: 100000 }, asGuest(token)), 400],
        [t.patch('/api/v1/cart/items/nope', { quantity: 1 }, asGuest(token)), 400],
        [t.patch(`/api/v1/cart/items/${newId()}`, { quantity: 1 }, asGuest(token)), 404],
        [t.delete('/api/v1/cart/items/1%27%20or%201=1', asGuest(token)), 400],
        [t.post('/api/v1/cart/coupon', { code: '' }, asGuest(token)), 400],
        [t.post('/api/v1/cart/coupon', { code: 'x'.repeat(65) }, asGuest(token)), 400],
        [t.post('/api/v1/cart/coupon', { code: "'; drop table cart.carts; --" }, asGuest(token)), 422],
      ];
      for (const [response, status] of cases) expect((await response).status).toBe(status);
      expect((await t.get('/api/v1/cart', asGuest(token))).body.items).toEqual([expect.objectContaining({ quantity: 1 })]);
    });

    it('holds at most 100 different items: a new one then gets 409 cart-full, more of one already there still goes in', async () => {
      const wide = await product(t, shop, { name: 'Hundred-colour pen', prices: Array.from({ length: 100 }, () => 300), stock: 50 });
      const buyer = await customer(t);
      const add = (body: { productId: string; variantId?: string; quantity: number }, as: { token: string } | ReturnType<typeof asGuest> = { token: buyer.token }) =>
        t.post('/api/v1/cart/items', body, as);
      for (const variant of wide.variants) expect((await add({ productId: wide.id, variantId: variant.id, quantity: 1 })).status).toBe(201);

      const refused = await add({ productId: mug.id, quantity: 1 });
      expect(refused.status).toBe(409);
      expect(refused.body).toMatchObject({ type: expect.stringMatching(/\/cart-full$/), limit: 100 });
      const more = await add({ productId: wide.id, variantId: wide.variants[0]!.id, quantity: 2 });
      expect(more.status).toBe(201);
      expect(more.body.items).toHaveLength(100);
      expect(more.body.items.find((i: any) => i.variantId === wide.variants[0]!.id).quantity).toBe(3);

      // A guest cart merged on sign-in keeps every line, even past the limit; a new line is then refused.
      const guest = await guestWith({ productId: mug.id, quantity: 1 });
      const merged = await t.get('/api/v1/cart', { token: buyer.token, headers: { 'x-cart-token': guest } });
      expect(merged.body.items).toHaveLength(101);
      expect((await add({ productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 })).status).toBe(409);

      // Below the limit again, a new line goes in.
      for (const item of merged.body.items.slice(0, 2)) expect((await t.delete(`/api/v1/cart/items/${item.id}`, { token: buyer.token })).status).toBe(200);
      expect((await add({ productId: mug.id, variantId: mug.variants[1]!.id, quantity: 1 })).status).toBe(201);
    });

    it('rejects a token that is not a valid access token with 401, whatever cart token comes with it', async () => {
      const res = await t.get('/api/v1/cart', { headers: { authorization: 'Bearer nonsense', 'x-cart-token': 'x' } });
      expect(res.status).toBe(401);
      const someone = await caller(t, ['customer']);
      expect((await t.get('/api/v1/cart', { token: someone.token, headers: { 'x-cart-token': 'x'.repeat(5000) } })).status).toBe(200);
    });
  });
});
