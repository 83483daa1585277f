import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_PRICE } from '../catalog/contract.ts';
import { newId } from '../../kernel/ids.ts';
import {
  address,
  item,
  ledgerBalances,
  orderOf,
  orderReaches,
  person,
  placeOrder,
  product,
  startShop,
  stockOf,
  type Person,
  type Shop,
} from '../../../test/support/orders.ts';

let shop: Shop;
beforeAll(async () => {
  shop = await startShop();
});
afterAll(() => shop.t.close());

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

describe('checkout cannot oversell', () => {
  it('sells 10 units to exactly 10 of 40 buyers placing orders at once; the other 30 get 409 and nothing', async () => {
    const seller = await person(shop.t, ['seller']);
    const mug = await product(shop, seller, { price: 1200, stock: 10 });
    const buyers = await Promise.all(range(40).map(() => person(shop.t)));

    const answers = await Promise.all(buyers.map((buyer) => placeOrder(shop, buyer, { items: [item(mug)] })));

    const placed = answers.filter((a) => a.status === 201);
    const refused = answers.filter((a) => a.status === 409);
    expect(placed).toHaveLength(10);
    expect(refused).toHaveLength(30);
    for (const answer of refused) {
      expect(answer.body.type).toMatch(/\/insufficient-stock$/);
      expect(answer.body.shortages).toEqual([{ variantId: mug.variantId, requested: 1, available: 0 }]);
    }
    // Payments run meanwhile, so the 10 units are reserved or already sold: either way none is left.
    const right = await stockOf(shop, mug.variantId);
    expect(right.available).toBe(0);
    expect(right.reserved + (10 - right.onHand)).toBe(10);

    // Refused buyers have no order at all.
    const refusedBuyer = buyers[answers.findIndex((a) => a.status === 409)]!;
    expect((await shop.t.get('/api/v1/orders', { token: refusedBuyer.token })).body.items).toEqual([]);

    for (const answer of placed) await orderReaches(shop, answer.body.id, 'paid');
    expect(await stockOf(shop, mug.variantId)).toMatchObject({ available: 0, reserved: 0, onHand: 0 });
    expect(await ledgerBalances(shop, mug.variantId)).toEqual({ on_hand: 0, reserved: 0 });
    expect(shop.gateway.charges.size).toBe(10);
  });
});

describe('an order too large to total exactly', () => {
  it('is refused with 422 order-too-large, reserving and creating nothing; the largest item quantity is the cart\'s', async () => {
    const seller = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    // The highest price the catalog takes, in the largest quantity a cart line holds: twelve such lines
    // are past the limit, eleven are not.
    const dear = await Promise.all(range(12).map(() => product(shop, seller, { price: MAX_PRICE, stock: 9999 })));
    const tooLarge = await placeOrder(shop, buyer, { items: dear.map((p) => item(p, 9999)) });
    expect(tooLarge.status).toBe(422);
    expect(tooLarge.body.type).toMatch(/\/order-too-large$/);
    expect(tooLarge.body.limit).toBe(1_000_000_000_000_000);
    for (const p of dear) expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 9999, reserved: 0 });
    expect((await shop.t.get('/api/v1/orders', { token: buyer.token })).body.items).toEqual([]);
    const largest = await placeOrder(shop, buyer, { items: dear.slice(0, 11).map((p) => item(p, 9999)), payment: { method: 'cod' } });
    expect(largest.status).toBe(201);
    expect(largest.body.subtotal.amount).toBe(11 * 9999 * MAX_PRICE);
    expect((await placeOrder(shop, buyer, { items: [item(dear[11]!, 10_000)] })).status).toBe(400);
  });
});

