import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, startCatalogApp } from '../../../test/support/catalog.ts';
import { DEMO_SELLERS } from '../identity/contract.ts';
import { DEMO_LOCATIONS } from '../inventory/contract.ts';
import { seedLargeCatalog } from './seed.ts';

describe('demo catalog and the benchmark seed', () => {
  let t: TestApp;

  beforeAll(async () => {
    // No relay: nothing here consumes the thousands of demo events, and relaying them would only compete
    // with the test for PGlite's single connection.
    t = await startCatalogApp({ DEMO_DATA: '1' }, [], { background: false });
  });
  afterAll(() => t.close());

  const count = async (query: ReturnType<typeof sql<any>>) => (await query.execute(t.database.db)).rows[0].n as number;

  it('fills an empty store with over 1,000 active products from the three demo sellers', async () => {
    expect(await count(sql`select count(*)::int as n from catalog.products where status = 'active' and seller_active`)).toBeGreaterThanOrEqual(1000);
    const sellers = (await sql<any>`select distinct seller_id from catalog.products order by seller_id`.execute(t.database.db)).rows.map((r) => r.seller_id);
    expect(sellers).toEqual(DEMO_SELLERS.map((s) => s.id).sort());
    expect(await count(sql`select count(distinct brand)::int as n from catalog.products`)).toBeGreaterThan(20);
    const perProduct = await count(sql`select max(n)::int as n from (select count(*) as n from catalog.variants group by product_id) v`);
    expect(perProduct).toBeGreaterThan(1);
  });

  it('arranges them in a three-level category tree that the storefront can browse by any level', async () => {
    const tree = (await t.get('/api/v1/categories')).body.items as any[];
    const electronics = tree.find((c) => c.name === 'Electronics');
    const phones = electronics.children.find((c: any) => c.name === 'Phones');
    const smartphones = phones.children.find((c: any) => c.name === 'Smartphones');
    expect(smartphones).toMatchObject({ slug: 'smartphones', children: [] });
    expect(tree.map((c) => c.name)).toEqual(expect.arrayContaining(['Electronics', 'Fashion', 'Home']));
    const slugs = JSON.stringify(tree).match(/"slug":"[^"]+"/g)!;
    expect(new Set(slugs).size).toBe(slugs.length);

    const page = await t.get(`/api/v1/products?categoryId=${electronics.id}&limit=50`);
    expect(page.body.items).toHaveLength(50);
    expect(page.body.items.every((p: any) => p.categoryPath[0] === electronics.id && p.categoryPath.length === 3)).toBe(true);
    expect(page.body.items.some((p: any) => p.variants.some((v: any) => v.available > 0))).toBe(true);
  });

  it('is the same catalog on every run', async () => {
    const { rows } = await sql<any>`
      select p.name, p.brand, v.price_amount from catalog.variants v join catalog.products p on p.id = v.product_id
      where v.sku in ('DEMO-00001-1', 'DEMO-01020-1') order by v.sku`.execute(t.database.db);
    expect(rows).toEqual([
      { name: 'Nimbus Nova Phone Max', brand: 'Nimbus', price_amount: 38199 },
      { name: 'A History of the Silent Harbor', brand: 'Quill House', price_amount: 1999 },
    ]);
  });

  it('stocks two warehouses and the store, through the ledger', async () => {
    const boss = await admin(t);
    const page = (await t.get('/api/v1/products?limit=15')).body.items as any[];
    const stocked = new Set<string>();
    for (const variant of page.flatMap((p) => p.variants)) {
      const view = (await t.get(`/api/v1/inventory/${variant.id}`, { token: boss.token })).body;
      expect(view.available).toBe(variant.available);
      const ledger = (await t.get(`/api/v1/inventory/${variant.id}/movements?limit=100`, { token: boss.token })).body.items as any[];
      for (const level of view.locations) {
        if (level.onHand > 0) stocked.add(level.locationId);
        expect(ledger.filter((m) => m.locationId === level.locationId).reduce((n, m) => n + m.onHandDelta, 0)).toBe(level.onHand);
      }
    }
    expect([...stocked].sort()).toEqual(Object.values(DEMO_LOCATIONS).map((l) => l.id).sort());
  });

  it('announces every product so search can index the demo catalog, and draws its pictures on request', async () => {
    expect(await count(sql`select count(*)::int as n from kernel.outbox where type = 'catalog.product.created'`)).toBe(
      await count(sql`select count(*)::int as n from catalog.products`),
    );
    const [first] = (await t.get('/api/v1/products?limit=1')).body.items;
    expect(first.images).toHaveLength(1);
    const picture = await t.app.http.inject({ method: 'GET', url: first.images[0].urls.small });
    expect(picture.statusCode).toBe(200);
    expect(picture.headers['content-type']).toBe('image/webp');
  });

  it('seeds a large catalog in batches for benchmarks', async () => {
    const before = await count(sql`select count(*)::int as n from catalog.products`);
    const result = await seedLargeCatalog(t.app.ctx, { products: 250, batchSize: 100 });
    expect(result.products).toBe(250);
    expect(await count(sql`select count(*)::int as n from catalog.products`)).toBe(before + 250);
    expect(await count(sql`select count(*)::int as n from catalog.variants`)).toBe(
      (await count(sql`select count(*)::int as n from catalog.variants where sku like 'DEMO-%'`)) + result.variants,
    );
    // The tree is reused, not duplicated.
    expect(await count(sql`select count(*)::int as n from catalog.categories where name = 'Smartphones'`)).toBe(1);
  });
});
