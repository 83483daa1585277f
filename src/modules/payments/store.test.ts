import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.ts';
import type { Db } from '../../kernel/db/database.ts';
import { migrateSchema } from '../../kernel/db/migrations.ts';
import { newId } from '../../kernel/ids.ts';
import { paymentsMigrations } from './migrations.ts';
import { MAX_SAVED_METHODS_PER_USER } from './service.ts';
import { insertSavedMethod, settleCharges } from './store.ts';

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
  await migrateSchema(db, 'payments', paymentsMigrations);
});
afterAll(() => testDb.drop());

async function insertPayment(status: string): Promise<string> {
  const id = newId();
  await sql`
    insert into payments.payments (id, order_id, user_id, method, status, amount, currency, provider)
    values (${id}, ${newId()}, ${newId()}, 'card', ${status}, 1000, 'USD', 'test')`.execute(db);
  return id;
}

describe('settling charges', () => {
  it('finds the payments it settles by key, however many settled payments the table holds', async () => {
    // A shop's history: thousands of settled payments, a few still being charged (the statistics
    // PostgreSQL plans with say so).
    await sql`
      insert into payments.payments (id, order_id, user_id, method, status, amount, currency, provider)
      select gen_random_uuid(), 'o' || n, 'u' || n, 'card', 'captured', 1000, 'USD', 'test'
      from generate_series(1, 5000) as n`.execute(db);
    const charging = [await insertPayment('processing'), await insertPayment('processing')];
    await sql`analyze payments.payments`.execute(db);

    for (const batch of [[charging[0]!], [charging[1]!]]) {
      const { settled, scans } = await db.transaction().execute(async (tx) => {
        const settled = await settleCharges(
          tx,
          batch.map((id) => ({ id, outcome: { kind: 'captured' as const, authorizationId: null, chargeId: `ch_${id}` } })),
        );
        // This transaction's own table accesses so far.
        const { rows } = await sql<{ seq_scan: number; seq_tup_read: number }>`
          select seq_scan, seq_tup_read from pg_stat_xact_user_tables where relid = 'payments.payments'::regclass`.execute(tx);
        return { settled, scans: rows[0] };
      });
      expect([...settled.values()].map((p) => p.status)).toEqual(['captured']);
      expect(Number(scans?.seq_tup_read ?? 0)).toBe(0);
    }
  });

  it('settles each payment of a batch with its own outcome, once', async () => {
    const [a, b] = [await insertPayment('processing'), await insertPayment('pending')];
    const settled = await db.transaction().execute((tx) =>
      settleCharges(tx, [
        { id: a, outcome: { kind: 'captured', authorizationId: 'auth_a', chargeId: 'ch_a' } },
        { id: b, outcome: { kind: 'failed', declineCode: 'card_declined', message: 'Declined' } },
        // A second outcome for the same payment is ignored: the first one stands.
        { id: a, outcome: { kind: 'failed', declineCode: 'expired_card', message: 'Expired' } },
      ]),
    );
    expect(settled.get(a)).toMatchObject({ status: 'captured', chargeId: 'ch_a' });
    expect(settled.get(b)).toMatchObject({ status: 'failed', declineCode: 'card_declined' });
    // Already settled: settling again changes nothing and answers nothing.
    const again = await db.transaction().execute((tx) => settleCharges(tx, [{ id: a, outcome: { kind: 'failed', declineCode: 'x', message: 'x' } }]));
    expect(again.size).toBe(0);
  });
});

describe('saved cards', () => {
  const card = (userId: string) => ({ id: newId(), userId, provider: 'test', tokenEnc: 'v1.sealed', brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034 });

  it('lets a save that waits on another one see it: never more than the limit, however they interleave', async () => {
    const userId = newId();
    for (let i = 0; i < MAX_SAVED_METHODS_PER_USER - 1; i++) expect(await db.transaction().execute((tx) => insertSavedMethod(tx, card(userId)))).toBeDefined();
    let second: Promise<unknown> | undefined;
    await db.transaction().execute(async (tx) => {
      expect(await insertSavedMethod(tx, card(userId))).toBeDefined();
      // Another save starts while this one has not committed; on PostgreSQL it must wait and then count
      // this card (on PGlite transactions run one at a time, so it starts after the commit anyway).
      second = db.transaction().execute((other) => insertSavedMethod(other, card(userId)));
      await new Promise((resolve) => setTimeout(resolve, 200));
    });
    expect(await second).toBeUndefined();
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from payments.payment_methods where user_id = ${userId}`.execute(db);
    expect(rows[0]!.n).toBe(MAX_SAVED_METHODS_PER_USER);
  });
});
