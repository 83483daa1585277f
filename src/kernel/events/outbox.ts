import { sql, type RawBuilder } from 'kysely';
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

/**
 * What an owned transaction (see transaction.ts) has published so far: its events wait here and go
 * to the outbox in one statement just before commit. A transaction nobody owns writes each event at
 * once.
 */
interface OwnedOutbox {
  pending: EventEnvelope[];
  eager: EventEnvelope[];
}
const owned = new WeakMap<object, OwnedOutbox>();

export function openOutbox(tx: Db): void {
  owned.set(tx, { pending: [], eager: [] });
}

/**
 * What `tx` published, for its owner to write just before commit: the statement that writes it (none
 * when nothing was published) and which events are eager.
 */
export function closeOutbox(tx: Db): { insert?: RawBuilder<unknown>; eager: EventEnvelope[] } {
  const outbox = owned.get(tx);
  if (!outbox) return { eager: [] };
  owned.delete(tx);
  if (outbox.pending.length === 0) return { eager: [] };
  return { insert: insertStatement(outbox.pending), eager: outbox.eager };
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
  const outbox = owned.get(tx);
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
