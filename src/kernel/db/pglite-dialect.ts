import type { PGlite, Transaction } from '@electric-sql/pglite';
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

  constructor(readonly pglite: PGlite) {
    this.target = pglite;
  }

  async executeQuery<R>(compiled: CompiledQuery): Promise<QueryResult<R>> {
    const result = await this.target.query<R>(compiled.sql, compiled.parameters as unknown[]);
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

class RollbackSignal extends Error {}

class PGliteDriver implements Driver {
  constructor(private readonly pglite: PGlite) {}

  async init(): Promise<void> {}

  // Every acquisition gets its own connection object: the non-transactional ones share PGlite's
  // serialised query(), the transactional ones are bound to their own PGlite transaction.
  async acquireConnection(): Promise<DatabaseConnection> {
    return new PGliteConnection(this.pglite);
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
    conn.finish!.rollback(new RollbackSignal('rollback'));
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
