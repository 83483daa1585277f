import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { customer, product, seller, type Caller } from '../../../test/support/cart.ts';
import { countQueries } from '../../../test/support/queries.ts';
import { catalogModule } from '../catalog/index.ts';
import { inventoryModule } from '../inventory/index.ts';
import { promotionsModule } from '../promotions/index.ts';
import { cartModule } from './index.ts';

/**
 * Adding to a cart checks the stock from figures inventory keeps between changes. Two instances share
 * a real Redis, as a deployment behind a load balancer does: a change on one must reach the other's
 * checks at once, not after the figures' lifetime.
 */
describe('stock checks of cart changes across instances', () => {
  const env = { REDIS_URL: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379' };
  let first: TestApp;
  let second: TestApp;
  let shop: Caller;
  let buyer: Caller;

  beforeAll(async () => {
    first = await startTestApp(env, { modules: [inventoryModule, catalogModule, cartModule, promotionsModule] });
    second = await first.restart(env);
    shop = await seller(first);
    buyer = await customer(first);
  });
  afterAll(async () => {
    await second?.close();
    await first?.close();
  });

  const add = (t: TestApp, productId: string, quantity: number, requestId?: string) =>
    t.post('/api/v1/cart/items', { productId, quantity }, { token: buyer.token, ...(requestId ? { headers: { 'x-request-id': requestId } } : {}) });
  const adjust = (t: TestApp, variantId: string, delta: number) =>
    t.post('/api/v1/inventory/adjustments', { variantId, delta, reason: 'cycle count' }, { token: shop.token });

  it('refuses, with the exact count, stock that another instance has just taken away', async () => {
    const mug = await product(first, shop, { stock: 50 });
    expect((await add(first, mug.id, 1)).status).toBe(201);
    // The first instance now keeps 50 for this variant; the second takes 45 away.
    expect((await adjust(second, mug.variants[0]!.id, -45)).status).toBe(201);

    const refused = await add(first, mug.id, 10);
    expect(refused.status).toBe(409);
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/insufficient-stock$/), available: 5 });
  });

  it('accepts, at once, stock that another instance has just added', async () => {
    const cup = await product(first, shop, { stock: 2 });
    expect((await add(first, cup.id, 5)).status).toBe(409);
    expect((await adjust(second, cup.variants[0]!.id, 10)).status).toBe(201);
    const added = await add(first, cup.id, 5);
    expect(added.status).toBe(201);
    expect(added.body.items.find((i: any) => i.productId === cup.id)).toMatchObject({ quantity: 5, available: 12 });
  });

  it('reads no stock from the database while nothing changed it, nor after a change this instance made', async () => {
    const plate = await product(first, shop, { stock: 30 });
    expect((await add(first, plate.id, 1)).status).toBe(201);
    const counter = countQueries();
    const readsStock = (requestId: string) => counter.statements(requestId).some((text) => text.includes('inventory.stock_levels'));
    try {
      expect((await add(first, plate.id, 1, 'add-again')).status).toBe(201);
      expect(readsStock('add-again')).toBe(false);
      // A change on this instance leaves its figure under its own bump: the next check reads nothing.
      expect((await adjust(first, plate.variants[0]!.id, -1)).status).toBe(201);
      const afterOwnChange = await add(first, plate.id, 1, 'add-after-own-change');
      expect(afterOwnChange.status).toBe(201);
      expect(readsStock('add-after-own-change')).toBe(false);
      expect(afterOwnChange.body.items.find((i: any) => i.productId === plate.id)).toMatchObject({ quantity: 3, available: 29 });
      // A change on the other instance moves the epoch past this instance's figure: it reads again.
      expect((await adjust(second, plate.variants[0]!.id, -4)).status).toBe(201);
      const afterOtherChange = await add(first, plate.id, 1, 'add-after-other-change');
      expect(afterOtherChange.status).toBe(201);
      expect(readsStock('add-after-other-change')).toBe(true);
      expect(afterOtherChange.body.items.find((i: any) => i.productId === plate.id)).toMatchObject({ quantity: 4, available: 25 });
    } finally {
      counter.stop();
    }
  });
});