describe('placing an order', () => {
  let seller: Person;
  beforeAll(async () => {
    seller = await person(shop.t, ['seller']);
  });

  it('answers 201 with the order: pending, its lines, one group, totals, address and payment', async () => {
    const buyer = await person(shop.t);
    const lamp = await product(shop, seller, { price: 2550, stock: 5 });
    const res = await placeOrder(shop, buyer, { items: [{ productId: lamp.productId, quantity: 2 }] });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      status: 'pending',
      userId: buyer.id,
      items: [{ productId: lamp.productId, variantId: lamp.variantId, sellerId: seller.id, quantity: 2, unitPrice: { amount: 2550, currency: 'USD' }, lineTotal: { amount: 5100, currency: 'USD' } }],
      subtotal: { amount: 5100, currency: 'USD' },
      discount: { amount: 0, currency: 'USD' },
      shipping: { amount: 0, currency: 'USD' },
      tax: { amount: 0, currency: 'USD' },
      total: { amount: 5100, currency: 'USD' },
      shippingAddress: address,
      payment: { method: 'card', status: 'pending' },
      history: [{ from: null, to: 'pending', actorId: buyer.id, reason: 'order placed' }],
    });
    expect(res.body.groups).toHaveLength(1);
    expect(res.body.groups[0]).toMatchObject({ sellerId: seller.id, status: 'pending', itemIds: [res.body.items[0].id] });
    expect(new Date(res.body.paymentDueAt).getTime() - new Date(res.body.createdAt).getTime()).toBe(30 * 60_000);

    const mine = await shop.t.get('/api/v1/orders', { token: buyer.token });
    expect(mine.body.items.map((o: { id: string }) => o.id)).toEqual([res.body.id]);
  });

  it("ties the purchase's events to the request: placed, reserved, captured and paid carry its correlation id", async () => {
    const buyer = await person(shop.t);
    const kettle = await product(shop, seller, { price: 3100, stock: 3 });
    const res = await placeOrder(shop, buyer, { items: [item(kettle)] }, { 'x-correlation-id': 'purchase-correlated-1' });
    expect(res.status).toBe(201);
    expect(res.headers['x-correlation-id']).toBe('purchase-correlated-1');
    await orderReaches(shop, res.body.id, 'paid');
    const { rows } = await sql<{ type: string; correlation_id: string; causation_id: string | null }>`
      select type, correlation_id, causation_id from kernel.outbox
      where type in ('orders.order.placed', 'inventory.stock.reserved', 'payments.payment.captured', 'orders.order.paid')
        and (aggregate_id = ${res.body.id} or data->>'orderId' = ${res.body.id} or data->>'reference' = ${res.body.id})
      order by seq`.execute(shop.t.database.db);
    expect(rows.map((r) => r.type).sort()).toEqual(['inventory.stock.reserved', 'orders.order.paid', 'orders.order.placed', 'payments.payment.captured']);
    for (const row of rows) expect(row).toMatchObject({ correlation_id: 'purchase-correlated-1' });
    // The request caused the first two; each later one names the event whose handling published it.
    const placed = rows.find((r) => r.type === 'orders.order.placed')!;
    expect(placed.causation_id).toBeNull();
    expect(rows.find((r) => r.type === 'payments.payment.captured')!.causation_id).not.toBeNull();
    expect(rows.find((r) => r.type === 'orders.order.paid')!.causation_id).not.toBeNull();
  });

  it('checks out the cart when no items are sent, and empties it in the same transaction', async () => {
    const buyer = await person(shop.t);
    const pen = await product(shop, seller, { price: 300, stock: 5 });
    const added = await shop.t.post('/api/v1/cart/items', { productId: pen.productId, quantity: 3 }, { token: buyer.token });
    expect(added.status).toBe(201);

    const res = await placeOrder(shop, buyer, {});
    expect(res.status).toBe(201);
    expect(res.body.items).toMatchObject([{ variantId: pen.variantId, quantity: 3 }]);
    const cart = await shop.t.get('/api/v1/cart', { token: buyer.token });
    expect(cart.body.items).toEqual([]);

    const again = await placeOrder(shop, buyer, {});
    expect(again.status).toBe(422);
    expect(again.body.type).toMatch(/\/empty-cart$/);
  });

  it('merges repeated lines of one variant, and prices from the catalog, not the client', async () => {
    const buyer = await person(shop.t);
    const cup = await product(shop, seller, { price: 700, stock: 5 });
    const res = await placeOrder(shop, buyer, { items: [item(cup, 1), item(cup, 2)] });
    expect(res.status).toBe(201);
    expect(res.body.items).toHaveLength(1);
    expect(res.body.items[0]).toMatchObject({ quantity: 3, unitPrice: { amount: 700 } });
  });
});

