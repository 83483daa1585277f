import { createHash } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import { PGlite } from '@electric-sql/pglite';
import { pg_trgm } from '@electric-sql/pglite/contrib/pg_trgm';
import { Kysely, PostgresDialect, sql, type RawBuilder } from 'kysely';
import pg from 'pg';
import type { Config } from '../config.ts';
import { PGliteDialect } from './pglite-dialect.ts';
import { CUSTOM_PLAN_MARK, THEN_COMMIT_MARK } from './plans.ts';

/**
 * Module code sees one `Db` whatever the engine. Tables are addressed with their schema
 * (`identity.users`), so the database type is left open here and each module types its own tables.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Db = Kysely<any>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  ping(): Promise<void>;
  close(): Promise<void>;
  /** PGlite only: the whole data directory as a tarball (used to build test templates). */
  dump?(): Promise<Blob | File>;
}

export interface DatabaseOptions {
  url?: string;
  dataDir: string;
  poolSize?: number;
  /** PostgreSQL only: run repeated queries as named prepared statements (default true). */
  preparedStatements?: boolean;
  /**
   * PostgreSQL only: when the URL names this host over TCP and the same server also listens on a Unix
   * socket here, connect through the socket (default true). See `sameServerOverSocket`.
   */
  localSocket?: boolean;
  /**
   * PGlite only: start from this dumped data directory (PGlite.dumpDataDir) instead of running initdb.
   * Tests use one template so that each test file's fresh database takes a fraction of a second.
   */
  template?: Blob;
}

// int8 (counts, bigserial, money totals) as JS numbers on both engines: every amount we store fits
// in 2^53, and one representation avoids string-vs-number bugs between PGlite and PostgreSQL.
const INT8_OID = 20;
const NUMERIC_OID = 1700;
pg.types.setTypeParser(INT8_OID, (v) => Number(v));
pg.types.setTypeParser(NUMERIC_OID, (v) => Number(v));

/** The database the settings name: `bazaar start` and `bazaar migrate` open the same one the same way. */
export function openConfiguredDatabase(config: Config): Promise<Database> {
  return openDatabase({
    url: config.DATABASE_URL,
    dataDir: config.DATA_DIR,
    poolSize: config.DATABASE_POOL_SIZE,
    preparedStatements: config.DATABASE_PREPARED_STATEMENTS,
    localSocket: config.DATABASE_LOCAL_SOCKET,
  });
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const url = (options.localSocket ?? true) ? ((await sameServerOverSocket(options.url)) ?? options.url) : options.url;
    return openPostgres(url, options.poolSize ?? 10, options.preparedStatements ?? true);
  }
  return openPGlite(options.dataDir, options.template);
}

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);
const SOCKET_DIRECTORIES = ['/var/run/postgresql', '/run/postgresql', '/tmp'];

/**
 * The same database through the server's Unix socket, for a URL that reaches it over TCP on loopback;
 * undefined when there is no such socket, it is not the same server, or it refuses us. Every statement
 * is a round trip, and on loopback TCP each costs both processes the TCP stack: in six side-by-side
 * rounds of the checkout bench the socket was ahead in five, -1 to +14 % checkouts/s, 0-13 % less
 * server CPU per checkout (bench/README.md).
 * The socket must lead to the very server the URL names: same postmaster start time, port, database
 * and user, or the URL is used as given. A URL asking for TLS or naming its own socket is left alone.
 */
export async function sameServerOverSocket(url: string): Promise<string | undefined> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return undefined;
  }
  if (!LOOPBACK_HOSTS.has(parsed.hostname) || parsed.searchParams.has('host') || parsed.searchParams.has('ssl') || parsed.searchParams.has('sslmode')) return undefined;
  const port = parsed.port || '5432';
  const directory = SOCKET_DIRECTORIES.find((dir) => existsSync(`${dir}/.s.PGSQL.${port}`));
  if (!directory) return undefined;
  const overSocket = new URL(url);
  overSocket.searchParams.set('host', directory);
  const identity = async (connectionString: string) => {
    const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2_000 });
    client.on('error', () => {});
    try {
      await client.connect();
      const { rows } = await client.query(
        "select pg_postmaster_start_time()::text || ' ' || current_setting('port') || ' ' || current_database() || ' ' || current_user as id",
      );
      return rows[0]?.id as string | undefined;
    } finally {
      await client.end().catch(() => {});
    }
  };
  try {
    const [viaTcp, viaSocket] = await Promise.all([identity(url), identity(overSocket.toString())]);
    return viaTcp !== undefined && viaTcp === viaSocket ? overSocket.toString() : undefined;
  } catch {
    return undefined;
  }
}

