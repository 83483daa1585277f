import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { newId } from '../ids.ts';
import { currentWork } from '../observability/context.ts';
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

// Transactions that wrote events, so only those ask the relay for a pass after they commit.
const transactionsWithEvents = new WeakSet<object>();

const eagerEvents = new WeakMap<object, EventEnvelope[]>();

/** Events written in `tx` with `eager`, to publish once it has committed. */
export function eagerEventsOf(tx: Db): EventEnvelope[] {
  return eagerEvents.get(tx) ?? [];
}

/** True when `tx` wrote at least one event to the outbox. */
export function wroteEvents(tx: Db): boolean {
  return transactionsWithEvents.has(tx);
}

/**
 * Writes an event into the outbox with the caller's transaction, so the state change and its event
 * commit or vanish together. The relay publishes it after commit.
 */
export async function writeToOutbox<TData>(tx: Db, event: NewEvent<TData>): Promise<EventEnvelope<TData>> {
  const [envelope] = await writeAllToOutbox(tx, [event]);
  return envelope!;
}

// Transactions whose owner (ctx.transaction, a consumer's delivery) flushes their events just before
// commit: their events are written together in one statement instead of one statement per publish.
const deferred = new WeakMap<object, EventEnvelope[]>();

/** Called by a transaction's owner when it opens it; the owner must call `flushOutbox` before committing. */
export function deferOutboxWrites(tx: Db): void {
  deferred.set(tx, []);
}

/** Writes the events `tx` deferred, in the order they were published (ascending sequence numbers). */
export async function flushOutbox(tx: Db): Promise<void> {
  const pending = deferred.get(tx);
  if (!pending || pending.length === 0) return;
  deferred.set(tx, []);
  await insertRows(tx, pending);
}

/**
 * Several events, in this order (they get ascending sequence numbers): one statement now, or none
 * until the owner's flush when the transaction defers its writes.
 */
export async function writeAllToOutbox<TData>(tx: Db, events: NewEvent<TData>[]): Promise<EventEnvelope<TData>[]> {
  if (events.length === 0) return [];
  const work = currentWork();
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
  const pending = deferred.get(tx);
  if (pending) pending.push(...envelopes);
  else await insertRows(tx, envelopes);
  transactionsWithEvents.add(tx);
  const eager = envelopes.filter((_, i) => events[i]!.eager);
  if (eager.length > 0) {
    const waiting = eagerEvents.get(tx);
    if (waiting) waiting.push(...eager);
    else eagerEvents.set(tx, eager);
  }
  return envelopes;
}

async function insertRows(tx: Db, envelopes: EventEnvelope[]): Promise<void> {
  const rows = envelopes.map(
    (e) => sql`(${e.id}, ${emittingModule(e.type)}, ${e.type}, ${e.version}, ${e.aggregateId}, ${e.correlationId},
                ${e.causationId}, ${e.occurredAt}::timestamptz, ${JSON.stringify(e.data)}::jsonb)`,
  );
  // A multi-row VALUES list is inserted in list order, so seq follows the order of the events.
  await sql`
    insert into kernel.outbox (id, module, type, version, aggregate_id, correlation_id, causation_id, occurred_at, data)
    values ${sql.join(rows)}`.execute(tx);
}
