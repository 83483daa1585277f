import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, category, customer, eventually, product, productBody, seller, startCatalogApp, type Caller } from '../../../test/support/catalog.ts';
import { countQueries } from '../../../test/support/queries.ts';
import { newId } from '../../kernel/ids.ts';
import type { BazaarModule } from '../../kernel/module.ts';
import { SELLER_DIRECTORY_PORT, type SellerDirectory } from '../identity/contract.ts';
import { PRODUCT_CATALOG_PORT, type ProductCatalog } from './contract.ts';

/** Stands in for identity's seller directory: sellers named here are suspended. */
const suspendedInDirectory = new Set<string>();
const sellerDirectory: BazaarModule = {
  name: 'directory_stub',
  migrations: {},
  providePorts(ctx) {
    ctx.ports.provide<SellerDirectory>(SELLER_DIRECTORY_PORT, { isSellerActive: async (id) => !suspendedInDirectory.has(id) });
  },
};

describe('products', () => {
  let t: TestApp;
  let boss: Caller;
  let owner: Caller;
  let rival: Caller;
  let shopper: Caller;
  let categoryId: string;

  beforeAll(async () => {
    t = await startCatalogApp({}, [sellerDirectory]);
    boss = await admin(t);
    owner = await seller(t);
    rival = await seller(t);
    shopper = await customer(t);
    categoryId = (await category(t, boss)).id;
  });
  afterAll(() => t.close());

  const outbox = async (aggregateId: string) =>
    (await sql<any>`select type, data, correlation_id as "correlationId" from kernel.outbox where aggregate_id = ${aggregateId} order by seq`.execute(t.database.db)).rows;

  it('lets a seller create a product that anyone can then read, with stock from inventory', async () => {
    const res = await t.post(
      '/api/v1/products',
      productBody(categoryId, {
        name: 'Trail Runner',
        brand: 'Stride',
        attributes: { material: 'mesh', waterproof: false, drop: 8 },
        variants: [
          { sku: 'TR-42', price: { amount: 8999, currency: 'USD' }, stock: 4, options: { size: '42' }, weightGrams: 700 },
          { sku: 'TR-43', price: 9499, options: { size: '43' } },
        ],
      }),
      { token: owner.token },
    );
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      sellerId: owner.id,
      name: 'Trail Runner',
      description: 'Holds coffee.',
      categoryId,
      categoryPath: [categoryId],
      brand: 'Stride',
      attributes: { material: 'mesh', waterproof: false, drop: 8 },
      status: 'active',
      images: [],
      rating: { average: 0, count: 0 },
    });
    expect(res.body.variants).toEqual([
      { id: expect.any(String), sku: 'TR-42', price: { amount: 8999, currency: 'USD' }, options: { size: '42' }, weightGrams: 700, available: 4 },
      // A bare integer price means US cents.
      { id: expect.any(String), sku: 'TR-43', price: { amount: 9499, currency: 'USD' }, options: { size: '43' }, weightGrams: null, available: 0 },
    ]);
    const read = await t.get(`/api/v1/products/${res.body.id}`);
    expect(read.status).toBe(200);
    expect(read.body).toEqual(res.body);
  });

  it('announces created, updated and deleted products with full snapshots, and audits each write', async () => {
    const made = await product(t, owner, categoryId, { name: 'Snapshot Lamp' });
    await t.patch(`/api/v1/products/${made.id}`, { name: 'Snapshot Lamp II' }, { token: owner.token, headers: { 'x-request-id': 'lamp-rename-1' } });
    await t.delete(`/api/v1/products/${made.id}`, { token: owner.token });
    const events = await outbox(made.id);
    expect(events.map((e) => e.type)).toEqual(['catalog.product.created', 'catalog.product.updated', 'catalog.product.deleted']);
    expect(events[0].data.product).toEqual({
      id: made.id,
      sellerId: owner.id,
      name: 'Snapshot Lamp',
      description: made.description,
      categoryId,
      categoryPath: [categoryId],
      brand: made.brand,
      attributes: made.attributes,
      status: 'active',
      sellerActive: true,
      variants: made.variants.map((v: any) => ({ id: v.id, sku: v.sku, price: v.price, options: v.options })),
      images: [],
      createdAt: made.createdAt,
      updatedAt: made.updatedAt,
    });
    expect(events[1].data.product.name).toBe('Snapshot Lamp II');
    expect(events[2].data).toEqual({ productId: made.id, sellerId: owner.id });
    const audit = await sql<any>`select action, request_id from kernel.audit_log where target_id = ${made.id} order by at`.execute(t.database.db);
    expect(audit.rows.map((r) => r.action)).toEqual(['catalog.product.create', 'catalog.product.update', 'catalog.product.delete']);
    // The rename's audit row and event name the request that made it.
    expect(audit.rows[1].request_id).toBe('lamp-rename-1');
    expect(events[1].correlationId).toBe('lamp-rename-1');
    expect((await t.get(`/api/v1/products/${made.id}`)).status).toBe(404);
  });

  it('lets only sellers and admins create, and a seller only under its own name', async () => {
    expect((await t.post('/api/v1/products', productBody(categoryId))).status).toBe(401);
    expect((await t.post('/api/v1/products', productBody(categoryId), { token: shopper.token })).status).toBe(403);
    expect((await t.post('/api/v1/products', productBody(categoryId, { sellerId: rival.id }), { token: owner.token })).status).toBe(403);
    const onBehalf = await t.post('/api/v1/products', productBody(categoryId, { sellerId: rival.id }), { token: boss.token });
    expect(onBehalf.status).toBe(201);
    expect(onBehalf.body.sellerId).toBe(rival.id);
  });

  it('keeps SKUs unique per seller (409), but two sellers may use the same SKU', async () => {
    const sku = `DUP-${newId().slice(-6)}`;
    const first = await t.post('/api/v1/products', productBody(categoryId, { variants: [{ sku, price: 100 }] }), { token: owner.token });
    expect(first.status).toBe(201);
    const again = await t.post('/api/v1/products', productBody(categoryId, { variants: [{ sku, price: 100 }] }), { token: owner.token });
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/\/duplicate-sku$/);
    const twice = await t.post('/api/v1/products', productBody(categoryId, { variants: [{ sku: `${sku}-B`, price: 1 }, { sku: `${sku}-B`, price: 2 }] }), { token: owner.token });
    expect(twice.status).toBe(409);
    expect((await t.post('/api/v1/products', productBody(categoryId, { variants: [{ sku, price: 100 }] }), { token: rival.token })).status).toBe(201);
  });

  it('lets the owner and an admin edit, another seller gets 403 and a shopper 403', async () => {
    const made = await product(t, owner, categoryId);
    expect((await t.patch(`/api/v1/products/${made.id}`, { name: 'Stolen' }, { token: rival.token })).status).toBe(403);
    expect((await t.patch(`/api/v1/products/${made.id}`, { name: 'Mine now' }, { token: shopper.token })).status).toBe(403);
    expect((await t.patch(`/api/v1/products/${made.id}`, { name: 'Nobody' })).status).toBe(401);
    expect((await t.delete(`/api/v1/products/${made.id}`, { token: rival.token })).status).toBe(403);

    const edited = await t.patch(`/api/v1/products/${made.id}`, { description: 'Now in blue', brand: null, attributes: { colour: 'blue' } }, { token: owner.token });
    expect(edited.status).toBe(200);
    expect(edited.body).toMatchObject({ description: 'Now in blue', brand: null, attributes: { colour: 'blue' } });
    const takenDown = await t.patch(`/api/v1/products/${made.id}`, { status: 'archived' }, { token: boss.token });
    expect(takenDown.body.status).toBe('archived');
    expect((await t.get(`/api/v1/products/${made.id}`)).status).toBe(404);
  });

  it('adds, edits and removes variants in a PATCH, and keeps at least one', async () => {
    const made = await product(t, owner, categoryId);
    const [first] = made.variants;
    const added = await t.patch(
      `/api/v1/products/${made.id}`,
      { variants: [{ id: first.id, price: { amount: 2499, currency: 'USD' } }, { sku: `${first.sku}-L`, price: 2999, stock: 3, options: { size: 'L' } }] },
      { token: owner.token },
    );
    expect(added.status).toBe(200);
    expect(added.body.variants).toHaveLength(2);
    expect(added.body.variants[0]).toMatchObject({ id: first.id, price: { amount: 2499 } });
    expect(added.body.variants[1]).toMatchObject({ sku: `${first.sku}-L`, available: 3, options: { size: 'L' } });

    const removed = await t.patch(`/api/v1/products/${made.id}`, { removeVariantIds: [first.id] }, { token: owner.token });
    expect(removed.body.variants.map((v: any) => v.sku)).toEqual([`${first.sku}-L`]);
    const last = await t.patch(`/api/v1/products/${made.id}`, { removeVariantIds: [added.body.variants[1].id] }, { token: owner.token });
    expect(last.status).toBe(409);
    const foreign = await t.patch(`/api/v1/products/${made.id}`, { variants: [{ id: newId(), price: 1 }] }, { token: owner.token });
    expect(foreign.status).toBe(400);
    const incomplete = await t.patch(`/api/v1/products/${made.id}`, { variants: [{ sku: 'NO-PRICE' }] }, { token: owner.token });
    expect(incomplete.status).toBe(400);
    // The removed variant's SKU is free again.
    const reuse = await t.patch(`/api/v1/products/${made.id}`, { variants: [{ sku: first.sku, price: 100 }] }, { token: owner.token });
    expect(reuse.status).toBe(200);
  });

  it('hides drafts and archived products from everyone but their seller and admins', async () => {
    const draft = await product(t, owner, categoryId, { status: 'draft', name: 'Secret Draft' });
    expect(draft.status).toBe('draft');
    expect((await t.get(`/api/v1/products/${draft.id}`)).status).toBe(404);
    expect((await t.get(`/api/v1/products/${draft.id}`, { token: shopper.token })).status).toBe(404);
    expect((await t.get(`/api/v1/products/${draft.id}`, { token: rival.token })).status).toBe(404);
    expect((await t.patch(`/api/v1/products/${draft.id}`, { name: 'x' }, { token: rival.token })).status).toBe(404);
    expect((await t.get(`/api/v1/products/${draft.id}`, { token: owner.token })).status).toBe(200);
    expect((await t.get(`/api/v1/products/${draft.id}`, { token: boss.token })).status).toBe(200);

    const storefront = await t.get(`/api/v1/products?sellerId=${owner.id}&limit=100`);
    expect(storefront.body.items.map((p: any) => p.id)).not.toContain(draft.id);
    const mine = await t.get(`/api/v1/products?sellerId=${owner.id}&status=draft`, { token: owner.token });
    expect(mine.status).toBe(200);
    expect(mine.body.items.map((p: any) => p.id)).toEqual([draft.id]);
    expect((await t.get(`/api/v1/products?sellerId=${owner.id}&status=draft`, { token: rival.token })).status).toBe(403);
    expect((await t.get(`/api/v1/products?status=draft`)).status).toBe(403);
    const all = await t.get(`/api/v1/products?status=draft&limit=100`, { token: boss.token });
    expect(all.body.items.map((p: any) => p.id)).toContain(draft.id);
  });

  it('pages through the storefront newest first with no duplicates and nothing skipped', async () => {
    const own = await category(t, boss, `Paged ${newId().slice(-6)}`);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) made.push((await product(t, owner, own.id)).id);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: any = await t.get(`/api/v1/products?categoryId=${own.id}&limit=3${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.body.items.map((p: any) => p.id));
      cursor = res.body.nextCursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual([...made].reverse());
    expect((await t.get('/api/v1/products?cursor=garbage')).status).toBe(400);
    expect((await t.get('/api/v1/products?limit=101')).status).toBe(400);
  });

  it('reads a page of products with a constant number of queries, whatever the page size', async () => {
    const own = await category(t, boss, `Counted ${newId().slice(-6)}`);
    for (let i = 0; i < 20; i++) {
      await product(t, i % 2 ? owner : rival, own.id, {
        variants: [{ sku: `Q-${newId().slice(-10)}`, price: 100, stock: 2 }, { sku: `Q-${newId().slice(-10)}`, price: 200 }],
      });
    }
    const counter = countQueries();
    try {
      const small = await t.get(`/api/v1/products?categoryId=${own.id}&limit=2`, { headers: { 'x-request-id': 'page-of-2' } });
      const large = await t.get(`/api/v1/products?categoryId=${own.id}&limit=20`, { headers: { 'x-request-id': 'page-of-20' } });
      expect(small.body.items).toHaveLength(2);
      expect(large.body.items).toHaveLength(20);
      expect(large.body.items.every((p: any) => p.variants.length === 2 && p.variants[0].available === 2)).toBe(true);
      expect(counter.of('page-of-20')).toBe(counter.of('page-of-2'));
      // The page with its variants, images and category paths in one statement, and one stock lookup.
      expect(counter.of('page-of-20')).toBeGreaterThan(0);
      expect(counter.of('page-of-20')).toBeLessThanOrEqual(2);
    } finally {
      counter.stop();
    }
  });

  it('treats hostile input as data or rejects it with 400, never 500', async () => {
    const sqlName = "Robert'); DROP TABLE catalog.products;--";
    const odd = await t.post('/api/v1/products', productBody(categoryId, { name: sqlName, description: '<script>alert(1)</script>' }), { token: owner.token });
    expect(odd.status).toBe(201);
    expect((await t.get(`/api/v1/products/${odd.body.id}`)).body.name).toBe(sqlName);
    const found = await t.get(`/api/v1/products?q=${encodeURIComponent("'); DROP")}`);
    expect(found.body.items.map((p: any) => p.id)).toContain(odd.body.id);
    expect((await t.get(`/api/v1/products?q=${encodeURIComponent('%_\\')}`)).status).toBe(200);

    const bad = [
      { variants: [{ sku: 'NEG', price: -1 }] },
      { variants: [{ sku: 'NEG2', price: { amount: -500, currency: 'USD' } }] },
      { variants: [{ sku: 'FLOAT', price: { amount: 19.99, currency: 'USD' } }] },
      // Above the highest price, at which the largest cart still sums exactly (catalog's MAX_PRICE).
      { variants: [{ sku: 'DEAR', price: { amount: 9_000_000_001, currency: 'USD' } }] },
      { variants: [{ sku: 'DEAR2', price: 9_000_000_001 }] },
      { variants: [{ sku: 'CUR', price: { amount: 100, currency: 'dollars' } }] },
      { variants: [] },
      { name: 'x'.repeat(201) },
      { name: '   ' },
      { description: 'x'.repeat(20_001) },
      { attributes: { notes: 'x'.repeat(1001) } },
      { attributes: { nested: { deep: true } } },
      { variants: [{ sku: 'has space', price: 1 }] },
      { variants: [{ sku: 'STOCK', price: 1, stock: -3 }] },
      { categoryId: 'not-a-uuid' },
      { categoryId: newId() },
      { status: 'archived' },
      { unexpected: true },
    ];
    for (const overrides of bad) {
      const res = await t.post('/api/v1/products', productBody(categoryId, overrides), { token: owner.token });
      expect(res.status, JSON.stringify(overrides)).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }
    expect((await t.get('/api/v1/products/not-a-uuid')).status).toBe(400);
    expect((await t.get(`/api/v1/products/${newId()}`)).status).toBe(404);
    expect((await t.patch(`/api/v1/products/${odd.body.id}`, {}, { token: owner.token })).status).toBe(400);
  });

  it('refuses writes from a seller the directory reports suspended (403), but not from an admin', async () => {
    const suspended = await seller(t);
    const made = await product(t, suspended, categoryId);
    suspendedInDirectory.add(suspended.id);
    try {
      const create = await t.post('/api/v1/products', productBody(categoryId), { token: suspended.token });
      expect(create.status).toBe(403);
      expect(create.body.type).toMatch(/\/seller-suspended$/);
      expect((await t.patch(`/api/v1/products/${made.id}`, { name: 'x' }, { token: suspended.token })).status).toBe(403);
      expect((await t.patch(`/api/v1/products/${made.id}`, { status: 'archived' }, { token: boss.token })).status).toBe(200);
    } finally {
      suspendedInDirectory.delete(suspended.id);
    }
  });

  it('drops a suspended seller\'s products from the storefront and brings them back on reinstatement', async () => {
    const merchant = await seller(t);
    const own = await category(t, boss, `Suspension ${newId().slice(-6)}`);
    const a = await product(t, merchant, own.id);
    const b = await product(t, merchant, own.id);
    const other = await product(t, rival, own.id);
    const send = (type: string, status: string) =>
      t.app.ctx.transaction((tx) => t.app.ctx.publish(tx, { type, aggregateId: merchant.id, data: { sellerId: merchant.id, status } }));

    await send('identity.seller.suspended', 'suspended');
    await eventually(async () => (await t.get(`/api/v1/products/${a.id}`)).status === 404);
    const listed = await t.get(`/api/v1/products?categoryId=${own.id}`);
    expect(listed.body.items.map((p: any) => p.id)).toEqual([other.id]);
    expect((await t.get(`/api/v1/products/${b.id}`, { token: merchant.token })).status).toBe(200);
    const snapshots = (await outbox(a.id)).filter((e) => e.type === 'catalog.product.updated');
    expect(snapshots.at(-1)!.data.product).toMatchObject({ id: a.id, sellerActive: false, status: 'active' });
    // Catalog remembers the suspension: no new products even without a seller directory to ask.
    expect((await t.post('/api/v1/products', productBody(own.id), { token: merchant.token })).status).toBe(403);

    await send('identity.seller.reinstated', 'active');
    await eventually(async () => (await t.get(`/api/v1/products/${a.id}`)).status === 200);
    expect((await t.get(`/api/v1/products?categoryId=${own.id}`)).body.items).toHaveLength(3);
    expect((await outbox(b.id)).at(-1)!.data.product.sellerActive).toBe(true);
  });

  it('provides the catalog.products port: prices and purchasability for carts and checkout', async () => {
    const port = t.app.ctx.ports.get<ProductCatalog>(PRODUCT_CATALOG_PORT);
    const made = await product(t, owner, categoryId, {
      name: 'Port Kettle',
      variants: [{ sku: `PK-${newId().slice(-8)}`, price: 3500, weightGrams: 1200, options: { colour: 'red' } }, { sku: `PK-${newId().slice(-8)}`, price: 3900 }],
    });
    const draft = await product(t, owner, categoryId, { status: 'draft' });
    const variants = await port.getVariants([made.variants[1].id, draft.variants[0].id, newId(), 'junk']);
    expect(variants).toHaveLength(2);
    expect(variants.find((v) => v.variantId === made.variants[1].id)).toEqual({
      productId: made.id,
      variantId: made.variants[1].id,
      sellerId: owner.id,
      productName: 'Port Kettle',
      sku: made.variants[1].sku,
      options: {},
      price: { amount: 3900, currency: 'USD' },
      purchasable: true,
      weightGrams: null,
    });
    expect(variants.find((v) => v.variantId === draft.variants[0].id)!.purchasable).toBe(false);
    const defaults = await port.getDefaultVariants([made.id, 'junk']);
    expect(defaults).toEqual([expect.objectContaining({ variantId: made.variants[0].id, weightGrams: 1200, options: { colour: 'red' } })]);
  });
});