async function openPostgres(url: string, poolSize: number, preparedStatements: boolean): Promise<Database> {
  const pool = new pg.Pool({ connectionString: url, max: poolSize, idleTimeoutMillis: 30_000 });
  // A connection the server closes (a restart, a failover, an administrator) must not crash the
  // process. The pool hears of it for idle clients; a client checked out at that moment emits the error
  // itself, and with no listener Node throws it: a PostgreSQL restart under load killed the server.
  // Its query in flight (if any) fails on its own, and the pool drops the client when it is released.
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  if (preparedStatements) {
    pool.on('connect', prepareRepeatedQueries);
    // A transaction left open by its user (none does: Kysely always ends one) must not reach the next.
    pool.on('acquire', (client) => {
      (client as ClientInTransaction)[BEGIN_DEFERRED] = false;
      (client as ClientInTransaction)[COMMITTED_EARLY] = false;
    });
  }
  const db: Db = new Kysely({ dialect: new PostgresDialect({ pool }) });
  return {
    db,
    kind: 'postgres',
    ping: async () => {
      await sql`select 1`.execute(db);
    },
    close: () => db.destroy(),
  };
}

/**
 * `column = any(values)`, written `column = value` when there is one value. A prepared read by
 * `indexed_column = any($1)` is planned afresh on every run: its generic plan, not knowing the array's
 * length, looks dearer than a custom plan for the few ids given (the stock check on every cart add was
 * planned 200 times in 200 runs, and the planning cost four times the run). With one value it keeps
 * the generic plan. (Not every array parameter does this: an update joined to `unnest` of arrays
 * settled on its generic plan after the usual five custom ones.)
 */
export function equalsAny(column: RawBuilder<unknown>, values: readonly string[], type: 'uuid' | 'text'): RawBuilder<unknown> {
  const cast = sql.raw(type);
  if (values.length === 1) return sql`${column} = ${values[0]}::${cast}`;
  return sql`${column} = any(${values}::${cast}[])`;
}

const MAX_PREPARED_PER_CONNECTION = 300;
/**
 * Starts a statement that must be planned for its own parameters every time (never run as a prepared
 * statement with a generic plan): full-text search, whose best plan depends on how common the words are.
 */
export const CUSTOM_PLAN = sql.raw(CUSTOM_PLAN_MARK);
const statementNames = new Map<string, string>();

/**
 * Runs every parameterised query as a named prepared statement on its connection. PostgreSQL then
 * parses a query once per connection instead of on every call, and after a few runs keeps a generic
 * plan instead of planning again: planning the hot statements cost about as much as running them.
 * Names are a hash of the text, so one SQL text is prepared once per connection; past a cap (texts
 * that differ per call, such as a VALUES list of varying length) queries simply run unnamed.
 * Transaction-mode poolers (PgBouncer) cannot keep named statements: DATABASE_PREPARED_STATEMENTS=false.
 */
function prepareRepeatedQueries(client: pg.PoolClient): void {
  const prepared = new Set<string>();
  const unnamed = new Set<string>();
  const state = client as ClientInTransaction;
  state[BEGIN_DEFERRED] = false;
  state[COMMITTED_EARLY] = false;
  const query = client.query.bind(client) as (...args: unknown[]) => Promise<pg.QueryResult>;
  const parsedOnConnection = (name: string) => (client as any).connection?.parsedStatements?.[name] !== undefined;
  const pipelined = (config: { name?: string; text: string; values: unknown[] }, begin: boolean, commit: boolean) =>
    new Promise<pg.QueryResult>((resolve, reject) => {
      query(new PipelinedQuery(config, { begin, commit }, (error, result) => (error ? reject(error) : resolve(result!))));
    });
  const run = async (config: { name?: string; text: string; values: unknown[] }): Promise<pg.QueryResult> => {
    const commit = config.text.startsWith(THEN_COMMIT_MARK);
    let begin = state[BEGIN_DEFERRED];
    state[BEGIN_DEFERRED] = false;
    // Not behind `begin`, a statement this connection has yet to parse: were its parse to fail, pg
    // would have taken begin's parse answer for its own, think it parsed, and on its next run bind a
    // statement that does not exist. (Commit's answer comes after the statement's, so it cannot mislead.)
    if (begin && config.name !== undefined && !parsedOnConnection(config.name)) {
      await query('begin');
      begin = false;
    }
    if (!begin && !commit) return query(config);
    const result = await pipelined(config, begin, commit);
    if (commit) state[COMMITTED_EARLY] = true;
    return result;
  };
  (client as any).query = (text: unknown, values?: unknown, callback?: unknown) => {
    const noValues = values === undefined || (Array.isArray(values) && values.length === 0);
    if (typeof text === 'string' && noValues && callback === undefined) {
      if (text === 'begin' && !state[BEGIN_DEFERRED]) {
        state[BEGIN_DEFERRED] = true;
        state[COMMITTED_EARLY] = false;
        return Promise.resolve(nothingRan('BEGIN'));
      }
      if ((text === 'commit' || text === 'rollback') && (state[BEGIN_DEFERRED] || state[COMMITTED_EARLY])) {
        // The transaction ran no statement, so the server never heard of it; or its last statement
        // took the commit with it. (A rollback then comes too late: no caller asks for one, as the
        // last statement is the transaction's last work.)
        state[BEGIN_DEFERRED] = false;
        state[COMMITTED_EARLY] = false;
        return Promise.resolve(nothingRan(text.toUpperCase()));
      }
    }
    if (typeof text !== 'string' || !Array.isArray(values) || values.length === 0 || callback !== undefined) {
      if (!state[BEGIN_DEFERRED]) return query(text, values, callback);
      state[BEGIN_DEFERRED] = false;
      return query('begin').then(() => query(text, values, callback));
    }
    if (text.startsWith(CUSTOM_PLAN_MARK)) return run({ text, values });
    let name = statementNames.get(text);
    if (!name) {
      name = `bz_${createHash('sha1').update(text).digest('base64url').slice(0, 22)}`;
      if (statementNames.size < 10_000) statementNames.set(text, name);
    }
    if (unnamed.has(name)) return run({ text, values });
    if (!prepared.has(name)) {
      if (prepared.size >= MAX_PREPARED_PER_CONNECTION) return run({ text, values });
      prepared.add(name);
    }
    return run({ name, text, values }).catch((error: { code?: string }) => {
      // A table changed under a prepared `select *` (a migration while this connection lived): run it
      // unnamed from now on rather than failing until the connection is replaced. (Within a
      // transaction the error has aborted it, and the retry fails with the transaction's error.)
      if (error?.code !== '0A000') throw error;
      unnamed.add(name!);
      return query(text, values);
    });
  };
}