describe('Idempotency-Key on POST /orders', () => {
  let seller: Person;
  beforeAll(async () => {
    seller = await person(shop.t, ['seller']);
  });

  it('answers a repeat with the first response and orders nothing again', async () => {
    const buyer = await person(shop.t);
    const bowl = await product(shop, seller, { price: 900, stock: 5 });
    const key = newId();
    const first = await placeOrder(shop, buyer, { items: [item(bowl, 2)] }, { 'idempotency-key': key });
    const repeat = await placeOrder(shop, buyer, { items: [item(bowl, 2)] }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(201);
    expect(repeat.body).toEqual(first.body);
    expect(repeat.headers['idempotent-replayed']).toBe('true');
    expect((await shop.t.get('/api/v1/orders', { token: buyer.token })).body.items).toHaveLength(1);
    expect((await stockOf(shop, bowl.variantId)).available).toBe(3);
  });

  it('refuses the same key with another body: 409 idempotency-key-reused', async () => {
    const buyer = await person(shop.t);
    const bowl = await product(shop, seller, { price: 900, stock: 5 });
    const key = newId();
    expect((await placeOrder(shop, buyer, { items: [item(bowl, 1)] }, { 'idempotency-key': key })).status).toBe(201);
    const misuse = await placeOrder(shop, buyer, { items: [item(bowl, 4)] }, { 'idempotency-key': key });
    expect(misuse.status).toBe(409);
    expect(misuse.body.type).toMatch(/\/idempotency-key-reused$/);
    expect((await stockOf(shop, bowl.variantId)).available).toBe(4);
  });

  it('creates one order from 6 concurrent duplicates, and all of them get it', async () => {
    const buyer = await person(shop.t);
    const bowl = await product(shop, seller, { price: 900, stock: 5 });
    const key = newId();
    const answers = await Promise.all(range(6).map(() => placeOrder(shop, buyer, { items: [item(bowl, 1)] }, { 'idempotency-key': key })));
    expect(answers.map((a) => a.status)).toEqual(range(6).map(() => 201));
    expect(new Set(answers.map((a) => a.body.id)).size).toBe(1);
    expect((await shop.t.get('/api/v1/orders', { token: buyer.token })).body.items).toHaveLength(1);
    expect((await stockOf(shop, bowl.variantId)).available).toBe(4);
  });

  it('keeps keys per user: the same key from two users places two orders', async () => {
    const [a, b] = [await person(shop.t), await person(shop.t)];
    const bowl = await product(shop, seller, { price: 900, stock: 5 });
    const key = 'shared-key-1';
    const first = await placeOrder(shop, a, { items: [item(bowl)] }, { 'idempotency-key': key });
    const second = await placeOrder(shop, b, { items: [item(bowl)] }, { 'idempotency-key': key });
    expect(second.status).toBe(201);
    expect(second.body.id).not.toBe(first.body.id);
  });

  it('answers a repeat of an order for the last units with that order, though they are sold by then', async () => {
    const buyer = await person(shop.t);
    const lamp = await product(shop, seller, { price: 4200, stock: 1 });
    const key = newId();
    const first = await placeOrder(shop, buyer, { items: [item(lamp)] }, { 'idempotency-key': key });
    const repeat = await placeOrder(shop, buyer, { items: [item(lamp)] }, { 'idempotency-key': key });
    expect(first.status).toBe(201);
    expect(repeat.status).toBe(201);
    expect(repeat.body.id).toBe(first.body.id);
    expect(repeat.headers['idempotent-replayed']).toBe('true');
    // Without the key the same request is refused: the only unit is sold.
    expect((await placeOrder(shop, buyer, { items: [item(lamp)] })).status).toBe(409);
  });

  it('answers a repeat of a cart checkout even though the cart is empty by then', async () => {
    const buyer = await person(shop.t);
    const pen = await product(shop, seller, { price: 300, stock: 5 });
    await shop.t.post('/api/v1/cart/items', { productId: pen.productId, quantity: 1 }, { token: buyer.token });
    const key = newId();
    const first = await placeOrder(shop, buyer, {}, { 'idempotency-key': key });
    const repeat = await placeOrder(shop, buyer, {}, { 'idempotency-key': key });
    expect(repeat.status).toBe(201);
    expect(repeat.body.id).toBe(first.body.id);
  });
});

describe('coupons at checkout', () => {
  it('gives a 5-use coupon to exactly 5 of 100 concurrent checkouts; the others are refused and keep their stock', async () => {
    const seller = await person(shop.t, ['seller']);
    const tee = await product(shop, seller, { price: 2000, stock: 200 });
    const coupon = await shop.t.post('/api/v1/coupons', { code: 'FIVE-ONLY', kind: 'fixed', value: 500, currency: 'USD', usageLimit: 5 }, { token: shop.admin.token });
    expect(coupon.status).toBe(201);
    const buyers = await Promise.all(range(100).map(() => person(shop.t)));

    const answers = await Promise.all(buyers.map((b) => placeOrder(shop, b, { items: [item(tee)], couponCode: 'five-only' })));

    const discounted = answers.filter((a) => a.status === 201);
    expect(discounted).toHaveLength(5);
    for (const a of discounted) expect(a.body).toMatchObject({ couponCode: 'FIVE-ONLY', discount: { amount: 500 }, total: { amount: 1500 } });
    const refused = answers.filter((a) => a.status !== 201);
    expect(refused).toHaveLength(95);
    for (const a of refused) {
      expect(a.status).toBe(409);
      expect(a.body.type).toMatch(/\/coupon-exhausted$/);
    }
    expect((await stockOf(shop, tee.variantId)).available).toBe(195);
    const after = await shop.t.get(`/api/v1/coupons/${coupon.body.id}`, { token: shop.admin.token });
    expect(after.body.usedCount).toBe(5);
  });

  it('refuses an unknown coupon with 422 and orders nothing', async () => {
    const seller = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    const tee = await product(shop, seller, { price: 2000, stock: 2 });
    const res = await placeOrder(shop, buyer, { items: [item(tee)], couponCode: 'NO-SUCH-CODE' });
    expect(res.status).toBe(422);
    expect(res.body.type).toMatch(/\/coupon-not-found$/);
    expect((await stockOf(shop, tee.variantId)).available).toBe(2);
  });
});

describe('marketplace split, shipping and tax', () => {
  it('splits an order of two sellers into two groups; each seller sees only its own part', async () => {
    const [alice, bob, carol] = [await person(shop.t, ['seller']), await person(shop.t, ['seller']), await person(shop.t, ['seller'])];
    const buyer = await person(shop.t);
    const aliceMug = await product(shop, alice, { price: 1000, stock: 5 });
    const bobBook = await product(shop, bob, { price: 2500, stock: 5 });
    const res = await placeOrder(shop, buyer, { items: [item(aliceMug, 2), item(bobBook, 1)] });
    expect(res.status).toBe(201);
    expect(res.body.groups.map((g: { sellerId: string }) => g.sellerId).sort()).toEqual([alice.id, bob.id].sort());
    expect(res.body.total.amount).toBe(4500);

    const aliceView = await orderOf(shop, res.body.id, alice.token);
    expect(aliceView.sellerView).toBe(true);
    expect(aliceView.items).toMatchObject([{ sellerId: alice.id, quantity: 2 }]);
    expect(aliceView.groups).toMatchObject([{ sellerId: alice.id }]);
    expect(aliceView.total.amount).toBe(2000);
    expect(JSON.stringify(aliceView)).not.toContain(bobBook.variantId);

    expect((await shop.t.get(`/api/v1/orders/${res.body.id}`, { token: carol.token })).status).toBe(404);
    const stranger = await person(shop.t);
    expect((await shop.t.get(`/api/v1/orders/${res.body.id}`, { token: stranger.token })).status).toBe(404);

    const bobsList = await shop.t.get('/api/v1/seller/orders', { token: bob.token });
    expect(bobsList.status).toBe(200);
    expect(bobsList.body.items).toHaveLength(1);
    expect(bobsList.body.items[0]).toMatchObject({ id: res.body.id, sellerView: true, items: [{ sellerId: bob.id }] });

    const buyerView = await orderOf(shop, res.body.id, buyer.token);
    expect(buyerView.items).toHaveLength(2);
    expect(buyerView.sellerView).toBe(false);

    // Bob ships his parcel: his group's history is his and the buyer's to see, not Alice's.
    await orderReaches(shop, res.body.id, 'paid');
    expect((await shop.t.post(`/api/v1/orders/${res.body.id}/ship`, { trackingNumber: 'TRK-BOB' }, { token: bob.token })).status).toBe(200);
    const bobsGroup = (await orderOf(shop, res.body.id, bob.token)).groups[0].id;
    expect((await orderOf(shop, res.body.id, buyer.token)).history.some((h: { groupId: string | null }) => h.groupId === bobsGroup)).toBe(true);
    const aliceLater = await orderOf(shop, res.body.id, alice.token);
    expect(aliceLater.history.length).toBeGreaterThan(0);
    expect(aliceLater.history.every((h: { groupId: string | null }) => h.groupId === null || h.groupId === aliceView.groups[0].id)).toBe(true);
    expect(JSON.stringify(aliceLater.history)).not.toContain(bob.id);
  });

  it("charges each seller's shipping rate, taxes subtotal − discount + shipping at the country's rate, and shows each part", async () => {
    const [flat, byWeight] = [await person(shop.t, ['seller']), await person(shop.t, ['seller'])];
    const buyer = await person(shop.t);
    expect((await shop.t.put('/api/v1/shipping/rates', { kind: 'flat', amount: 499 }, { token: flat.token })).status).toBe(200);
    const weightRate = await shop.t.put('/api/v1/shipping/rates', { kind: 'weight', baseAmount: 300, perKgAmount: 150 }, { token: byWeight.token });
    expect(weightRate.body).toMatchObject({ sellerId: byWeight.id, kind: 'weight', baseAmount: 300, perKgAmount: 150, isDefault: false });
    expect((await shop.t.get(`/api/v1/shipping/rates/${byWeight.id}`)).body).toMatchObject({ kind: 'weight', baseAmount: 300 });
    expect((await shop.t.get(`/api/v1/shipping/rates/${newId()}`)).body).toMatchObject({ kind: 'flat', amount: 0, isDefault: true });
    expect((await shop.t.put('/api/v1/admin/tax-rates/FR', { rateBps: 2000 }, { token: shop.admin.token })).status).toBe(200);
    expect((await shop.t.get('/api/v1/admin/tax-rates', { token: shop.admin.token })).body.items).toContainEqual(expect.objectContaining({ country: 'FR', rateBps: 2000 }));

    const plate = await product(shop, flat, { price: 1999, stock: 5 });
    const anvil = await product(shop, byWeight, { price: 5000, stock: 5, weightGrams: 1200 });
    const res = await placeOrder(shop, buyer, { items: [item(plate, 1), item(anvil, 1)], shippingAddress: { ...address, country: 'FR' } });
    expect(res.status).toBe(201);
    // Anvil: 1.2 kg is two started kilograms -> 300 + 2 × 150.
    expect(res.body.shipping.amount).toBe(499 + 600);
    const taxable = 1999 + 5000 + 1099;
    expect(res.body.taxRateBps).toBe(2000);
    expect(res.body.tax.amount).toBe(Math.floor((taxable * 2000 + 5000) / 10_000));
    expect(res.body.total.amount).toBe(taxable + res.body.tax.amount);
    const groups = res.body.groups as { sellerId: string; shipping: { amount: number }; total: { amount: number } }[];
    expect(groups.find((g) => g.sellerId === flat.id)!.shipping.amount).toBe(499);
    expect(groups.reduce((s, g) => s + g.total.amount, 0)).toBe(res.body.total.amount);
  });

  it('prices the very next order with a shipping or tax rate just changed (the rates are cached briefly)', async () => {
    const seller = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    const vase = await product(shop, seller, { price: 1000, stock: 10 });
    const order = async () => {
      const res = await placeOrder(shop, buyer, { items: [item(vase)], shippingAddress: { ...address, country: 'DE' } });
      expect(res.status).toBe(201);
      return { shipping: res.body.shipping.amount as number, taxRateBps: res.body.taxRateBps as number };
    };
    expect((await shop.t.put('/api/v1/shipping/rates', { kind: 'flat', amount: 300 }, { token: seller.token })).status).toBe(200);
    expect((await shop.t.put('/api/v1/admin/tax-rates/DE', { rateBps: 1900 }, { token: shop.admin.token })).status).toBe(200);
    expect(await order()).toEqual({ shipping: 300, taxRateBps: 1900 });
    expect((await shop.t.put('/api/v1/shipping/rates', { kind: 'flat', amount: 450 }, { token: seller.token })).status).toBe(200);
    expect((await shop.t.put('/api/v1/admin/tax-rates/DE', { rateBps: 700 }, { token: shop.admin.token })).status).toBe(200);
    expect(await order()).toEqual({ shipping: 450, taxRateBps: 700 });
  });

  it('zeroes shipping with a free-shipping coupon', async () => {
    const seller = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    await shop.t.put('/api/v1/shipping/rates', { kind: 'flat', amount: 800 }, { token: seller.token });
    const rug = await product(shop, seller, { price: 4000, stock: 5 });
    await shop.t.post('/api/v1/coupons', { code: 'SHIPFREE', kind: 'free_shipping' }, { token: shop.admin.token });
    const res = await placeOrder(shop, buyer, { items: [item(rug)], couponCode: 'SHIPFREE' });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ shipping: { amount: 0 }, discount: { amount: 0 }, total: { amount: 4000 }, couponCode: 'SHIPFREE' });
  });

  it("waives only its own seller's shipping with a seller's free-shipping coupon", async () => {
    const [giver, other] = [await person(shop.t, ['seller']), await person(shop.t, ['seller'])];
    const buyer = await person(shop.t);
    await shop.t.put('/api/v1/shipping/rates', { kind: 'flat', amount: 700 }, { token: giver.token });
    await shop.t.put('/api/v1/shipping/rates', { kind: 'flat', amount: 900 }, { token: other.token });
    const lamp = await product(shop, giver, { price: 3000, stock: 5 });
    const stool = await product(shop, other, { price: 2000, stock: 5 });
    const coupon = await shop.t.post('/api/v1/coupons', { code: 'GIVERSHIPS', kind: 'free_shipping' }, { token: giver.token });
    expect(coupon.status).toBe(201);
    const res = await placeOrder(shop, buyer, { items: [item(lamp), item(stool)], couponCode: 'GIVERSHIPS' });
    expect(res.status).toBe(201);
    const groups = res.body.groups as { sellerId: string; shipping: { amount: number } }[];
    expect(groups.find((g) => g.sellerId === giver.id)!.shipping.amount).toBe(0);
    expect(groups.find((g) => g.sellerId === other.id)!.shipping.amount).toBe(900);
    expect(res.body.shipping.amount).toBe(900);
  });
});

