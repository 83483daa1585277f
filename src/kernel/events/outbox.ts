import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../db/database.ts';
import { THEN_COMMIT_MARK } from '../db/plans.ts';
import { newId } from '../ids.ts';
import type { WorkContext } from '../observability/context.ts';
import { EVENT_TYPE, emittingModule, type EventEnvelope } from './envelope.ts';

export interface NewEvent<TData> {
  type: string;
  aggregateId: string;
  data: TData;
  version?: number;
  /**
   * Published right after the transaction commits, ahead of the relay's next pass, because someone
   * is waiting on it (a customer on their payment). The row stays in the outbox until that publish
   * succeeds, so nothing is lost if it fails. Only for an aggregate's first event, or one no earlier
   * event of its aggregate can still be waiting for: an eager event may overtake those.
   */
  eager?: boolean;
}

/**
 * A write the kernel makes just before an owned transaction commits, together with its outbox rows
 * in one statement. `statement` is an insert/update/delete without a returning clause. `mustWrite`:
 * it must write a row (an `on conflict do nothing` that met a conflict did not), or the transaction
 * rolls back with that error.
 */
export interface CommitWrite {
  /**
   * Or a function, called when the write is made: the writes as they stand then (in this order), or
   * null when nothing is left to write (see writeAtCommit).
   */
  statement: RawBuilder<unknown> | (() => RawBuilder<unknown> | (RawBuilder<unknown> | ResolvedWrite)[] | null);
  mustWrite?: () => Error;
  /** With `mustWrite`: the write must write exactly this many rows, not just one or more. */
  rows?: number;
}

/** One statement of a deferred write, with its own `mustWrite` check. */
export interface ResolvedWrite {
  statement: RawBuilder<unknown>;
  mustWrite?: () => Error;
  rows?: number;
}
const isResolvedWrite = (value: RawBuilder<unknown> | ResolvedWrite): value is ResolvedWrite => 'statement' in value;

function resolved(writes: CommitWrite[]): ResolvedWrite[] {
  const made: ResolvedWrite[] = [];
  for (const write of writes) {
    const statement = typeof write.statement === 'function' ? write.statement() : write.statement;
    for (const one of Array.isArray(statement) ? statement : statement ? [statement] : []) {
      made.push(isResolvedWrite(one) ? one : { statement: one, mustWrite: write.mustWrite, rows: write.rows });
    }
  }
  return made;
}

export interface DeferredWrite {
  /** Makes the writes now, once: before the transaction reads what they write. */
  writeNow(): Promise<void>;
  readonly written: boolean;
}

/**
 * Writes `build()`'s statements with `tx`'s last statement (a `mustWrite` one that writes no row fails
 * it, and so the transaction, with its error), as `build` makes them then (a row changed
 * several times in the transaction is written once, in its last state: one statement cannot update a
 * row twice). A module whose later statements in `tx` may read those rows calls `writeNow` first.
 * Written at once when `tx` is not a transaction the kernel owns.
 */
export async function writeAtCommit(tx: Db, build: () => (RawBuilder<unknown> | ResolvedWrite)[]): Promise<DeferredWrite> {
  let written = false;
  const handle: DeferredWrite = {
    get written() {
      return written;
    },
    async writeNow() {
      if (written) return;
      written = true;
      for (const one of build()) {
        const { statement, mustWrite, rows } = isResolvedWrite(one) ? one : { statement: one, mustWrite: undefined, rows: undefined };
        const result = await statement.execute(tx);
        const count = Number(result.numAffectedRows ?? 0);
        if (mustWrite && (rows === undefined ? count === 0 : count !== rows)) throw mustWrite();
      }
    },
  };
  const deferred = atCommit(tx, {
    statement: () => {
      if (written) return null;
      written = true;
      return build();
    },
  });
  if (!deferred) await handle.writeNow();
  return handle;
}

/**
 * What an owned transaction (see transaction.ts) leaves for its commit: the events it published, and
 * the kernel's other last writes (`atCommit`). They go to the database in one statement just before
 * commit. A transaction nobody owns writes each event at once.
 */
interface Owned {
  pending: EventEnvelope[];
  eager: EventEnvelope[];
  writes: CommitWrite[];
  /** Whose work the transaction does: its events inherit the correlation and cause. */
  work: WorkContext | undefined;
}
const owned = new WeakMap<object, Owned>();

export function openOutbox(tx: Db, work?: WorkContext): void {
  owned.set(tx, { pending: [], eager: [], writes: [], work });
}

/** The work an owned transaction does (given when it was opened, or set since). */
export function workOf(tx: Db): WorkContext | undefined {
  return owned.get(tx)?.work;
}

/**
 * From here on `tx` does `work` (a consumer handling a group of events in one transaction sets each
 * event's in turn, so every event published carries the cause that led to it).
 */
export function setWork(tx: Db, work: WorkContext | undefined): void {
  const record = owned.get(tx);
  if (record) record.work = work;
}

/**
 * Defers `write` to the statement that writes `tx`'s events just before it commits. False when `tx`
 * is not a transaction the kernel owns: the caller must then run the write itself.
 */
export function atCommit(tx: Db, write: CommitWrite): boolean {
  const record = owned.get(tx);
  if (!record) return false;
  record.writes.push(write);
  return true;
}

