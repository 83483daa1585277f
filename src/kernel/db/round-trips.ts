import { sql } from 'kysely';
import pg from 'pg';
import pgUtils from 'pg/lib/utils.js';

/**
 * Fewer round trips per transaction on PostgreSQL. On the machines we measure, a round trip to the
 * database (a write and a read on each side of a TCP connection) costs more CPU than most of our
 * statements do to run, and a transaction spends two of them on `begin` and `commit` alone.
 *
 * A statement marked `SENT_WITH_BEGIN` that is the first of its transaction goes out in one message
 * with the `begin`; one marked `SENT_WITH_COMMIT` (the kernel's last write before commit: outbox,
 * inbox, idempotency record) goes out with the `commit`. Both ride PostgreSQL's simple query protocol,
 * which runs several statements from one message but takes no parameters, so the marked statement's
 * parameters are written into its text as literals, escaped by node-postgres exactly as it would
 * send them (`prepareValue`, `escapeLiteral`). Only a few statements are marked, all the kernel's,
 * whose texts hold no `$n` outside their parameters. A value that cannot be written as a literal (a
 * Buffer) sends the statement on its own, as before.
 *
 * An error anywhere in such a message aborts the rest of it (PostgreSQL skips the remaining
 * statements), so a failing last write never commits: Kysely's rollback follows as usual. PGlite
 * runs in-process with no round trips to save; there the marks are plain comments.
 */
export const WITH_BEGIN_MARK = '/* bazaar:with-begin */';
export const WITH_COMMIT_MARK = '/* bazaar:with-commit */';
export const SENT_WITH_BEGIN = sql.raw(WITH_BEGIN_MARK);
export const SENT_WITH_COMMIT = sql.raw(WITH_COMMIT_MARK);

/** A node-postgres client's `query`, as the pool's clients are called by Kysely. */
export type Query = (text: unknown, values?: unknown, callback?: unknown) => Promise<pg.QueryResult>;

const done = (command: string): pg.QueryResult => ({ command, rowCount: null, rows: [], fields: [], oid: 0 });

/** Wraps `send` (a client's query function) for one connection. */
export function mergeTransactionRoundTrips(send: Query): Query {
  // Kysely's `begin`, held back until the transaction's first statement.
  let beginHeld = false;
  // The transaction's commit already went out with its last write; Kysely's `commit` is answered here.
  let committed = false;

  const simple = (text: string) => send(text, []) as unknown as Promise<pg.QueryResult[]>;

  return (text, values, callback) => {
    if (typeof text !== 'string' || callback !== undefined) return send(text, values, callback);
    if (text === 'begin') {
      beginHeld = true;
      committed = false;
      return Promise.resolve(done('BEGIN'));
    }
    if (text === 'commit' && committed) {
      committed = false;
      return Promise.resolve(done('COMMIT'));
    }
    const params = Array.isArray(values) ? values : [];
    const withCommit = text.startsWith(WITH_COMMIT_MARK);
    if (beginHeld) {
      beginHeld = false;
      // A transaction that ran no statement has nothing to begin or end.
      if (text === 'commit' || text === 'rollback') return Promise.resolve(done(text.toUpperCase()));
      if (text.startsWith(WITH_BEGIN_MARK) || withCommit) {
        const literal = inlined(text, params);
        if (literal !== undefined) {
          return simple(`begin;${literal}${withCommit ? ';commit' : ''}`).then((results) => {
            committed = withCommit;
            return results[1]!;
          });
        }
      }
      return send('begin', []).then(() => (withCommit ? sendWithCommit(text, params) : send(text, values)));
    }
    if (withCommit) return sendWithCommit(text, params);
    return send(text, values);
  };

  function sendWithCommit(text: string, params: unknown[]): Promise<pg.QueryResult> {
    const literal = inlined(text, params);
    if (literal === undefined) return send(text, params);
    return simple(`${literal};commit`).then((results) => {
      committed = true;
      return results[0]!;
    });
  }
}

/** The statement with its parameters written in as literals; undefined when one cannot be. */
export function inlined(text: string, params: unknown[]): string | undefined {
  const literals: string[] = [];
  for (const value of params) {
    if (value === null || value === undefined) {
      literals.push('null');
      continue;
    }
    if (Buffer.isBuffer(value) || value instanceof Uint8Array) return undefined;
    const prepared = pgUtils.prepareValue(value);
    if (prepared === null) {
      literals.push('null');
      continue;
    }
    if (typeof prepared !== 'string') return undefined;
    // Quoted like a parameter: untyped until the statement's context (or its cast) gives it a type.
    literals.push(pg.escapeLiteral(prepared));
  }
  return text.replace(/\$(\d+)/g, (token, n: string) => literals[Number(n) - 1] ?? token);
}
