import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, category, customer, product, seller, startCatalogApp, warehouseStaff, type Caller } from '../../../test/support/catalog.ts';
import { DEFAULT_LOCATION_ID } from './contract.ts';
import { levelsOutOfBalance } from './store.ts';

describe('stock levels, adjustments, transfers and the movement ledger', () => {
  let t: TestApp;
  let boss: Caller;
  let owner: Caller;
  let staff: Caller;
  let categoryId: string;

  beforeAll(async () => {
    t = await startCatalogApp();
    boss = await admin(t);
    owner = await seller(t);
    staff = await warehouseStaff(t);
    categoryId = (await category(t, boss)).id;
  });
  afterAll(() => t.close());

  /** A fresh variant of `owner` with `stock` units at the default warehouse. */
  async function variant(stock = 10): Promise<string> {
    const made = await product(t, owner, categoryId, {
      variants: [{ sku: `INV-${Math.random().toString(36).slice(2, 10)}`, price: 500, stock }],
    });
    return made.variants[0].id;
  }
  const stockOf = async (variantId: string, token = owner.token) => (await t.get(`/api/v1/inventory/${variantId}`, { token })).body;
  const adjust = (variantId: string, delta: number, extra: Record<string, unknown> = {}, token = owner.token) =>
    t.post('/api/v1/inventory/adjustments', { variantId, delta, reason: 'cycle count', ...extra }, { token });
  const newLocation = async (name: string, type: 'warehouse' | 'store', sellable?: boolean) => {
    const res = await t.post('/api/v1/inventory/locations', { name, type, ...(sellable !== undefined ? { sellable } : {}) }, { token: staff.token });
    expect(res.status).toBe(201);
    return res.body.id as string;
  };

  it('has a default warehouse, and lets warehouse staff add warehouses and stores', async () => {
    const store = await t.post('/api/v1/inventory/locations', { name: 'High Street', type: 'store' }, { token: staff.token });
    expect(store.status).toBe(201);
    expect(store.body).toMatchObject({ name: 'High Street', type: 'store', sellable: false });
    const warehouse = await t.post('/api/v1/inventory/locations', { name: 'North', type: 'warehouse' }, { token: boss.token });
    expect(warehouse.body).toMatchObject({ type: 'warehouse', sellable: true });

    const list = await t.get('/api/v1/inventory/locations', { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.body.items.map((l: any) => l.id)).toEqual(expect.arrayContaining([DEFAULT_LOCATION_ID, store.body.id, warehouse.body.id]));
    expect(list.body.items.find((l: any) => l.id === DEFAULT_LOCATION_ID)).toMatchObject({ type: 'warehouse', sellable: true });

    expect((await t.post('/api/v1/inventory/locations', { name: 'Mine', type: 'store' }, { token: owner.token })).status).toBe(403);
    expect((await t.post('/api/v1/inventory/locations', { name: 'Depot', type: 'depot' }, { token: staff.token })).status).toBe(400);
    expect((await t.get('/api/v1/inventory/locations')).status).toBe(401);
  });

  it('shows a variant\'s stock to its seller, warehouse staff and admins only', async () => {
    const id = await variant(7);
    const view = await stockOf(id);
    expect(view).toMatchObject({ variantId: id, onHand: 7, reserved: 0, available: 7, lowStockThreshold: 5 });
    expect(view.locations).toEqual([{ locationId: DEFAULT_LOCATION_ID, name: 'Main warehouse', sellable: true, onHand: 7, reserved: 0, available: 7 }]);
    expect((await t.get(`/api/v1/inventory/${id}`, { token: staff.token })).status).toBe(200);
    expect((await t.get(`/api/v1/inventory/${id}`, { token: boss.token })).status).toBe(200);
    expect((await t.get(`/api/v1/inventory/${id}`, { token: (await seller(t)).token })).status).toBe(403);
    expect((await t.get(`/api/v1/inventory/${id}`, { token: (await customer(t)).token })).status).toBe(403);
    expect((await t.get(`/api/v1/inventory/${id}`)).status).toBe(401);
    expect((await t.get('/api/v1/inventory/01900000-0000-7000-8000-0000000000ff', { token: boss.token })).status).toBe(404);
    expect((await t.get('/api/v1/inventory/nonsense', { token: boss.token })).status).toBe(400);
  });

  it('adjusts stock up and down, and refuses to go below zero with 409 insufficient-stock', async () => {
    const id = await variant(10);
    const up = await adjust(id, 5);
    expect(up.status).toBe(201);
    expect(up.body).toMatchObject({ onHand: 15, available: 15, movementId: expect.any(String) });
    expect((await adjust(id, -15, {}, staff.token)).status).toBe(201);
    const below = await adjust(id, -1);
    expect(below.status).toBe(409);
    expect(below.headers['content-type']).toContain('application/problem+json');
    expect(below.body.type).toMatch(/\/insufficient-stock$/);
    expect(below.body.shortages).toEqual([{ variantId: id, requested: 1, available: 0 }]);
    expect((await stockOf(id)).onHand).toBe(0);
  });

  it('rejects adjustments that are malformed or not the caller\'s to make', async () => {
    const id = await variant(3);
    expect((await adjust(id, 0)).status).toBe(400);
    expect((await adjust(id, 1.5)).status).toBe(400);
    expect((await t.post('/api/v1/inventory/adjustments', { variantId: id, delta: 1 }, { token: owner.token })).status).toBe(400);
    expect((await adjust(id, 1, { reason: 'x'.repeat(501) })).status).toBe(400);
    expect((await adjust(id, 1, {}, (await seller(t)).token)).status).toBe(403);
    expect((await adjust(id, 1, {}, (await customer(t)).token)).status).toBe(403);
    expect((await adjust(id, 1, { locationId: '01900000-0000-7000-8000-0000000000ff' })).status).toBe(404);
    expect((await stockOf(id)).onHand).toBe(3);
  });

  it('transfers between locations; stock at a non-sellable store does not count as available', async () => {
    const id = await variant(10);
    const east = await newLocation('East', 'warehouse');
    const shop = await newLocation('Corner shop', 'store');

    const toEast = await t.post('/api/v1/inventory/transfers', { variantId: id, fromLocationId: DEFAULT_LOCATION_ID, toLocationId: east, quantity: 4 }, { token: owner.token });
    expect(toEast.status).toBe(201);
    expect(toEast.body).toMatchObject({ onHand: 10, available: 10 });
    expect(toEast.body.locations).toEqual(
      expect.arrayContaining([expect.objectContaining({ locationId: DEFAULT_LOCATION_ID, onHand: 6 }), expect.objectContaining({ locationId: east, onHand: 4 })]),
    );

    const toShop = await t.post('/api/v1/inventory/transfers', { variantId: id, fromLocationId: east, toLocationId: shop, quantity: 3, reason: 'window display' }, { token: staff.token });
    expect(toShop.body).toMatchObject({ onHand: 7, available: 7 });
    expect(toShop.body.locations.find((l: any) => l.locationId === shop)).toMatchObject({ sellable: false, onHand: 3 });

    const tooMany = await t.post('/api/v1/inventory/transfers', { variantId: id, fromLocationId: east, toLocationId: shop, quantity: 2 }, { token: owner.token });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body.type).toMatch(/\/insufficient-stock$/);
    const same = await t.post('/api/v1/inventory/transfers', { variantId: id, fromLocationId: east, toLocationId: east, quantity: 1 }, { token: owner.token });
    expect(same.status).toBe(400);
    expect((await stockOf(id)).locations.find((l: any) => l.locationId === east).onHand).toBe(1);
  });

  it('keeps every level equal to the sum of its ledger, and lists the ledger newest first, page by page', async () => {
    const id = await variant(10);
    const east = await newLocation('Ledger East', 'warehouse');
    await adjust(id, 7);
    await adjust(id, -3, { reason: 'damaged' });
    await t.post('/api/v1/inventory/transfers', { variantId: id, fromLocationId: DEFAULT_LOCATION_ID, toLocationId: east, quantity: 5 }, { token: owner.token });
    await adjust(id, -50); // refused: leaves no trace in the ledger
    await adjust(id, 2, { locationId: east });

    const seen: any[] = [];
    let cursor: string | null = null;
    do {
      const page: any = await t.get(`/api/v1/inventory/${id}/movements?limit=2${cursor ? `&cursor=${cursor}` : ''}`, { token: owner.token });
      expect(page.status).toBe(200);
      seen.push(...page.body.items);
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(seen.map((m) => m.type)).toEqual(['adjustment', 'transfer_in', 'transfer_out', 'adjustment', 'adjustment', 'receipt']);
    // A cursor edited to carry no sequence number is refused, not a 500 from the database.
    for (const value of ['x', -1, 1.5, '1e400']) {
      const forged = Buffer.from(JSON.stringify([value])).toString('base64url');
      expect((await t.get(`/api/v1/inventory/${id}/movements?cursor=${forged}`, { token: owner.token })).status).toBe(400);
    }
    expect(new Set(seen.map((m) => m.id)).size).toBe(seen.length);
    expect(seen.find((m) => m.reason === 'damaged')).toMatchObject({ onHandDelta: -3, actorId: owner.id });

    const view = await stockOf(id);
    const total = view.locations.reduce((n: number, l: any) => n + l.onHand, 0);
    expect(total).toBe(16);
    expect(seen.reduce((n, m) => n + m.onHandDelta, 0)).toBe(total);
    for (const level of view.locations) {
      expect(seen.filter((m) => m.locationId === level.locationId).reduce((n, m) => n + m.onHandDelta, 0)).toBe(level.onHand);
    }
    expect(await levelsOutOfBalance(t.database.db)).toEqual([]);
  });

  it('announces inventory.stock.changed after every movement, and inventory.stock.low once when available drops under the threshold', async () => {
    const id = await variant(10);
    const threshold = await t.patch(`/api/v1/inventory/${id}`, { lowStockThreshold: 4 }, { token: owner.token });
    expect(threshold.status).toBe(200);
    expect(threshold.body.lowStockThreshold).toBe(4);
    expect((await t.patch(`/api/v1/inventory/${id}`, { lowStockThreshold: -1 }, { token: owner.token })).status).toBe(400);

    await adjust(id, -5); // 5 left: not low yet
    await adjust(id, -2); // 3 left: low
    await adjust(id, -1); // still low: no second alert
    const { rows } = await sql<any>`select type, data from kernel.outbox where aggregate_id = ${id} order by seq`.execute(t.database.db);
    const changed = rows.filter((r) => r.type === 'inventory.stock.changed').map((r) => r.data.available);
    expect(changed).toEqual([10, 5, 3, 2]);
    const low = rows.filter((r) => r.type === 'inventory.stock.low');
    expect(low).toHaveLength(1);
    expect(low[0].data).toMatchObject({ variantId: id, sellerId: owner.id, onHand: 3, reserved: 0, available: 3, threshold: 4 });
    const audit = await sql<any>`select action from kernel.audit_log where target_id = ${id} order by at`.execute(t.database.db);
    expect(audit.rows.map((r) => r.action)).toEqual(['inventory.threshold.update', 'inventory.stock.adjust', 'inventory.stock.adjust', 'inventory.stock.adjust']);
  });

  it('announces crossings of zero as inventory.stock.depleted and inventory.stock.replenished, and nothing else', async () => {
    const id = await variant(3);
    await adjust(id, -1); // 2 left
    await adjust(id, -2); // sold out
    await adjust(id, 4); // back
    await adjust(id, 1); // more while in stock
    const { rows } = await sql<any>`select type, data from kernel.outbox where aggregate_id = ${id} and type in ('inventory.stock.depleted', 'inventory.stock.replenished') order by seq`.execute(t.database.db);
    // The first receipt (0 -> 3) is a replenishment too.
    expect(rows.map((r) => [r.type, r.data.available])).toEqual([
      ['inventory.stock.replenished', 3],
      ['inventory.stock.depleted', 0],
      ['inventory.stock.replenished', 4],
    ]);
  });

  it('never oversells: of 50 concurrent decrements against 10 in stock exactly 10 succeed', async () => {
    const id = await variant(10);
    const results = await Promise.all(Array.from({ length: 50 }, () => adjust(id, -1, { reason: 'concurrent sale' })));
    const statuses = results.map((r) => r.status);
    expect(statuses.filter((s) => s === 201)).toHaveLength(10);
    expect(statuses.filter((s) => s === 409)).toHaveLength(40);
    const view = await stockOf(id);
    expect(view).toMatchObject({ onHand: 0, available: 0, reserved: 0 });
    const ledger = await sql<any>`select coalesce(sum(on_hand_delta), 0)::int as total, count(*)::int as n from inventory.movements where variant_id = ${id}`.execute(t.database.db);
    expect(ledger.rows[0]).toEqual({ total: 0, n: 11 });
  });
});
