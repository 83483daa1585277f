import { parse, protocol, type PGlite, type Results, type Transaction } from '@electric-sql/pglite';
import {
  type CompiledQuery,
  PostgresAdapter,
  PostgresIntrospector,
  PostgresQueryCompiler,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import { CUSTOM_PLAN_MARK } from './plans.ts';

type Queryable = Pick<PGlite, 'query'> | Transaction;

/**
 * A Kysely dialect over one embedded PGlite instance.
 *
 * PGlite is a single connection. A hand-issued BEGIN on it would let a concurrent request's statements
 * land inside another request's transaction, so every Kysely transaction is run through PGlite's own
 * `transaction()`, which holds PGlite's exclusive lock for its whole duration; statements outside a
 * transaction go through `query()`, which waits for that lock. Module code is therefore identical on
 * PGlite and on node-postgres.
 */
export class PGliteDialect implements Dialect {
  constructor(private readonly pglite: PGlite) {}
  createAdapter(): DialectAdapter {
    return new PostgresAdapter();
  }
  createDriver(): Driver {
    return new PGliteDriver(this.pglite);
  }
  createQueryCompiler(): QueryCompiler {
    return new PostgresQueryCompiler();
  }
  createIntrospector(db: Kysely<any>): DatabaseIntrospector {
    return new PostgresIntrospector(db);
  }
}

class PGliteConnection implements DatabaseConnection {
  target: Queryable;
  /** Settles the PGlite transaction callback: resolve commits, reject rolls back. */
  finish?: { commit: () => void; rollback: (reason: Error) => void; done: Promise<void> };

  constructor(
    readonly pglite: PGlite,
    private readonly statements: PreparedStatements,
  ) {
    this.target = pglite;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const params = compiled.parameters as unknown[];
    const result =
      params.length > 0 && this.statements.canRun(compiled.sql)
        ? ((await this.statements.run(compiled.sql, params, this.target !== this.pglite)) as Results<R>)
        : await this.target.query<R>(compiled.sql, params);
    return {
      rows: result.rows,
      numAffectedRows: result.affectedRows === undefined ? undefined : BigInt(result.affectedRows),
    };
  }

  // eslint-disable-next-line require-yield
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('PGlite dialect does not support streaming queries');
  }
}

const MAX_PREPARED = 500;
// Numbered across the process, so that no two caches can ever give one session the same name twice.
let nextStatementNumber = 0;

/**
 * Parameterised statements as named prepared statements on PGlite. PGlite's own `query()` parses and
 * describes the statement on every call and sends parse, describe, bind, describe, execute and sync
 * as six calls into its WebAssembly, each with its own protocol parsing in JavaScript: in a checkout
 * profile 66 % of the server's time was PGlite. Here a statement is parsed and described once, then
 * each run is one call (bind, describe, execute, sync) on the statement PostgreSQL keeps planned.
 * A `CUSTOM_PLAN` statement keeps its parameter types but is parsed unnamed, so planned, on every run.
 * Parameterless SQL (which may hold several statements, such as a migration) and statements past the
 * cap (texts that differ per call) still go through `query()`.
 */
class PreparedStatements {
  /** `name` undefined: a custom-planned statement, parsed unnamed (and so planned) on every run. */
  private readonly statements = new Map<string, { name?: string; paramTypes: number[] }>();

  constructor(private readonly pglite: PGlite) {}

  canRun(text: string): boolean {
    return this.statements.has(text) || this.statements.size < MAX_PREPARED;
  }

  /** `inTransaction`: the caller holds PGlite's transaction lock already (it runs inside `transaction()`). */
  run(text: string, params: unknown[], inTransaction: boolean): Promise<Results<unknown>> {
    // The same locks PGlite's query() (transaction, then query) and a transaction's tx.query() (query) take.
    const exclusive = () => this.pglite._runExclusiveQuery(() => this.execute(text, params, !inTransaction));
    return inTransaction ? exclusive() : this.pglite._runExclusiveTransaction(exclusive);
  }