describe('hostile and impossible checkouts get a 4xx, never a 500, and order nothing', () => {
  let seller: Person;
  let buyer: Person;
  let vase: Awaited<ReturnType<typeof product>>;
  beforeAll(async () => {
    seller = await person(shop.t, ['seller']);
    buyer = await person(shop.t);
    vase = await product(shop, seller, { price: 1500, stock: 3 });
  });

  it('rejects malformed bodies with 400 and the paths at fault', async () => {
    const cases: [Record<string, unknown>, string][] = [
      [{ items: [item(vase, 0)] }, '/items/0/quantity'],
      [{ items: [item(vase, -2)] }, '/items/0/quantity'],
      [{ items: [item(vase, 1_000_000_000)] }, '/items/0/quantity'],
      [{ items: [] }, '/items'],
      [{ items: [item(vase)], shippingAddress: { ...address, country: 'Britain' } }, '/shippingAddress/country'],
      [{ items: [item(vase)], shippingAddress: { name: 'x' } }, '/shippingAddress/line1'],
      [{ items: [item(vase)], payment: { method: 'bitcoin' } }, '/payment'],
      [{ items: [item(vase)], payment: { method: 'card', token: "'; drop table orders.orders; --" } }, '/payment'],
      [{ items: [item(vase)], admin: true }, '/admin'],
      [{ items: [{ ...item(vase), unitPrice: 1 }] }, '/items/0/unitPrice'],
    ];
    for (const [body, path] of cases) {
      const res = await placeOrder(shop, buyer, body);
      expect(res.status, JSON.stringify(body)).toBe(400);
      expect(res.body.errors.map((e: { path: string }) => e.path).join(' '), JSON.stringify(body)).toContain(path);
    }
    const raw = await shop.t.request('POST', '/api/v1/orders', { raw: '{"items": [', token: buyer.token, headers: { 'content-type': 'application/json' } });
    expect(raw.status).toBe(400);
  });

  it('names unknown products and variants (422) and refuses items no longer on sale (409)', async () => {
    const unknown = await placeOrder(shop, buyer, { items: [{ productId: newId(), quantity: 1 }] });
    expect(unknown.status).toBe(422);
    expect(unknown.body.type).toMatch(/\/unknown-item$/);
    const wrongPair = await placeOrder(shop, buyer, { items: [{ productId: vase.productId, variantId: newId(), quantity: 1 }] });
    expect(wrongPair.status).toBe(422);
    const notUuid = await placeOrder(shop, buyer, { items: [{ productId: 'not-a-product', quantity: 1 }] });
    expect(notUuid.status).toBe(422);

    const draft = await product(shop, seller, { price: 100, stock: 3 });
    expect((await shop.t.patch(`/api/v1/products/${draft.productId}`, { status: 'archived' }, { token: seller.token })).status).toBe(200);
    const archived = await placeOrder(shop, buyer, { items: [item(draft)] });
    expect(archived.status).toBe(409);
    expect(archived.body.type).toMatch(/\/item-unavailable$/);
    expect((await stockOf(shop, draft.variantId)).available).toBe(3);
  });

  it('needs a signed-in user, a sane Idempotency-Key and sane list cursors', async () => {
    expect((await shop.t.post('/api/v1/orders', { items: [item(vase)], shippingAddress: address, payment: { method: 'cod' } })).status).toBe(401);
    const badKey = await placeOrder(shop, buyer, { items: [item(vase)] }, { 'idempotency-key': 'x'.repeat(300) });
    expect(badKey.status).toBe(400);
    expect((await shop.t.get('/api/v1/orders?cursor=%%%', { token: buyer.token })).status).toBe(400);
    expect((await shop.t.get('/api/v1/orders?limit=1000', { token: buyer.token })).status).toBe(400);
    expect((await shop.t.get('/api/v1/orders/not-an-order', { token: buyer.token })).status).toBe(404);
    expect((await shop.t.get('/api/v1/admin/orders', { token: buyer.token })).status).toBe(403);
    expect((await stockOf(shop, vase.variantId)).available).toBe(3);
  });
});