const BEGIN_DEFERRED = Symbol('begin deferred');
const COMMITTED_EARLY = Symbol('committed with its last statement');
type ClientInTransaction = pg.PoolClient & { [BEGIN_DEFERRED]: boolean; [COMMITTED_EARLY]: boolean };
const nothingRan = (command: string) => ({ command, rowCount: null, rows: [], fields: [], oid: 0 }) as unknown as pg.QueryResult;

/**
 * A statement with its transaction's `begin` ahead of it and/or its `commit` behind it, in one write
 * answered together: each saves the transaction a round trip (a checkout's server made 41 syscalls
 * per order instead of 53, and answered 3-4 % sooner at one buyer; bench/README.md, sixth round).
 * `begin` and `commit` are parsed unnamed and run under
 * the statement's one Sync; their answers (ParseComplete, BindComplete, CommandComplete) are not the
 * statement's. Should the statement fail, the server skips the commit (everything up to the Sync), the
 * transaction is left aborted as it would be had the statement gone alone, and the caller rolls it back.
 */
class PipelinedQuery extends (pg.Query as unknown as new (config: object, values: undefined, callback: unknown) => any) {
  private beginToAnswer: boolean;
  private statementAnswered = false;

  constructor(
    config: { name?: string; text: string; values: unknown[] },
    private readonly around: { begin: boolean; commit: boolean },
    callback: (error: Error | null, result?: pg.QueryResult) => void,
  ) {
    super(config, undefined, callback);
    this.beginToAnswer = around.begin;
  }

  prepare(connection: any): void {
    if (this.around.begin) runUnnamed(connection, 'begin');
    super.prepare(connection);
  }

  /** pg's Query sends Sync right after the statement's Execute: the commit goes in between. */
  _getRows(connection: any, rows: unknown): void {
    if (this.around.commit && !rows) {
      connection.execute({ portal: this.portal, rows });
      runUnnamed(connection, 'commit');
      connection.sync();
      return;
    }
    super._getRows(connection, rows);
  }

  handleCommandComplete(message: unknown, connection: unknown): void {
    if (this.beginToAnswer) {
      this.beginToAnswer = false;
      return;
    }
    if (this.statementAnswered) return; // the commit's
    this.statementAnswered = true;
    super.handleCommandComplete(message, connection);
  }
}

function runUnnamed(connection: any, text: string): void {
  connection.parse({ text, name: '', types: [] });
  connection.bind({ portal: '', statement: '', values: [] });
  connection.execute({ portal: '', rows: 0 });
}

async function openPGlite(dataDir: string, template?: Blob): Promise<Database> {
  const inMemory = dataDir.startsWith('memory://');
  if (!inMemory) mkdirSync(dataDir, { recursive: true });
  const pglite = await PGlite.create({
    dataDir: inMemory ? undefined : `${dataDir.replace(/\/$/, '')}/pglite`,
    extensions: { pg_trgm },
    ...(template && inMemory ? { loadDataDir: template } : {}),
    parsers: { [INT8_OID]: (v: string) => Number(v), [NUMERIC_OID]: (v: string) => Number(v) },
  });
  const db: Db = new Kysely({ dialect: new PGliteDialect(pglite) });
  return {
    db,
    kind: 'pglite',
    dump: () => pglite.dumpDataDir('none'),
    ping: async () => {
      await pglite.query('select 1');
    },
    close: async () => {
      await db.destroy();
      if (!pglite.closed) await pglite.close();
    },
  };
}