/**
 * A transaction's last writes, the ones nothing in it reads back: they go with the statement that
 * writes its events just before commit (atCommit), which saves each a round trip (measured here: 0.3-0.6
 * ms of machine CPU each, bench/results/checkout-experiments-2026-12-02-round5.txt). Run now, in this order, when `tx` is not a transaction the kernel owns.
 */
export async function writeLast(tx: Db, writes: CommitWrite[]): Promise<void> {
  if (writes.every((write) => atCommit(tx, write))) return;
  for (const write of resolved(writes)) await writeAll(tx, [write]);
}

/**
 * Writes what `tx` left for its commit, in one statement, and says whether it published anything and
 * which events are eager. Throws a `mustWrite` write's error when that write wrote nothing.
 */
export async function closeOutbox(tx: Db): Promise<{ wrote: boolean; eager: EventEnvelope[] }> {
  const record = owned.get(tx);
  if (!record) return { wrote: false, eager: [] };
  owned.delete(tx);
  const wrote = record.pending.length > 0;
  // The transaction's last statement: the commit goes with it (THEN_COMMIT_MARK).
  const writes = resolved(record.writes);
  await writeAll(tx, wrote ? [{ statement: insertStatement(record.pending) }, ...writes] : writes, { last: true });
  return { wrote, eager: wrote ? record.eager : [] };
}

const MUST_WRITE_FAILED = 'bazaar:must-write:';

/**
 * One statement for all: each write a data-modifying CTE that returns its rows, and their counts. A
 * `mustWrite` write that wrote nothing fails the statement itself (a cast that cannot succeed, naming
 * the write), so that a transaction whose last statement takes its commit with it does not commit.
 */
async function writeAll(tx: Db, writes: ResolvedWrite[], options: { last?: boolean } = {}): Promise<void> {
  if (writes.length === 0) return;
  const mark = options.last ? sql.raw(THEN_COMMIT_MARK) : sql``;
  if (writes.length === 1 && !writes[0]!.mustWrite) {
    await sql`${mark}${writes[0]!.statement}`.execute(tx);
    return;
  }
  const parts = writes.map((w, i) => sql`${sql.raw(`w${i}`)} as (${w.statement} returning 1)`);
  const counts = writes.map((w, i) => {
    const name = sql.raw(`w${i}`);
    if (!w.mustWrite) return sql`(select count(*) from ${name})::int as ${name}`;
    // Evaluated only for a wrong count, and not a constant, so not folded when the statement is planned.
    const wrong = w.rows === undefined ? sql`count(*) = 0` : sql`count(*) <> ${w.rows}::int`;
    return sql`(select case when ${wrong} then (${MUST_WRITE_FAILED + i + ':'} || count(*))::int else count(*)::int end from ${name}) as ${name}`;
  });
  try {
    await sql`${mark}with ${sql.join(parts)} select ${sql.join(counts)}`.execute(tx);
  } catch (error) {
    const failed = /bazaar:must-write:(\d+):/.exec(error instanceof Error ? error.message : '');
    const write = failed ? writes[Number(failed[1])] : undefined;
    throw write?.mustWrite ? write.mustWrite() : error;
  }
}

/**
 * Writes an event into the outbox with the caller's transaction, so the state change and its event
 * commit or vanish together. The relay publishes it after commit.
 */
export async function writeToOutbox<TData>(tx: Db, event: NewEvent<TData>): Promise<EventEnvelope<TData>> {
  const [envelope] = await writeAllToOutbox(tx, [event]);
  return envelope!;
}

/**
 * Several events, in this order (they get ascending sequence numbers): one statement now, or, in an
 * owned transaction, together with the rest of its events just before it commits.
 */
export async function writeAllToOutbox<TData>(tx: Db, events: NewEvent<TData>[]): Promise<EventEnvelope<TData>[]> {
  if (events.length === 0) return [];
  const outbox = owned.get(tx);
  const work = outbox?.work;
  const envelopes = events.map((event): EventEnvelope<TData> => {
    if (!EVENT_TYPE.test(event.type)) throw new Error(`Event type must be <module>.<entity>.<past-tense>: ${event.type}`);
    return {
      id: newId(),
      type: event.type,
      version: event.version ?? 1,
      occurredAt: new Date().toISOString(),
      aggregateId: event.aggregateId,
      correlationId: work?.correlationId ?? newId(),
      causationId: work?.causationId ?? null,
      data: event.data,
    };
  });
  if (!outbox) {
    await insertRows(tx, envelopes);
    return envelopes;
  }
  outbox.pending.push(...envelopes);
  outbox.eager.push(...envelopes.filter((_, i) => events[i]!.eager));
  return envelopes;
}

async function insertRows(tx: Db, envelopes: EventEnvelope[]): Promise<void> {
  await insertStatement(envelopes).execute(tx);
}

function insertStatement(envelopes: EventEnvelope[]): RawBuilder<unknown> {
  const rows = envelopes.map(
    (e) => sql`(${e.id}, ${emittingModule(e.type)}, ${e.type}, ${e.version}, ${e.aggregateId}, ${e.correlationId},
                ${e.causationId}, ${e.occurredAt}::timestamptz, ${JSON.stringify(e.data)}::jsonb)`,
  );
  // A multi-row VALUES list is inserted in list order, so seq follows the order of the events.
  return sql`
    insert into kernel.outbox (id, module, type, version, aggregate_id, correlation_id, causation_id, occurred_at, data)
    values ${sql.join(rows)}`;
}
