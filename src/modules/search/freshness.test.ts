import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import {
  categoryCreated,
  categorySnapshot,
  changed,
  eventually,
  namesOf,
  productCreated,
  productDeleted,
  productSnapshot,
  productUpdated,
  publish,
  publishAndSettle,
  search,
  stockChanged,
  stockOf,
} from '../../../test/support/search.ts';
import { sql } from 'kysely';
import { touchAfterCommit } from './generation.ts';
import { searchModule } from './index.ts';
import { postgresSearchIndex } from './store.ts';

/**
 * What shoppers see follows what sellers and warehouses do, within seconds of the change, result cache
 * or not.
 */
describe('search follows catalog and inventory changes', () => {
  let t: TestApp;
  const lighting = categorySnapshot('Lighting');

  beforeAll(async () => {
    t = await startTestApp({}, { modules: [searchModule] });
    await publishAndSettle(t, categoryCreated(lighting));
  });
  afterAll(() => t.close());

  /** Searches until the answer satisfies `accept`; the change must show within two seconds of commit. */
  const searchUntil = (params: Record<string, string | number | boolean>, accept: (body: any) => boolean, what: string) =>
    eventually(async () => {
      const res = await search(t, params);
      expect(res.status).toBe(200);
      return accept(res.body) ? res.body : undefined;
    }, what, 2000);

  it('serves a hot query from the cache, and drops the cached answer as soon as the index changes', async () => {
    const lamp = productSnapshot({ name: 'Cached Chandelier', category: lighting, prices: [3000] });
    await publishAndSettle(t, productCreated(lamp));
    for (let i = 0; i < 2; i++) expect((await search(t, { q: 'cached' })).body.items[0].price.amount).toBe(3000);
    // Behind the index's back (no generation bump), so only the cache can still answer 30.00.
    await sql`update search.documents set min_price = 1 where product_id = ${lamp.id}`.execute(t.app.ctx.db);
    expect((await search(t, { q: 'cached' })).body.items[0].price.amount).toBe(3000);

    const cheaper = changed(lamp, { variants: [{ ...lamp.variants[0]!, price: { amount: 2500, currency: 'USD' } }] });
    await publish(t, productUpdated(cheaper));
    await searchUntil({ q: 'cached' }, (b) => b.items[0]?.price.amount === 2500, 'the cached answer to be replaced');
  });

  it('moves the cache generation again once a change has committed, past any value a reader took just before', async () => {
    const lamp = productSnapshot({ name: 'Generation Torchiere', category: lighting, prices: [1500] });
    await publishAndSettle(t, productCreated(lamp));
    const ctx = t.app.ctx;
    let takenBeforeCommit = '';
    await ctx.transaction(async (tx) => {
      const changedNow = await postgresSearchIndex.setVariantStocks(tx, [{ variantId: lamp.variants[0]!.id, productId: lamp.id, available: 42 }]);
      expect(changedNow).toBe(true);
      touchAfterCommit(ctx, tx, postgresSearchIndex, changedNow);
      // The sequence is not transactional: a reader elsewhere could take this value before the commit.
      takenBeforeCommit = await postgresSearchIndex.generation(tx);
    });
    await eventually(async () => (await postgresSearchIndex.generation(ctx.db)) !== takenBeforeCommit, 'the generation to move after the commit', 2000);
  });

  it('makes a new product searchable', async () => {
    const lamp = productSnapshot({ name: 'Arc Floor Lamp', category: lighting, prices: [12900] });
    expect((await search(t, { q: 'arc lamp' })).body.total).toBe(0);
    await publish(t, productCreated(lamp));
    const body = await searchUntil({ q: 'arc lamp' }, (b) => b.total === 1, 'the new lamp');
    expect(body.items[0]).toMatchObject({ id: lamp.id, price: { amount: 12900, currency: 'USD' } });
  });

  it('shows a price change, and moves the product between price filters', async () => {
    const lamp = productSnapshot({ name: 'Desk Lamp', category: lighting, prices: [4500] });
    await publishAndSettle(t, productCreated(lamp));
    expect((await search(t, { q: 'desk lamp', maxPrice: 5000 })).body.total).toBe(1);

    const dearer = changed(lamp, { variants: [{ ...lamp.variants[0]!, price: { amount: 6500, currency: 'USD' } }] });
    await publish(t, productUpdated(dearer));
    const body = await searchUntil({ q: 'desk lamp' }, (b) => b.items[0]?.price.amount === 6500, 'the new price');
    expect(body.facets.price).toEqual([{ value: '5000-10000', minPrice: 5000, maxPrice: 9999, count: 1 }]);
    expect((await search(t, { q: 'desk lamp', maxPrice: 5000 })).body.total).toBe(0);
  });

  it('shows a renamed product under its new name only', async () => {
    const lamp = productSnapshot({ name: 'Paper Lantern', category: lighting });
    await publishAndSettle(t, productCreated(lamp));
    expect((await search(t, { q: 'lantern' })).body.total).toBe(1);
    await publish(t, productUpdated(changed(lamp, { name: 'Rice Paper Pendant' })));
    await searchUntil({ q: 'pendant' }, (b) => b.total === 1, 'the new name');
    expect((await search(t, { q: 'lantern' })).body.total).toBe(0);
  });

  it('hides an archived product, and shows it again when reactivated', async () => {
    const lamp = productSnapshot({ name: 'Tiffany Lamp', category: lighting });
    await publishAndSettle(t, productCreated(lamp));
    expect((await search(t, { q: 'tiffany' })).body.total).toBe(1);
    await publish(t, productUpdated(changed(lamp, { status: 'archived' })));
    await searchUntil({ q: 'tiffany' }, (b) => b.total === 0, 'the archived lamp to disappear');
    expect((await t.get('/api/v1/suggest?prefix=tiff')).body.suggestions).toEqual([]);
    await publish(t, productUpdated(changed(lamp, { status: 'active' })));
    await searchUntil({ q: 'tiffany' }, (b) => b.total === 1, 'the lamp to come back');
  });

  it("hides every product of a suspended seller, from search and suggest", async () => {
    const sellerId = 'seller-to-suspend';
    const lamps = ['Brass Wall Sconce', 'Brass Table Lamp'].map((name) => productSnapshot({ name, category: lighting, sellerId }));
    await publishAndSettle(t, ...lamps.map(productCreated));
    expect((await search(t, { q: 'brass' })).body.total).toBe(2);
    await publish(t, ...lamps.map((lamp) => productUpdated(changed(lamp, { sellerActive: false }))));
    await searchUntil({ q: 'brass' }, (b) => b.total === 0, "the suspended seller's lamps to disappear");
    expect((await t.get('/api/v1/suggest?prefix=brass')).body.suggestions).toEqual([]);
  });

  it('drops a product from the in-stock filter when its stock runs out, and shows it when restocked', async () => {
    const lamp = productSnapshot({ name: 'Salt Lamp', category: lighting, prices: [1500, 2500] });
    await publishAndSettle(t, productCreated(lamp), stockChanged(stockOf(lamp, 2)), stockChanged(stockOf(lamp, 1, 1)));
    const before = await search(t, { q: 'salt', inStock: true });
    expect(before.body.items).toEqual([expect.objectContaining({ id: lamp.id, available: 3, inStock: true })]);

    await publish(t, stockChanged(stockOf(lamp, 0)));
    await searchUntil({ q: 'salt', inStock: true }, (b) => b.items[0]?.available === 1, 'one variant to run out');
    await publish(t, stockChanged(stockOf(lamp, 0, 1)));
    await searchUntil({ q: 'salt', inStock: true }, (b) => b.total === 0, 'the lamp to leave the in-stock filter');
    const unfiltered = await search(t, { q: 'salt' });
    expect(unfiltered.body.items).toEqual([expect.objectContaining({ id: lamp.id, available: 0, inStock: false })]);

    await publish(t, stockChanged(stockOf(lamp, 4, 1)));
    await searchUntil({ q: 'salt', inStock: true }, (b) => b.total === 1, 'the restocked lamp');
  });

  it('adds up stock changes handled together: each product its own total, the last change of a variant counts', async () => {
    const quartz = productSnapshot({ name: 'Batchwise Quartz Sconce', category: lighting, prices: [1500, 2500] });
    const opal = productSnapshot({ name: 'Batchwise Opal Sconce', category: lighting });
    await publishAndSettle(t, productCreated(quartz), productCreated(opal), stockChanged(stockOf(quartz, 7, 1)));
    const changedNow = await t.app.ctx.transaction((tx) =>
      postgresSearchIndex.setVariantStocks(tx, [
        { variantId: quartz.variants[0]!.id, productId: quartz.id, available: 5 },
        { variantId: opal.variants[0]!.id, productId: opal.id, available: 4 },
        { variantId: quartz.variants[0]!.id, productId: quartz.id, available: 2 },
      ]),
    );
    expect(changedNow).toBe(true);
    await searchUntil({ q: 'batchwise' }, (b) => b.total === 2, 'both sconces');
    const res = await searchUntil({ q: 'batchwise', sort: 'price_asc' }, (b) => b.items.length === 2 && b.items.every((i: any) => i.available > 0), 'the new totals');
    const available = Object.fromEntries(res.items.map((i: { id: string; available: number }) => [i.id, i.available]));
    // Quartz: its first variant's last word (2) and its second variant's 7 from before the batch.
    expect(available).toEqual({ [quartz.id]: 9, [opal.id]: 4 });
  });

  it('counts stock that arrived before the product itself', async () => {
    const lamp = productSnapshot({ name: 'Lava Lamp', category: lighting });
    await publishAndSettle(t, stockChanged(stockOf(lamp, 6)));
    await publishAndSettle(t, productCreated(lamp));
    const res = await search(t, { q: 'lava', inStock: true });
    expect(res.body.items).toEqual([expect.objectContaining({ id: lamp.id, available: 6 })]);
  });

  it('removes a deleted product', async () => {
    const lamp = productSnapshot({ name: 'Edison Bulb', category: lighting });
    await publishAndSettle(t, productCreated(lamp));
    expect((await search(t, { q: 'edison' })).body.total).toBe(1);
    await publish(t, productDeleted(lamp));
    await searchUntil({ q: 'edison' }, (b) => b.total === 0, 'the deleted bulb to disappear');
    expect((await t.get('/api/v1/suggest?prefix=edis')).body.suggestions).toEqual([]);
  });

  it('ignores an older snapshot that arrives after a newer one', async () => {
    const lamp = productSnapshot({ name: 'Neon Sign', category: lighting, prices: [9900] });
    const newer = changed(lamp, { variants: [{ ...lamp.variants[0]!, price: { amount: 7900, currency: 'USD' } }] });
    await publishAndSettle(t, productCreated(lamp), productUpdated(newer));
    await publishAndSettle(t, productUpdated(lamp));
    const res = await search(t, { q: 'neon' });
    expect(res.body.items[0].price.amount).toBe(7900);
  });

  it('renames facet labels, and follows a category moved under another parent', async () => {
    const outdoor = categorySnapshot('Outdoor');
    const garden = categorySnapshot('Garden', outdoor);
    const solar = productSnapshot({ name: 'Solar Path Light', category: garden });
    await publishAndSettle(t, categoryCreated(outdoor), categoryCreated(garden), productCreated(solar));
    const before = await search(t, { categoryId: outdoor.id });
    expect(before.body.facets.category).toEqual([{ value: garden.id, label: 'Garden', count: 1 }]);

    // Garden moves under Lighting (and is renamed): its products follow it.
    const moved = { ...garden, name: 'Garden Lights', parentId: lighting.id, path: [...lighting.path, garden.id] };
    await publish(t, { type: 'catalog.category.updated', aggregateId: garden.id, data: { category: moved } });
    const body = await searchUntil({ categoryId: lighting.id }, (b) => b.facets.category.some((f: any) => f.value === garden.id), 'the moved category');
    expect(body.facets.category).toContainEqual({ value: garden.id, label: 'Garden Lights', count: 1 });
    expect((await search(t, { categoryId: outdoor.id })).body.total).toBe(0);
    expect(namesOf((await search(t, { categoryId: garden.id })).body)).toEqual(['Solar Path Light']);
  });
});