  /** `outsideTransaction`: the statement commits on its own, and PGlite syncs its files after it, as query() does. */
  private async execute(text: string, params: unknown[], outsideTransaction: boolean): Promise<Results<unknown>> {
    let statement = this.statements.get(text);
    if (!statement) {
      const name = text.startsWith(CUSTOM_PLAN_MARK) ? undefined : `bz_${nextStatementNumber++}`;
      const described = await this.pglite.execProtocolStream(
        concat(protocol.serialize.parse({ name, text }), protocol.serialize.describe({ type: 'S', name }), protocol.serialize.sync()),
        { syncToFs: false },
      );
      statement = { name, paramTypes: parse.parseDescribeStatementResults(described) };
      this.statements.set(text, statement);
    }
    const { name, paramTypes } = statement;
    // Its parameter types known, a custom-planned statement is parsed and run in the same one call.
    const parseFirst = name === undefined ? [protocol.serialize.parse({ text, types: paramTypes })] : [];
    const values = params.map((value, i) => {
      if (value === null || value === undefined) return null;
      const serialize = this.pglite.serializers[paramTypes[i]!];
      return serialize ? serialize(value) : String(value);
    });
    try {
      const messages = await this.pglite.execProtocolStream(
        concat(...parseFirst, protocol.serialize.bind({ statement: name, values }), protocol.serialize.describe({ type: 'P' }), protocol.serialize.execute({}), protocol.serialize.sync()),
        { syncToFs: outsideTransaction },
      );
      return parse.parseResults(messages, this.pglite.parsers)[0]!;
    } catch (error) {
      // A table changed under a prepared `select *` (PostgreSQL: "cached plan must not change result
      // type"): prepare it afresh, and outside a transaction run it again at once (inside one, the
      // transaction has failed already), as the PostgreSQL path does (database.ts).
      if ((error as { code?: string })?.code !== '0A000' || name === undefined) throw error;
      this.statements.delete(text);
      await this.pglite.execProtocolStream(concat(protocol.serialize.close({ type: 'S', name }), protocol.serialize.sync()), { syncToFs: false });
      if (!outsideTransaction) throw error;
      return this.execute(text, params, outsideTransaction);
    }
  }
}

const concat = (...parts: Uint8Array[]): Uint8Array => Buffer.concat(parts);

class RollbackSignal extends Error {}

class PGliteDriver implements Driver {
  // One per PGlite instance, as the server keeps its prepared statements per session.
  private readonly statements: PreparedStatements;

  constructor(private readonly pglite: PGlite) {
    this.statements = new PreparedStatements(pglite);
  }

  async init(): Promise<void> {}

  // Every acquisition gets its own connection object: the non-transactional ones share PGlite's
  // serialised query(), the transactional ones are bound to their own PGlite transaction.
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.pglite, this.statements);
  }

  async beginTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as PGliteConnection;
    let started!: () => void;
    const ready = new Promise<void>((resolve) => (started = resolve));
    let commit!: () => void;
    let rollback!: (reason: Error) => void;
    const outcome = new Promise<void>((resolve, reject) => {
      commit = resolve;
      rollback = reject;
    });
    const done = this.pglite
      .transaction(async (tx) => {
        conn.target = tx;
        started();
        await outcome;
      })
      .then(
        () => undefined,
        (error: unknown) => {
          if (!(error instanceof RollbackSignal)) throw error;
        },
      );
    conn.finish = { commit, rollback, done };
    // If BEGIN itself fails, surface that instead of waiting forever.
    await Promise.race([ready, done]);
  }

  async commitTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as PGliteConnection;
    conn.finish!.commit();
    try {
      await conn.finish!.done;
    } finally {
      this.detach(conn);
    }
  }

  async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    const conn = connection as PGliteConnection;
    // Kysely rolls back after a failed commit too: the transaction is over already (PostgreSQL
    // rolled it back), and the commit's own error (a deferred constraint) is the one to report.
    if (!conn.finish) return;
    conn.finish.rollback(new RollbackSignal('rollback'));
    try {
      await conn.finish!.done;
    } finally {
      this.detach(conn);
    }
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    // The owner of the PGlite instance closes it (see database.ts), so that tests can share one.
  }

  private detach(conn: PGliteConnection) {
    conn.target = this.pglite;
    conn.finish = undefined;
  }
}
