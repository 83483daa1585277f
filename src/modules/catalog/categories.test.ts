import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, category, customer, product, seller, startCatalogApp, type Caller } from '../../../test/support/catalog.ts';

describe('category tree', () => {
  let t: TestApp;
  let boss: Caller;

  beforeAll(async () => {
    t = await startCatalogApp();
    boss = await admin(t);
  });
  afterAll(() => t.close());

  const tree = async () => (await t.get('/api/v1/categories')).body.items as any[];
  const find = (nodes: any[], id: string): any => {
    for (const n of nodes) {
      if (n.id === id) return n;
      const below = find(n.children, id);
      if (below) return below;
    }
    return undefined;
  };

  it('lets an admin build a nested tree that anyone can read', async () => {
    const electronics = await category(t, boss, 'Electronics');
    const phones = await category(t, boss, 'Phones', electronics.id);
    const smartphones = await category(t, boss, 'Smartphones', phones.id);
    expect(smartphones).toMatchObject({ name: 'Smartphones', slug: 'smartphones', parentId: phones.id, path: [electronics.id, phones.id, smartphones.id] });

    const anonymous = await t.get('/api/v1/categories');
    expect(anonymous.status).toBe(200);
    const root = anonymous.body.items.find((c: any) => c.id === electronics.id);
    expect(root).toMatchObject({ name: 'Electronics', slug: 'electronics', parentId: null });
    expect(root.children[0]).toMatchObject({ id: phones.id, children: [{ id: smartphones.id, children: [] }] });
  });

  it('gives every category a unique slug derived from its name', async () => {
    const men = await category(t, boss, 'Men');
    const women = await category(t, boss, 'Women');
    const a = await category(t, boss, 'Shoes & Boots', men.id);
    const b = await category(t, boss, 'Shoes & Boots', women.id);
    const c = await category(t, boss, 'Çhoes  Boots!');
    expect(a.slug).toBe('shoes-boots');
    expect(b.slug).toBe('shoes-boots-2');
    expect(c.slug).toBe('choes-boots');
  });

  it('refuses category changes from anyone but an admin', async () => {
    const shopper = await customer(t);
    const merchant = await seller(t);
    expect((await t.post('/api/v1/categories', { name: 'Nope' })).status).toBe(401);
    expect((await t.post('/api/v1/categories', { name: 'Nope' }, { token: shopper.token })).status).toBe(403);
    expect((await t.post('/api/v1/categories', { name: 'Nope' }, { token: merchant.token })).status).toBe(403);
    const existing = await category(t, boss);
    expect((await t.patch(`/api/v1/categories/${existing.id}`, { name: 'Mine' }, { token: merchant.token })).status).toBe(403);
    expect((await t.delete(`/api/v1/categories/${existing.id}`, { token: merchant.token })).status).toBe(403);
  });

  it('renames a category and gives it a new slug', async () => {
    const garden = await category(t, boss, 'Gardn');
    const renamed = await t.patch(`/api/v1/categories/${garden.id}`, { name: 'Garden' }, { token: boss.token });
    expect(renamed.status).toBe(200);
    expect(renamed.body).toMatchObject({ name: 'Garden', slug: 'garden' });
    expect(find(await tree(), garden.id)).toMatchObject({ name: 'Garden' });
  });

  it('moves a subtree under another parent, and to the top', async () => {
    const home = await category(t, boss, 'Home');
    const outdoor = await category(t, boss, 'Outdoor');
    const kitchen = await category(t, boss, 'Kitchen', outdoor.id);
    const cookware = await category(t, boss, 'Cookware', kitchen.id);

    const moved = await t.patch(`/api/v1/categories/${kitchen.id}`, { parentId: home.id }, { token: boss.token });
    expect(moved.status).toBe(200);
    expect(moved.body.path).toEqual([home.id, kitchen.id]);
    const nodes = await tree();
    expect(find(nodes, home.id).children.map((c: any) => c.id)).toContain(kitchen.id);
    expect(find(nodes, outdoor.id).children).toEqual([]);
    expect(find(nodes, cookware.id).parentId).toBe(kitchen.id);

    const top = await t.patch(`/api/v1/categories/${kitchen.id}`, { parentId: null }, { token: boss.token });
    expect(top.body).toMatchObject({ parentId: null, path: [kitchen.id] });
    expect((await tree()).map((c) => c.id)).toContain(kitchen.id);
  });

  it('finds a product in a child category when listing by any ancestor, also after a move', async () => {
    const merchant = await seller(t);
    const sports = await category(t, boss, 'Sports');
    const camping = await category(t, boss, 'Camping', sports.id);
    const tents = await category(t, boss, 'Tents', camping.id);
    const other = await category(t, boss, 'Elsewhere');
    const tent = await product(t, merchant, tents.id, { name: 'Dome Tent' });

    for (const ancestor of [sports.id, camping.id, tents.id]) {
      const list = await t.get(`/api/v1/products?categoryId=${ancestor}`);
      expect(list.body.items.map((p: any) => p.id)).toEqual([tent.id]);
    }
    expect((await t.get(`/api/v1/products?categoryId=${other.id}`)).body.items).toEqual([]);

    await t.patch(`/api/v1/categories/${camping.id}`, { parentId: other.id }, { token: boss.token });
    expect((await t.get(`/api/v1/products?categoryId=${other.id}`)).body.items.map((p: any) => p.id)).toEqual([tent.id]);
    expect((await t.get(`/api/v1/products?categoryId=${sports.id}`)).body.items).toEqual([]);
    expect((await t.get(`/api/v1/products/${tent.id}`)).body.categoryPath).toEqual([other.id, camping.id, tents.id]);
  });

  it('refuses to move a category under itself or its own descendant (409)', async () => {
    const a = await category(t, boss, 'Loop A');
    const b = await category(t, boss, 'Loop B', a.id);
    const c = await category(t, boss, 'Loop C', b.id);
    const self = await t.patch(`/api/v1/categories/${a.id}`, { parentId: a.id }, { token: boss.token });
    expect(self.status).toBe(409);
    const descendant = await t.patch(`/api/v1/categories/${a.id}`, { parentId: c.id }, { token: boss.token });
    expect(descendant.status).toBe(409);
    expect(descendant.body.type).toMatch(/\/category-cycle$/);
    expect(find(await tree(), a.id).parentId).toBeNull();
  });

  it('rejects an unknown parent with 400 and an unknown category with 404', async () => {
    const orphan = await t.post('/api/v1/categories', { name: 'Orphan', parentId: '01900000-0000-7000-8000-0000000000ff' }, { token: boss.token });
    expect(orphan.status).toBe(400);
    const missing = await t.patch('/api/v1/categories/01900000-0000-7000-8000-0000000000ff', { name: 'x' }, { token: boss.token });
    expect(missing.status).toBe(404);
    expect((await t.patch('/api/v1/categories/not-a-uuid', { name: 'x' }, { token: boss.token })).status).toBe(400);
  });

  it('deletes only an empty category: not one with children or products (409)', async () => {
    const parent = await category(t, boss, 'Full');
    const child = await category(t, boss, 'Child', parent.id);
    const withChild = await t.delete(`/api/v1/categories/${parent.id}`, { token: boss.token });
    expect(withChild.status).toBe(409);
    expect(withChild.body.type).toMatch(/\/category-not-empty$/);

    const merchant = await seller(t);
    const item = await product(t, merchant, child.id);
    expect((await t.delete(`/api/v1/categories/${child.id}`, { token: boss.token })).status).toBe(409);

    expect((await t.delete(`/api/v1/products/${item.id}`, { token: merchant.token })).status).toBe(204);
    expect((await t.delete(`/api/v1/categories/${child.id}`, { token: boss.token })).status).toBe(204);
    expect((await t.delete(`/api/v1/categories/${parent.id}`, { token: boss.token })).status).toBe(204);
    expect(find(await tree(), parent.id)).toBeUndefined();
    expect((await t.delete(`/api/v1/categories/${parent.id}`, { token: boss.token })).status).toBe(404);
  });

  it('announces every change as catalog.category.* events, and audits it', async () => {
    const before = await sql<any>`select count(*)::int as n from kernel.outbox where type like 'catalog.category.%'`.execute(t.database.db);
    const made = await category(t, boss, 'Evented');
    await t.patch(`/api/v1/categories/${made.id}`, { name: 'Evented Again' }, { token: boss.token });
    await t.delete(`/api/v1/categories/${made.id}`, { token: boss.token });
    const { rows } = await sql<any>`
      select type, data from kernel.outbox where aggregate_id = ${made.id} order by seq`.execute(t.database.db);
    expect(rows.map((r) => r.type)).toEqual(['catalog.category.created', 'catalog.category.updated', 'catalog.category.deleted']);
    expect(rows[0].data.category).toEqual({ id: made.id, name: 'Evented', slug: 'evented', parentId: null, path: [made.id] });
    expect(rows[1].data.category).toMatchObject({ name: 'Evented Again', slug: 'evented-again' });
    expect(rows[2].data).toEqual({ categoryId: made.id });
    const after = await sql<any>`select count(*)::int as n from kernel.outbox where type like 'catalog.category.%'`.execute(t.database.db);
    expect(after.rows[0].n - before.rows[0].n).toBe(3);
    const audit = await sql<any>`select action, actor_id from kernel.audit_log where target_id = ${made.id} order by at`.execute(t.database.db);
    expect(audit.rows.map((r) => r.action)).toEqual(['catalog.category.create', 'catalog.category.update', 'catalog.category.delete']);
    expect(audit.rows.every((r) => r.actor_id === boss.id)).toBe(true);
  });
});
