import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.ts';
import type { Db } from '../db/database.ts';
import { migrateSchema } from '../db/migrations.ts';
import { kernelMigrations } from '../migrations.ts';
import { findIdempotentResponse, fingerprint, purgeExpiredIdempotencyKeys, recordIdempotentResponse } from './idempotency.ts';
import { Problem } from './problem.ts';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
  await migrateSchema(db, 'kernel', kernelMigrations);
  await sql`create table public.things (id serial primary key, made_by text not null)`.execute(db);
});
afterAll(() => testDb.drop());

class Undone extends Error {}

/**
 * A request guarded by a key, the way respondIdempotently runs one: "creates a thing" and records its
 * response under the key in one transaction; when the key is taken, undoes its work and replays.
 */
async function guarded(key: string, body: unknown, who: string) {
  const claim = { scope: 'test:user-1', key, requestHash: fingerprint(body) };
  try {
    return await db.transaction().execute(async (tx) => {
      const { rows } = await sql<{ id: number }>`insert into public.things (made_by) values (${who}) returning id`.execute(tx);
      const response = { statusCode: 201, body: { thing: rows[0]!.id } };
      if (!(await recordIdempotentResponse(tx, claim, response))) throw new Undone();
      return { ...response, replayed: false };
    });
  } catch (error) {
    const stored = await findIdempotentResponse(db, claim);
    if (stored) return { ...stored, replayed: true };
    throw error;
  }
}

describe('Idempotency-Key records', () => {
  it('treats bodies with the same content as the same request, whatever their key order', () => {
    expect(fingerprint({ a: 1, b: { c: [1, 2], d: null } })).toBe(fingerprint({ b: { d: null, c: [1, 2] }, a: 1 }));
    expect(fingerprint({ a: 1 })).not.toBe(fingerprint({ a: 2 }));
    expect(fingerprint({ a: [1, 2] })).not.toBe(fingerprint({ a: [2, 1] }));
  });

  it('replays the first response to a repeat, and does the work once', async () => {
    const first = await guarded('k-repeat', { qty: 1 }, 'first');
    const again = await guarded('k-repeat', { qty: 1 }, 'again');
    expect(first.replayed).toBe(false);
    expect(again).toEqual({ statusCode: 201, body: first.body, replayed: true });
    const { rows } = await sql`select * from public.things where made_by = 'again'`.execute(db);
    expect(rows).toEqual([]);
  });

  it('refuses the same key with another body with 409 idempotency-key-reused', async () => {
    await guarded('k-misuse', { qty: 1 }, 'misuse');
    const error = await guarded('k-misuse', { qty: 2 }, 'misuse').catch((e) => e);
    expect(error).toBeInstanceOf(Problem);
    expect(error.status).toBe(409);
    expect(error.type).toMatch(/\/idempotency-key-reused$/);
  });

  it('lets 12 concurrent requests with one key do the work exactly once; all get the same answer', async () => {
    const results = await Promise.all(Array.from({ length: 12 }, (_, i) => guarded('k-race', { qty: 3 }, `racer-${i}`)));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
    expect(new Set(results.map((r) => JSON.stringify(r.body))).size).toBe(1);
    const { rows } = await sql`select * from public.things where made_by like 'racer-%'`.execute(db);
    expect(rows).toHaveLength(1);
  });

  it('forgets a failed request: it stored nothing, so a retry runs', async () => {
    const claim = { scope: 'test:user-1', key: 'k-fail', requestHash: fingerprint({}) };
    await expect(
      db.transaction().execute(async (tx) => {
        await recordIdempotentResponse(tx, claim, { statusCode: 201, body: {} });
        throw new Error('out of stock');
      }),
    ).rejects.toThrow('out of stock');
    expect(await findIdempotentResponse(db, claim)).toBeUndefined();
    const retry = await guarded('k-fail', {}, 'retry');
    expect(retry.replayed).toBe(false);
  });

  it('frees a key after 24 hours, and purges expired keys', async () => {
    await guarded('k-old', { qty: 1 }, 'old');
    await sql`update kernel.idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-old'`.execute(db);
    const reused = await guarded('k-old', { qty: 9 }, 'new');
    expect(reused.replayed).toBe(false);

    await sql`update kernel.idempotency_keys set created_at = now() - interval '25 hours' where key = 'k-repeat'`.execute(db);
    expect(await purgeExpiredIdempotencyKeys(db)).toBeGreaterThanOrEqual(1);
    const { rows } = await sql`select key from kernel.idempotency_keys where key = 'k-repeat'`.execute(db);
    expect(rows).toEqual([]);
  });

  it('keeps keys of different scopes (users) apart', async () => {
    const record = (scope: string, hash: string) =>
      db.transaction().execute((tx) => recordIdempotentResponse(tx, { scope, key: 'k-repeat-2', requestHash: hash }, { statusCode: 201, body: { scope } }));
    expect(await record('test:user-2', 'x')).toBe(true);
    expect(await record('test:user-3', 'y')).toBe(true);
    expect(await record('test:user-2', 'x')).toBe(false);
    expect(await findIdempotentResponse(db, { scope: 'test:user-3', key: 'k-repeat-2', requestHash: 'y' })).toEqual({ statusCode: 201, body: { scope: 'test:user-3' } });
  });
});
