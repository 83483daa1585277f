import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../../../test/support/databases.ts';
import { CUSTOM_PLAN, equalsAny, openDatabase, sameServerOverSocket, type Db } from './database.ts';
import { THEN_COMMIT_MARK } from './plans.ts';

const root = fileURLToPath(new URL('../../../', import.meta.url));
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const range = (n: number) => Array.from({ length: n }, (_, i) => i);

let testDb: TestDatabase;
let db: Db;
beforeAll(async () => {
  testDb = await createTestDatabase();
  db = testDb.database.db;
});
afterAll(() => testDb.drop());

describe('transactions, identical on PGlite and PostgreSQL', () => {
  it('sells the last 10 units to exactly 10 of 50 concurrent buyers, never below zero', async () => {
    await sql`create table stock (sku text primary key, qty integer not null)`.execute(db);
    await sql`create table sales (buyer integer primary key, qty_after integer not null)`.execute(db);
    await sql`insert into stock values ('mug', 10)`.execute(db);

    const outcomes = await Promise.all(
      range(50).map((buyer) =>
        db.transaction().execute(async (tx) => {
          const { rows } = await sql<{ qty: number }>`
            update stock set qty = qty - 1 where sku = 'mug' and qty >= 1 returning qty`.execute(tx);
          if (rows.length === 0) return 'sold-out';
          await sql`insert into sales values (${buyer}, ${rows[0]!.qty})`.execute(tx);
          return 'bought';
        }),
      ),
    );

    expect(outcomes.filter((o) => o === 'bought')).toHaveLength(10);
    const { rows: stock } = await sql<{ qty: number }>`select qty from stock where sku = 'mug'`.execute(db);
    expect(stock[0]!.qty).toBe(0);
    const { rows: sales } = await sql<{ qty_after: number }>`select qty_after from sales order by qty_after desc`.execute(db);
    // Each sale saw a distinct remaining quantity 9..0: no two buyers got the same unit.
    expect(sales.map((s) => s.qty_after)).toEqual([9, 8, 7, 6, 5, 4, 3, 2, 1, 0]);
  });

  it('rolls a failing transaction back completely and keeps the database usable', async () => {
    await sql`create table ledger (id integer primary key, note text not null)`.execute(db);
    await expect(
      db.transaction().execute(async (tx) => {
        await sql`insert into ledger values (1, 'first')`.execute(tx);
        await sql`insert into ledger values (2, 'second')`.execute(tx);
        throw new Error('payment declined');
      }),
    ).rejects.toThrow('payment declined');

    // A statement error (duplicate key) inside a transaction rolls back the earlier insert too.
    await expect(
      db.transaction().execute(async (tx) => {
        await sql`insert into ledger values (3, 'third')`.execute(tx);
        await sql`insert into ledger values (3, 'again')`.execute(tx);
      }),
    ).rejects.toThrow(/duplicate key/);

    const { rows } = await sql`select * from ledger`.execute(db);
    expect(rows).toEqual([]);
    await db.transaction().execute((tx) => sql`insert into ledger values (4, 'after')`.execute(tx));
    const { rows: after } = await sql<{ id: number }>`select id from ledger`.execute(db);
    expect(after).toEqual([{ id: 4 }]);
  });

  it('never lets one transaction see rows another has not committed yet', async () => {
    await sql`create table steps (seq serial primary key, tx integer not null, step integer not null)`.execute(db);
    const finished = new Set<number>();
    const leaks: string[] = [];

    await Promise.all(
      range(8).map((me) =>
        db.transaction().execute(async (tx) => {
          await sql`insert into steps (tx, step) values (${me}, 1)`.execute(tx);
          await sleep(5);
          const { rows } = await sql<{ tx: number }>`select distinct tx from steps where tx <> ${me}`.execute(tx);
          // `finished` is filled just before commit, so any transaction we may legitimately see is in it.
          for (const other of rows) if (!finished.has(other.tx)) leaks.push(`${me} saw ${other.tx}`);
          await sql`insert into steps (tx, step) values (${me}, 2)`.execute(tx);
          finished.add(me);
        }),
      ),
    );

    expect(leaks).toEqual([]);
    const { rows } = await sql<{ tx: number; step: number }>`select tx, step from steps order by seq`.execute(db);
    expect(rows).toHaveLength(16);
    if (testDb.database.kind === 'pglite') {
      // One connection: transactions run one after another, so each one's two rows are adjacent.
      for (let i = 0; i < rows.length; i += 2) {
        expect(rows[i]).toEqual({ tx: rows[i]!.tx, step: 1 });
        expect(rows[i + 1]).toEqual({ tx: rows[i]!.tx, step: 2 });
      }
    }
  });

  it('keeps statements outside a transaction from seeing its uncommitted rows', async () => {
    await sql`create table drafts (id integer primary key)`.execute(db);
    let inserted!: () => void;
    const insertedSignal = new Promise<void>((resolve) => (inserted = resolve));
    const aborted = db.transaction().execute(async (tx) => {
      await sql`insert into drafts values (1)`.execute(tx);
      inserted();
      await sleep(30);
      throw new Error('abandoned');
    });
    await insertedSignal;
    const { rows } = await sql`select * from drafts`.execute(db);
    await expect(aborted).rejects.toThrow('abandoned');
    expect(rows).toEqual([]);
  });
});

