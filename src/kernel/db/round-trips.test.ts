import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.ts';
import { atCommit } from '../events/outbox.ts';
import { runTransaction } from '../events/transaction.ts';
import type { Db } from './database.ts';
import { inlined, mergeTransactionRoundTrips, SENT_WITH_BEGIN, WITH_BEGIN_MARK, WITH_COMMIT_MARK, type Query } from './round-trips.ts';

describe('parameters written in as literals', () => {
  it('quotes every value as node-postgres would send it, and refuses bytes', () => {
    const text = 'insert into t values ($1, $2, $3, $4, $5, $6, $7, $10)';
    const values = ["it's", 'back\\slash', null, 42, true, ['a"b', 'c'], undefined, 8, 9, { k: "o'k" }];
    expect(inlined(text, values)).toBe(
      `insert into t values ('it''s',  E'back\\\\slash', null, '42', 'true',  E'{"a\\\\"b","c"}', null, '{"k":"o''k"}')`,
    );
    expect(inlined('select $1', [Buffer.from('x')])).toBeUndefined();
  });
});

describe('what goes over the wire for a transaction (PostgreSQL)', () => {
  function recorder() {
    const sent: { text: string; values: unknown[] }[] = [];
    const send: Query = async (text, values) => {
      sent.push({ text: text as string, values: (values as unknown[]) ?? [] });
      const statements = (text as string).split(';').length;
      const one = { command: 'SELECT', rowCount: 1, rows: [{ n: sent.length }], fields: [], oid: 0 };
      return (statements > 1 && (values as unknown[]).length === 0 ? Array(statements).fill(one) : one) as any;
    };
    return { sent, query: mergeTransactionRoundTrips(send) };
  }

  it('sends the first marked statement with the begin, and the last write with the commit', async () => {
    const { sent, query } = recorder();
    await query('begin', []);
    await query(`${WITH_BEGIN_MARK} insert into inbox values ($1)`, ['e-1']);
    await query('update things set n = n + $1', [1]);
    await query(`${WITH_COMMIT_MARK} insert into outbox values ($1)`, ['{"a":1}']);
    await query('commit', []);
    expect(sent.map((s) => s.text)).toEqual([
      `begin;${WITH_BEGIN_MARK} insert into inbox values ('e-1')`,
      'update things set n = n + $1',
      `${WITH_COMMIT_MARK} insert into outbox values ('{"a":1}');commit`,
    ]);
  });

  it('sends an unmarked first statement after its own begin, and a commit that had no marked write', async () => {
    const { sent, query } = recorder();
    await query('begin', []);
    await query('select $1', [1]);
    await query('commit', []);
    expect(sent.map((s) => s.text)).toEqual(['begin', 'select $1', 'commit']);
  });

  it('sends nothing for a transaction that ran no statement', async () => {
    const { sent, query } = recorder();
    await query('begin', []);
    await query('rollback', []);
    expect(sent).toEqual([]);
  });

  it('sends the rollback after a last write that failed, and commits the next transaction normally', async () => {
    const sent: string[] = [];
    const query = mergeTransactionRoundTrips(async (text) => {
      sent.push(text as string);
      if ((text as string).includes('fails')) throw new Error('boom');
      return { command: 'SELECT', rowCount: 0, rows: [], fields: [], oid: 0 } as any;
    });
    await query('begin', []);
    await query('select 1', []);
    await expect(query(`${WITH_COMMIT_MARK} insert fails`, [])).rejects.toThrow('boom');
    await query('rollback', []);
    await query('begin', []);
    await query('select 2', []);
    await query('commit', []);
    expect(sent).toEqual(['begin', 'select 1', `${WITH_COMMIT_MARK} insert fails;commit`, 'rollback', 'begin', 'select 2', 'commit']);
  });
});

describe('transactions whose last write goes with the commit, on this database', () => {
  let testDb: TestDatabase;
  let db: Db;
  const logger = pino({ level: 'silent' });
  const run = <T>(work: (tx: Db) => Promise<T>) => runTransaction(db, work, { logger, published: () => {} });
  class Taken extends Error {}

  beforeAll(async () => {
    testDb = await createTestDatabase();
    db = testDb.database.db;
    await sql`create table ledger (id text primary key, note text)`.execute(db);
    await sql`create table claims (key text primary key)`.execute(db);
  });
  afterAll(() => testDb.drop());

  const claim = (tx: Db, key: string) =>
    atCommit(tx, { statement: sql`insert into claims (key) values (${key}) on conflict do nothing`, mustWrite: () => new Taken() });

  it('commits the work and the last write together, quotes, dates and all', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    await run(async (tx) => {
      await sql`insert into ledger values (${'a'}, ${"it's \\ fine"})`.execute(tx);
      claim(tx, "k'1");
      atCommit(tx, { statement: sql`insert into ledger values (${'a-at'}, ${at}::timestamptz::text)` });
    });
    const stamped = await sql<{ same: boolean }>`select note::timestamptz = ${at}::timestamptz as same from ledger where id = 'a-at'`.execute(db);
    expect(stamped.rows).toEqual([{ same: true }]);
    const { rows } = await sql<{ note: string; key: string }>`select note, (select key from claims) as key from ledger where id = 'a'`.execute(db);
    expect(rows).toEqual([{ note: "it's \\ fine", key: "k'1" }]);
  });

  it('rolls back the work, and throws the write\'s own error, when a last write that must write did not', async () => {
    await expect(
      run(async (tx) => {
        await sql`insert into ledger values (${'b'}, ${'should vanish'})`.execute(tx);
        claim(tx, "k'1");
      }),
    ).rejects.toBeInstanceOf(Taken);
    const { rows } = await sql`select 1 from ledger where id = 'b'`.execute(db);
    expect(rows).toHaveLength(0);
    // The connection is usable afterwards: the next transaction commits.
    await run(async (tx) => {
      await sql`insert into ledger values (${'c'}, ${'kept'})`.execute(tx);
      claim(tx, 'k2');
    });
    expect((await sql`select 1 from ledger where id = 'c'`.execute(db)).rows).toHaveLength(1);
  });

  it('keeps every one of many concurrent transactions apart on a shared pool', async () => {
    const keys = Array.from({ length: 40 }, (_, i) => `many-${i % 20}`);
    const outcomes = await Promise.allSettled(
      keys.map((key, i) =>
        run(async (tx) => {
          await sql`${SENT_WITH_BEGIN} insert into ledger values (${`m-${i}`}, ${key})`.execute(tx);
          claim(tx, key);
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'fulfilled')).toHaveLength(20);
    expect(outcomes.filter((o) => o.status === 'rejected' && o.reason instanceof Taken)).toHaveLength(20);
    const { rows } = await sql<{ n: number }>`select count(*)::int as n from ledger where id like 'm-%'`.execute(db);
    expect(rows[0]!.n).toBe(20);
  });
});
