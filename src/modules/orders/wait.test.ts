import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { item, person, placeOrder, product, startShop, type Person, type Shop } from '../../../test/support/orders.ts';

describe('waiting for an order to change (GET /orders/{id}?waitWhileStatus=…)', () => {
  let shop: Shop;
  let seller: Person;
  let buyer: Person;
  beforeAll(async () => {
    // The gateway takes 150 ms per call (authorize, capture): a payment is still pending right after the order.
    shop = await startShop({}, { gateway: { latencyMs: 150 } });
    seller = await person(shop.t, ['seller']);
    buyer = await person(shop.t);
  });
  afterAll(() => shop.t.close());

  const waitFor = (orderId: string, query: string, token = buyer.token) => shop.t.get(`/api/v1/orders/${orderId}?${query}`, { token });

  it('answers once the payment has moved the order on, in one request', async () => {
    const p = await product(shop, seller, { price: 1200, stock: 3 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)] });
    expect(placed.status).toBe(201);
    expect(placed.body.status).toBe('pending');
    const seen = await waitFor(placed.body.id, 'waitWhileStatus=pending&waitSeconds=20');
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe('paid');
    expect(seen.body.id).toBe(placed.body.id);
    // The waiter is answered with the order as the change committed it: what reading it afresh shows.
    expect(seen.body).toEqual((await shop.t.get(`/api/v1/orders/${placed.body.id}`, { token: buyer.token })).body);
  });

  it('answers at once when the order is not in the awaited status', async () => {
    const p = await product(shop, seller, { price: 800, stock: 3 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)] });
    const seen = await waitFor(placed.body.id, 'waitWhileStatus=shipped&waitSeconds=20');
    expect(seen.status).toBe(200);
    expect(['pending', 'paid']).toContain(seen.body.status);
  });

  it('does not let anyone wait on an order they cannot see, and refuses bad parameters', async () => {
    const p = await product(shop, seller, { price: 500, stock: 3 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)] });
    const stranger = await person(shop.t);
    expect((await waitFor(placed.body.id, 'waitWhileStatus=pending', stranger.token)).status).toBe(404);
    expect((await waitFor(placed.body.id, 'waitWhileStatus=nonsense')).status).toBe(400);
    expect((await waitFor(placed.body.id, 'waitWhileStatus=pending&waitSeconds=0')).status).toBe(400);
    expect((await waitFor(placed.body.id, 'waitWhileStatus=pending&waitSeconds=31')).status).toBe(400);
  });
});

describe('an order that does not change before the wait runs out', () => {
  let shop: Shop;
  beforeAll(async () => {
    // Nothing runs in the background: no relay, so no payment; the order stays pending.
    shop = await startShop({}, { background: false });
  });
  afterAll(() => shop.t.close());

  it('is answered as it is once waitSeconds have passed', async () => {
    const seller = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 900, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)] });
    expect(placed.status).toBe(201);
    const started = Date.now();
    const seen = await shop.t.get(`/api/v1/orders/${placed.body.id}?waitWhileStatus=pending&waitSeconds=1`, { token: buyer.token });
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe('pending');
    // It did wait (a lower bound only: a slow machine may take longer, never less).
    expect(Date.now() - started).toBeGreaterThanOrEqual(950);
  });

  it('sees a change another instance committed, though this one placed the order a moment ago', async () => {
    const seller = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 700, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)] });
    expect(placed.body.status).toBe('pending');
    // Behind this process's back, as another instance would: nothing here is told of the change.
    await sql`update orders.orders set status = 'cancelled' where id = ${placed.body.id}`.execute(shop.t.database.db);
    const started = Date.now();
    const seen = await shop.t.get(`/api/v1/orders/${placed.body.id}?waitWhileStatus=pending&waitSeconds=30`, { token: buyer.token });
    expect(seen.status).toBe(200);
    expect(seen.body.status).toBe('cancelled');
    // Found by a re-check while waiting, not only when the 30 seconds ran out.
    expect(Date.now() - started).toBeLessThan(20_000);
  });
});
