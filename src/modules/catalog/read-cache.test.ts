import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, category, eventually, product, seller, startCatalogApp, type Caller } from '../../../test/support/catalog.ts';
import { newId } from '../../kernel/ids.ts';
import { STOCK_PORT, type StockPort } from '../inventory/contract.ts';

// Anonymous product reads are served from a short-lived cache; these check that no write hides behind it.
describe('cached anonymous product reads', () => {
  let t: TestApp;
  let boss: Caller;
  let owner: Caller;
  let categoryId: string;

  beforeAll(async () => {
    t = await startCatalogApp();
    boss = await admin(t);
    owner = await seller(t);
    categoryId = (await category(t, boss)).id;
  });
  afterAll(() => t.close());

  const listed = async (id: string) => (await t.get(`/api/v1/products?categoryId=${categoryId}&limit=50`)).body.items.find((p: any) => p.id === id);

  it('shows a product change on the very next read, in the detail and in the list', async () => {
    const made = await product(t, owner, categoryId);
    expect((await t.get(`/api/v1/products/${made.id}`)).body.name).toBe(made.name);
    expect((await listed(made.id)).name).toBe(made.name);

    const renamed = `Renamed ${newId().slice(-8)}`;
    expect((await t.patch(`/api/v1/products/${made.id}`, { name: renamed }, { token: owner.token })).status).toBe(200);
    expect((await t.get(`/api/v1/products/${made.id}`)).body.name).toBe(renamed);
    expect((await listed(made.id)).name).toBe(renamed);

    expect((await t.delete(`/api/v1/products/${made.id}`, { token: owner.token })).status).toBe(204);
    expect((await t.get(`/api/v1/products/${made.id}`)).status).toBe(404);
    expect(await listed(made.id)).toBeUndefined();
  });

  it('serves the same body from the cache as it built, and keeps drafts from anonymous readers', async () => {
    const made = await product(t, owner, categoryId, { status: 'draft' });
    expect((await t.get(`/api/v1/products/${made.id}`)).status).toBe(404);
    const own = await t.get(`/api/v1/products/${made.id}`, { token: owner.token });
    expect(own.status).toBe(200);
    expect(own.body.status).toBe('draft');
    expect((await t.get(`/api/v1/products/${made.id}`)).status).toBe(404);

    expect((await t.patch(`/api/v1/products/${made.id}`, { status: 'active' }, { token: owner.token })).status).toBe(200);
    const first = await t.get(`/api/v1/products/${made.id}`);
    const second = await t.get(`/api/v1/products/${made.id}`);
    expect(first.status).toBe(200);
    expect(second.headers['content-type']).toBe(first.headers['content-type']);
    expect(second.body).toEqual(first.body);
  });

  it('shows a category move in the product\'s path on the next read', async () => {
    const made = await product(t, owner, categoryId);
    const parent = await category(t, boss);
    expect((await t.get(`/api/v1/products/${made.id}`)).body.categoryPath).toEqual([categoryId]);
    expect((await t.patch(`/api/v1/categories/${categoryId}`, { parentId: parent.id }, { token: boss.token })).status).toBe(200);
    expect((await t.get(`/api/v1/products/${made.id}`)).body.categoryPath).toEqual([parent.id, categoryId]);
    expect((await t.patch(`/api/v1/categories/${categoryId}`, { parentId: null }, { token: boss.token })).status).toBe(200);
  });

  it('shows a stock change once inventory has announced it', async () => {
    const made = await product(t, owner, categoryId);
    const variantId = made.variants[0].id;
    expect((await t.get(`/api/v1/products/${made.id}`)).body.variants[0].available).toBe(10);
    const adjusted = await t.post('/api/v1/inventory/adjustments', { variantId, delta: -4, reason: 'cycle count' }, { token: owner.token });
    expect(adjusted.status).toBe(201);
    await eventually(async () => (await t.get(`/api/v1/products/${made.id}`)).body.variants[0].available === 6);
    await eventually(async () => (await listed(made.id)).variants[0].available === 6);
  });

  it('shows stock held by a checkout reservation once inventory has announced it', async () => {
    const made = await product(t, owner, categoryId);
    const variantId = made.variants[0].id;
    expect((await t.get(`/api/v1/products/${made.id}`)).body.variants[0].available).toBe(10);
    const port = t.app.ctx.ports.get<StockPort>(STOCK_PORT);
    const reservationId = newId();
    await t.app.ctx.transaction((tx) =>
      port.reserve(tx, { reservationId, lines: [{ variantId, quantity: 3 }], expiresAt: new Date(Date.now() + 600_000), reference: `order-${reservationId.slice(-6)}` }),
    );
    await eventually(async () => (await t.get(`/api/v1/products/${made.id}`)).body.variants[0].available === 7);
  });
});
