import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.ts';
import type { Db } from './database.ts';
import { migrateSchema, type Migrations } from './migrations.ts';

const createTable = (ddl: string): Migrations[string] => ({
  async up(db) {
    await sql.raw(ddl).execute(db);
  },
});

async function applied(db: Db, schema: string): Promise<string[]> {
  const { rows } = await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')} order by name`.execute(db);
  return rows.map((r) => r.name);
}

async function tableExists(db: Db, qualified: string): Promise<boolean> {
  const { rows } = await sql<{ found: string | null }>`select to_regclass(${qualified})::text as found`.execute(db);
  return rows[0]?.found != null;
}

describe('per-module migrations', () => {
  let testDb: TestDatabase;
  let db: Db;
  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = testDb.database.db;
  });
  afterAll(() => testDb.drop());

  const shop: Migrations = {
    '0001_products': createTable('create table shop.products (id integer primary key)'),
    '0002_prices': createTable('create table shop.prices (product_id integer primary key, amount integer not null)'),
  };

  it("creates the module's schema and records what it applied there", async () => {
    expect(await migrateSchema(db, 'shop', shop)).toEqual(['0001_products', '0002_prices']);
    expect(await tableExists(db, 'shop.products')).toBe(true);
    expect(await applied(db, 'shop')).toEqual(['0001_products', '0002_prices']);
  });

  it('applies nothing on a second run', async () => {
    expect(await migrateSchema(db, 'shop', shop)).toEqual([]);
    expect(await applied(db, 'shop')).toEqual(['0001_products', '0002_prices']);
  });

  it("keeps a second module's history apart from the first", async () => {
    const ledger: Migrations = { '0001_products': createTable('create table ledger.products (sku text primary key)') };
    // Same migration name as shop's first: a shared history would think it already ran.
    expect(await migrateSchema(db, 'ledger', ledger)).toEqual(['0001_products']);
    expect(await tableExists(db, 'ledger.products')).toBe(true);
    expect(await applied(db, 'ledger')).toEqual(['0001_products']);
    expect(await applied(db, 'shop')).toEqual(['0001_products', '0002_prices']);
  });

  it('applies only the migration added since the last run', async () => {
    const later = { ...shop, '0003_stock': createTable('create table shop.stock (product_id integer primary key)') };
    expect(await migrateSchema(db, 'shop', later)).toEqual(['0003_stock']);
    expect(await tableExists(db, 'shop.stock')).toBe(true);
    expect(await applied(db, 'shop')).toEqual(['0001_products', '0002_prices', '0003_stock']);
  });

  it('names the failing migration, leaves nothing of it behind, and succeeds once fixed', async () => {
    const broken: Migrations = {
      '0001_orders': createTable('create table sales.orders (id integer primary key)'),
      '0002_lines': {
        async up(db) {
          await sql`create table sales.lines (id integer primary key)`.execute(db);
          await sql`create table sales.lines (id integer primary key)`.execute(db);
        },
      },
    };
    await expect(migrateSchema(db, 'sales', broken)).rejects.toThrow(/sales\/0002_lines/);
    expect(await tableExists(db, 'sales.lines')).toBe(false);

    const fixed = { ...broken, '0002_lines': createTable('create table sales.lines (id integer primary key)') };
    const appliedNow = await migrateSchema(db, 'sales', fixed);
    expect(appliedNow).toContain('0002_lines');
    expect(await applied(db, 'sales')).toEqual(['0001_orders', '0002_lines']);
  });

  it('applies each migration once when several instances start at the same moment on a new database', async () => {
    // A few rounds, because losing the race to create the schema is a matter of timing.
    for (const schema of ['counters_a', 'counters_b', 'counters_c']) {
      const counters: Migrations = {
        '0001_hits': createTable(`create table ${schema}.hits (n integer not null)`),
        '0002_seed': createTable(`insert into ${schema}.hits values (1)`),
      };
      const runs = await Promise.all([1, 2, 3, 4].map(() => migrateSchema(db, schema, counters)));
      expect(runs.flat().sort()).toEqual(['0001_hits', '0002_seed']);
      const { rows } = await sql<{ count: number }>`select count(*)::int as count from ${sql.id(schema, 'hits')}`.execute(db);
      expect(rows[0]!.count).toBe(1);
    }
  });

  it('refuses a schema name that is not a plain identifier', async () => {
    await expect(migrateSchema(db, 'shop; drop table x', {})).rejects.toThrow(/Invalid schema name/);
  });
});
