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
  if (!EVENT_TYPE.test(event.type)) throw new Error(`Event type must be <module>.<entity>.<past-tense>: ${event.type}`);
  const work = currentWork();
  const envelope: EventEnvelope<TData> = {
    id: newId(),
    type: event.type,
    version: event.version ?? 1,
    occurredAt: new Date().toISOString(),
    aggregateId: event.aggregateId,
    correlationId: work?.correlationId ?? newId(),
    causationId: work?.causationId ?? null,
    data: event.data,
  };
  await sql`
    insert into kernel.outbox (id, module, type, version, aggregate_id, correlation_id, causation_id, occurred_at, data)
    values (${envelope.id}, ${emittingModule(envelope.type)}, ${envelope.type}, ${envelope.version},
            ${envelope.aggregateId}, ${envelope.correlationId}, ${envelope.causationId}, ${envelope.occurredAt},
            ${JSON.stringify(envelope.data)}::jsonb)`.execute(tx);
  transactionsWithEvents.add(tx);
  if (event.eager) {
    const pending = eagerEvents.get(tx);
    if (pending) pending.push(envelope);
    else eagerEvents.set(tx, [envelope]);
  }
  return envelope;
}
