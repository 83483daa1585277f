import { sql, type RawBuilder } from 'kysely';
import type { Logger } from 'pino';
import { runAfterCommit } from '../db/after-commit.ts';
import type { Db } from '../db/database.ts';
import type { EventEnvelope } from './envelope.ts';
import { closeOutbox, openOutbox } from './outbox.ts';

/**
 * A write the kernel makes just before an owned transaction commits, together with the outbox rows
 * in one statement. `statement` is an insert/update/delete without a returning clause. `mustWrite`:
 * it must write a row (an `on conflict do nothing` that met a conflict did not), or the transaction
 * rolls back with that error.
 */
export interface CommitWrite {
  statement: RawBuilder<unknown>;
  mustWrite?: () => Error;
}

const commitWrites = new WeakMap<object, CommitWrite[]>();

/**
 * Defers `write` to the statement that writes `tx`'s events just before it commits. False when `tx`
 * is not a transaction the kernel owns: the caller must then run the write itself.
 */
export function atCommit(tx: Db, write: CommitWrite): boolean {
  const writes = commitWrites.get(tx);
  if (!writes) return false;
  writes.push(write);
  return true;
}

/**
 * The one way the kernel runs a transaction for a module (`ctx.transaction`, an event handler's
 * delivery): the events it publishes go to the outbox in one statement just before commit, with the
 * kernel's other last writes (an Idempotency-Key's response), and once it has committed its
 * `afterCommit` callbacks run and, if it published anything, `published` gets its eager events (the
 * app hands them to the relay).
 */
export async function runTransaction<T>(
  db: Db,
  work: (tx: Db) => Promise<T>,
  options: { logger: Logger; published: (eager: EventEnvelope[]) => void },
): Promise<T> {
  let committed: { tx: Db; wrote: boolean; eager: EventEnvelope[] } | undefined;
  const value = await db.transaction().execute(async (tx) => {
    openOutbox(tx);
    commitWrites.set(tx, []);
    const result = await work(tx);
    const { insert, eager } = closeOutbox(tx);
    const writes = commitWrites.get(tx)!;
    commitWrites.delete(tx);
    await writeAll(tx, insert ? [{ statement: insert }, ...writes] : writes);
    committed = { tx, wrote: insert !== undefined, eager };
    return result;
  });
  if (committed) {
    runAfterCommit(committed.tx, (error) => options.logger.error({ err: error }, 'an after-commit callback failed'));
    if (committed.wrote) options.published(committed.eager);
  }
  return value;
}

/** One statement for all: each write a data-modifying CTE that returns its rows, and their counts. */
async function writeAll(tx: Db, writes: CommitWrite[]): Promise<void> {
  if (writes.length === 0) return;
  if (writes.length === 1) {
    const [{ statement, mustWrite }] = writes as [CommitWrite];
    if (!mustWrite) {
      await statement.execute(tx);
      return;
    }
    const { rows } = await sql`${statement} returning 1`.execute(tx);
    if (rows.length === 0) throw mustWrite();
    return;
  }
  const parts = writes.map((w, i) => sql`${sql.raw(`w${i}`)} as (${w.statement} returning 1)`);
  const counts = writes.map((_, i) => sql`(select count(*) from ${sql.raw(`w${i}`)})::int as ${sql.raw(`w${i}`)}`);
  const { rows } = await sql<Record<string, number>>`with ${sql.join(parts)} select ${sql.join(counts)}`.execute(tx);
  writes.forEach((w, i) => {
    if (w.mustWrite && rows[0]![`w${i}`] === 0) throw w.mustWrite();
  });
}