describe('the database on disk', () => {
  const dirs: string[] = [];
  const tempDir = () => {
    const dir = mkdtempSync(join(tmpdir(), 'bazaar-db-'));
    dirs.push(dir);
    return dir;
  };
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('keeps a PGlite data dir across close and reopen', async () => {
    const dataDir = tempDir();
    const first = await openDatabase({ dataDir });
    await sql`create table notes (body text not null)`.execute(first.db);
    await first.db.transaction().execute((tx) => sql`insert into notes values ('kept')`.execute(tx));
    await first.close();

    const again = await openDatabase({ dataDir });
    try {
      const { rows } = await sql`select body from notes`.execute(again.db);
      expect(rows).toEqual([{ body: 'kept' }]);
    } finally {
      await again.close();
    }
  });

  it('runs `bazaar migrate` to completion from the real CLI', async () => {
    const dataDir = tempDir();
    const result = spawnSync(process.execPath, ['bin/bazaar.js', 'migrate'], {
      cwd: root,
      env: { ...process.env, DATA_DIR: dataDir, DEMO_DATA: '0', DATABASE_URL: testDb.url ?? '', LOG_LEVEL: 'silent' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    expect(result.stderr).toBe('');
    expect(result.status).toBe(0);
    expect(result.stdout).toContain('migrations applied');

    // Look at what it left behind: on PostgreSQL in this file's database, on PGlite in DATA_DIR.
    const database = testDb.url ? testDb.database : await openDatabase({ dataDir });
    try {
      const { rows } = await sql<{ name: string }>`select name from kernel.kysely_migration order by name`.execute(database.db);
      expect(rows.map((r) => r.name)).toContain('0002_jobs');
    } finally {
      if (database !== testDb.database) await database.close();
    }
  });
});

describe('repeated queries (named prepared statements, on PGlite too)', () => {
  it('are parsed once per connection and carry every parameter type the modules use', async () => {
    await sql`create table crate (id uuid primary key, tags text[] not null, sizes int[] not null, meta jsonb, at timestamptz not null, open boolean not null, price numeric not null, count bigint not null, note text)`.execute(db);
    const id = '0190a000-0000-7000-8000-0000000000aa';
    const at = new Date('2026-12-02T07:00:00.000Z');
    const rows = await db.connection().execute(async (conn) => {
      await sql`insert into crate values (${id}, ${['a', 'b,c', 'd"e']}, ${[1, 2, 3]}, ${JSON.stringify({ nested: { list: [1, 'two'] } })}::jsonb, ${at}, ${true}, ${'12.50'}, ${9_007_199_254_740_991}, ${null})`.execute(conn);
      const read = () => sql<Record<string, unknown>>`select * from crate where id = ${id} and open = ${true}`.execute(conn);
      for (let i = 0; i < 3; i++) await read();
      const { rows: prepared } = await sql<{ count: number }>`select count(*)::int as count from pg_prepared_statements where statement like 'select * from crate where id = $1%'`.execute(conn);
      expect(prepared[0]!.count).toBe(1);
      return (await read()).rows;
    });
    expect(rows).toEqual([{ id, tags: ['a', 'b,c', 'd"e'], sizes: [1, 2, 3], meta: { nested: { list: [1, 'two'] } }, at, open: true, price: 12.5, count: 9_007_199_254_740_991, note: null }]);
  });

  it('except a custom-planned one, which is planned for its parameters on every run', async () => {
    await sql`create table word (id integer primary key, body text not null)`.execute(db);
    await sql`insert into word values (1, 'mug'), (2, 'lamp'), (3, 'mug rack')`.execute(db);
    const found = await db.connection().execute(async (conn) => {
      const search = (term: string) => sql<{ id: number }>`${CUSTOM_PLAN} select id from word where body like ${`%${term}%`} order by id`.execute(conn);
      const answers = [];
      for (const term of ['mug', 'lamp', 'rack', 'mug', 'none', 'mug', 'lamp']) answers.push((await search(term)).rows.map((r) => r.id));
      const { rows } = await sql<{ count: number }>`select count(*)::int as count from pg_prepared_statements where statement like '%from word where body like%'`.execute(conn);
      expect(rows[0]!.count).toBe(0);
      return answers;
    });
    expect(found).toEqual([[1, 3], [2], [3], [1, 3], [], [1, 3], [2]]);
  });

  it('fail like any statement on bad input, and the next statements still work', async () => {
    await sql`create table tray (id integer primary key)`.execute(db);
    const insert = (id: unknown) => sql`insert into tray values (${id})`.execute(db);
    await insert(1);
    await expect(insert(1)).rejects.toMatchObject({ code: '23505' });
    await expect(insert('not a number')).rejects.toMatchObject({ code: '22P02' });
    await insert(2);
    expect((await sql<{ id: number }>`select id from tray where id > ${0} order by id`.execute(db)).rows).toEqual([{ id: 1 }, { id: 2 }]);
  });

  it('keep answering after a table they read changes shape under them', async () => {
    await sql`create table shelf (id integer primary key, label text not null)`.execute(db);
    await sql`insert into shelf values (1, 'one'), (2, 'two')`.execute(db);
    const read = async (id: number) => (await sql<Record<string, unknown>>`select * from shelf where id = ${id}`.execute(db)).rows[0];
    // Enough runs on every pooled connection for PostgreSQL to settle on a cached plan.
    for (let i = 0; i < 12; i++) await Promise.all([read(1), read(2), read(1)]);
    await sql`alter table shelf add column colour text not null default 'red'`.execute(db);
    for (let i = 0; i < 3; i++) {
      const rows = await Promise.all([read(1), read(2), read(1)]);
      expect(rows).toEqual([
        { id: 1, label: 'one', colour: 'red' },
        { id: 2, label: 'two', colour: 'red' },
        { id: 1, label: 'one', colour: 'red' },
      ]);
    }
  });
});

describe('reads by a list of ids (equalsAny)', () => {
  it('answer alike for one id and for several, and a read by one id keeps its prepared plan', async () => {
    await sql`create table bins (id uuid primary key, label text not null)`.execute(db);
    const ids = ['0190a000-0000-7000-8000-000000000001', '0190a000-0000-7000-8000-000000000002', '0190a000-0000-7000-8000-000000000003'];
    await sql`insert into bins values (${ids[0]}, 'a'), (${ids[1]}, 'b'), (${ids[2]}, 'c')`.execute(db);
    const labels = async (conn: Db, wanted: string[]) =>
      (await sql<{ label: string }>`select label from bins where ${equalsAny(sql`id`, wanted, 'uuid')} order by label`.execute(conn)).rows.map((r) => r.label);
    expect(await labels(db, [ids[1]!])).toEqual(['b']);
    expect(await labels(db, [ids[2]!, ids[0]!])).toEqual(['a', 'c']);
    expect(await labels(db, ['0190a000-0000-7000-8000-00000000ffff'])).toEqual([]);
    // One connection, so its prepared statements are the ones counted (PGlite has only one).
    const plans = await db.connection().execute(async (conn) => {
      for (let i = 0; i < 10; i++) {
        await labels(conn, [ids[i % 3]!]);
        await labels(conn, [ids[i % 3]!, ids[(i + 1) % 3]!]);
      }
      const { rows } = await sql<{ statement: string; generic_plans: number; custom_plans: number }>`
        select statement, generic_plans, custom_plans from pg_prepared_statements where statement like '%from bins where%'`.execute(conn);
      return rows;
    });
    const byOne = plans.find((p) => !p.statement.includes('any('))!;
    const byMany = plans.find((p) => p.statement.includes('any('))!;
    // PostgreSQL's five trial custom plans (the reads above may have used this connection too), then the generic one for good.
    expect(byOne.custom_plans).toBe(5);
    expect(byOne.generic_plans).toBeGreaterThanOrEqual(5);
    // The reason for the helper: a read by `= any` of an array is planned again on every run.
    expect(byMany.generic_plans).toBe(0);
    expect(byMany.custom_plans).toBeGreaterThanOrEqual(10);
  });
});

describe("a transaction's begin, sent with its first statement", () => {
  it('costs a transaction one round trip less: begin and the first statement go out and come back together', async () => {
    await sql`create table trips (id integer primary key)`.execute(db);
    // PGlite runs in this process: there are no round trips to save.
    if (!testDb.url) return;
    const single = await openDatabase({ url: testDb.url, dataDir: 'memory://', poolSize: 1 });
    try {
      const twoStatements = (id: number) =>
        single.db.transaction().execute(async (tx) => {
          await sql`insert into trips values (${id})`.execute(tx);
          return (await sql<{ n: number }>`select count(*)::int as n from trips where id <= ${id}`.execute(tx)).rows[0]!.n;
        });
      await twoStatements(1); // both statements parsed on the connection
      // Each round trip ends with a Sync (extended protocol) or is a simple query ('commit').
      const connection = (pg as unknown as { Connection: { prototype: Record<string, (...args: unknown[]) => unknown> } }).Connection.prototype;
      let roundTrips = 0;
      const sync = connection.sync!;
      const simple = connection.query!;
      connection.sync = function (this: unknown, ...args: unknown[]) { roundTrips++; return sync.apply(this, args); };
      connection.query = function (this: unknown, ...args: unknown[]) { roundTrips++; return simple.apply(this, args); };
      try {
        expect(await twoStatements(2)).toBe(2);
      } finally {
        connection.sync = sync;
        connection.query = simple;
      }
      // begin + insert, select, commit: three where four went before.
      expect(roundTrips).toBe(3);
      expect((await sql<{ id: number }>`select id from trips order by id`.execute(db)).rows).toEqual([{ id: 1 }, { id: 2 }]);
    } finally {
      await single.close();
    }
  });

  it('leaves nothing open when a transaction runs no statement, whether it commits or throws', async () => {
    expect(await db.transaction().execute(async () => 'nothing to do')).toBe('nothing to do');
    await expect(db.transaction().execute(async () => { throw new Error('changed my mind'); })).rejects.toThrow('changed my mind');
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    if (!testDb.url) return;
    const { rows } = await sql<{ open: number }>`
      select count(*)::int as open from pg_stat_activity
      where datname = current_database() and state like 'idle in transaction%'`.execute(db);
    expect(rows[0]!.open).toBe(0);
  });

  it('rolls back when the first statement fails, and the connection goes on with the same and other statements', async () => {
    await sql`create table firsts (id integer primary key)`.execute(db);
    const single = testDb.url ? await openDatabase({ url: testDb.url, dataDir: 'memory://', poolSize: 1 }) : undefined;
    const on = single?.db ?? db;
    try {
      // A statement the connection has never parsed, failing to parse; then again, once it might have
      // been taken for parsed.
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(on.transaction().execute((tx) => sql`selec ${attempt}`.execute(tx))).rejects.toThrow(/syntax error/);
      }
      // A parsed statement failing on its data as the first of a transaction.
      await sql`insert into firsts values (1)`.execute(on);
      await expect(
        on.transaction().execute(async (tx) => {
          await sql`insert into firsts values (${1})`.execute(tx);
          await sql`insert into firsts values (${2})`.execute(tx);
        }),
      ).rejects.toThrow(/duplicate key/);
      await expect(
        on.transaction().execute(async (tx) => {
          await sql`insert into firsts values (${1})`.execute(tx);
        }),
      ).rejects.toThrow(/duplicate key/);
      // Then a transaction that works, whose writes all land.
      await on.transaction().execute(async (tx) => {
        await sql`insert into firsts values (${3})`.execute(tx);
        await sql`insert into firsts values (${4})`.execute(tx);
      });
      expect((await sql<{ id: number }>`select id from firsts order by id`.execute(db)).rows).toEqual([{ id: 1 }, { id: 3 }, { id: 4 }]);
    } finally {
      await single?.close();
    }
  });
});

describe("a transaction's last statement, marked to take the commit with it", () => {
  const last = (text: TemplateStringsArray, ...values: unknown[]) => sql`${sql.raw(THEN_COMMIT_MARK)}${sql(text, ...values)}`;

  it('commits with it: begin, statement and commit in one round trip for a transaction of one statement', async () => {
    await sql`create table lasts (id integer primary key)`.execute(db);
    const once = (database: Db, id: number) => database.transaction().execute((tx) => last`insert into lasts values (${id})`.execute(tx));
    await once(db, 1);
    expect((await sql<{ id: number }>`select id from lasts`.execute(db)).rows).toEqual([{ id: 1 }]);
    if (!testDb.url) return;
    const single = await openDatabase({ url: testDb.url, dataDir: 'memory://', poolSize: 1 });
    try {
      await once(single.db, 2); // parsed on the connection
      let roundTrips = 0;
      const connection = (pg as unknown as { Connection: { prototype: Record<string, (...args: unknown[]) => unknown> } }).Connection.prototype;
      const sync = connection.sync!;
      const simple = connection.query!;
      connection.sync = function (this: unknown, ...args: unknown[]) { roundTrips++; return sync.apply(this, args); };
      connection.query = function (this: unknown, ...args: unknown[]) { roundTrips++; return simple.apply(this, args); };
      try {
        await once(single.db, 3);
      } finally {
        connection.sync = sync;
        connection.query = simple;
      }
      expect(roundTrips).toBe(1);
      // Committed: another connection sees it at once.
      expect((await sql<{ id: number }>`select id from lasts order by id`.execute(db)).rows).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
      // And the connection is out of any transaction: its next statement stands alone.
      await sql`insert into lasts values (${4})`.execute(single.db);
      expect((await sql<{ n: number }>`select count(*)::int as n from lasts`.execute(db)).rows[0]!.n).toBe(4);
    } finally {
      await single.close();
    }
  });

  it('commits nothing when it fails, and fails when the commit does', async () => {
    await sql`create table lasts_checked (id integer unique deferrable initially deferred)`.execute(db);
    await expect(
      db.transaction().execute(async (tx) => {
        await sql`insert into lasts_checked values (${1})`.execute(tx);
        await last`insert into lasts_checked values (${'not a number'})`.execute(tx);
      }),
    ).rejects.toThrow(/invalid input syntax/);
    // The unique check is deferred to the commit: the statement succeeds, its commit fails.
    await expect(
      db.transaction().execute(async (tx) => {
        await sql`insert into lasts_checked values (${2})`.execute(tx);
        await last`insert into lasts_checked values (${2})`.execute(tx);
      }),
    ).rejects.toThrow(/duplicate key/);
    expect((await sql`select id from lasts_checked`.execute(db)).rows).toEqual([]);
    await db.transaction().execute((tx) => last`insert into lasts_checked values (${3})`.execute(tx));
    expect((await sql`select id from lasts_checked`.execute(db)).rows).toEqual([{ id: 3 }]);
  });
});

describe('connections the server closes (a restart, a failover)', () => {
  it('fail only the work that was on them: no crash, and the next query gets a fresh connection', async () => {
    expect((await sql<{ one: number }>`select 1 as one`.execute(db)).rows).toEqual([{ one: 1 }]);
    // PGlite runs in this process: there is no connection to lose.
    if (!testDb.url) return;
    const outcome = await db
      .transaction()
      .execute(async (tx) => {
        await sql`select 1`.execute(tx);
        // Every other connection to this database is closed by the server, this transaction's among
        // them, while it holds its connection between two statements.
        const admin = new pg.Client({ connectionString: testDb.url });
        await admin.connect();
        await admin.query('select pg_terminate_backend(pid) from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid()');
        await admin.end();
        // The connection's error arrives now, on a client no query is using.
        await sleep(300);
        await sql`select 1`.execute(tx);
        return 'went on';
      })
      .catch(() => 'failed');
    expect(outcome).toBe('failed');
    // The pool dropped the dead connections and opens new ones.
    const again = await Promise.all(range(5).map(() => sql<{ one: number }>`select 1 as one`.execute(db)));
    expect(again.map((r) => r.rows[0]!.one)).toEqual([1, 1, 1, 1, 1]);
  });
});

describe('a PostgreSQL on this host (TCP on loopback, or its Unix socket)', () => {
  it('is reached through its Unix socket when the socket leads to the server the URL names', async () => {
    // PGlite runs in this process: there is no connection to choose.
    if (!testDb.url) return;
    const overSocket = await sameServerOverSocket(testDb.url);
    expect(overSocket).toBeDefined();
    expect(new URL(overSocket!).searchParams.get('host')).toMatch(/^\//);
    // inet_server_addr() is null exactly on a Unix-socket connection.
    const onSocket = async (database: Db) => (await sql<{ socket: boolean }>`select inet_server_addr() is null as socket`.execute(database)).rows[0]!.socket;
    expect(await onSocket(db)).toBe(true);
    const overTcp = await openDatabase({ url: testDb.url, dataDir: 'memory://', localSocket: false });
    try {
      expect(await onSocket(overTcp.db)).toBe(false);
    } finally {
      await overTcp.close();
    }
  });

  it('keeps the URL as given for another host, TLS, an explicit socket, or no server behind the port', async () => {
    expect(await sameServerOverSocket('postgres://shop@db.internal:5432/bazaar')).toBeUndefined();
    expect(await sameServerOverSocket('postgres://root@127.0.0.1:5432/test?sslmode=require')).toBeUndefined();
    expect(await sameServerOverSocket('postgres://root@localhost/test?host=/var/run/postgresql')).toBeUndefined();
    expect(await sameServerOverSocket('postgres://root@127.0.0.1:1/test')).toBeUndefined();
    expect(await sameServerOverSocket('not a url')).toBeUndefined();
  });
});
