import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import { groupCommit } from '../group-commit.ts';
import { newId } from '../ids.ts';
import { batchHandlerOf, contextForWork, runsOutsideTransaction, type EventHandler, type ModuleContext } from '../module.ts';
import type { Metrics } from '../observability/metrics.ts';
import { workForEvent } from '../observability/context.ts';
import type { EventEnvelope } from './envelope.ts';
import type { Subscription } from './bus.ts';
import { atCommit, setWork } from './outbox.ts';
import { runTransaction } from './transaction.ts';

/**
 * Builds a module's durable consumer. The handler's effect and the inbox row commit together, so an
 * event delivered twice (a relay re-run, a NATS redelivery) has its effect once.
 */
export function createSubscription(options: {
  consumer: string;
  handlers: Record<string, EventHandler>;
  /** See BazaarModule.groupDeliveries. */
  groupDeliveries?: boolean;
  /** See BazaarModule.inboxAtCommit. */
  inboxAtCommit?: boolean;
  db: Db;
  logger: Logger;
  metrics: Metrics;
  /** Handed to every handler, so it uses its own app's cache, ports and config. */
  ctx: ModuleContext;
  /** Runs after a handler's transaction that published events committed, with its eager events: the app hands them to the relay. */
  afterPublished?: (eager: EventEnvelope[]) => void;
}): Subscription {
  const { consumer, handlers, db, logger, metrics, ctx, afterPublished } = options;

  /**
   * With `inboxAtCommit`, the delivery's inbox rows are written with the transaction's last statement,
   * not before the handlers: one statement fewer for every delivery (the orders consumer takes each
   * payment alone, search takes stock changes in groups). Every row must then be new: a repeat runs
   * the handlers, finds its row taken as the transaction commits, and rolls back. An event alone is
   * then a duplicate; a group is delivered again one event at a time (groupCommit), where each finds
   * out alone. Repeats are rare (a relay pass racing an eager publish, a broker's redelivery).
   */
  async function claim(tx: Db, events: EventEnvelope[]): Promise<Set<string>> {
    const ids = [...new Set(events.map((e) => e.id))];
    const insert = sql`insert into kernel.inbox (consumer, event_id) select ${consumer}, id from unnest(${sql`${ids}::uuid[]`}) as e (id) on conflict do nothing`;
    const allNew = { statement: insert, rows: ids.length, mustWrite: () => (ids.length === 1 ? new AlreadyHandled() : new GroupHadRepeat()) };
    if (options.inboxAtCommit && atCommit(tx, allNew)) return new Set(ids);
    const claimed = await sql<{ event_id: string }>`${insert} returning event_id`.execute(tx);
    return new Set(claimed.rows.map((r) => r.event_id));
  }

  /** Events in one transaction with their inbox rows (one statement for all); each event's outcome, in order. */
  async function deliverTogether(events: EventEnvelope[]): Promise<('handled' | 'duplicate')[]> {
    const outcomes = await runTransaction(
      db,
      async (tx) => {
        const unhandled = await claim(tx, events);
        // The same event twice in one group (a redelivery racing the first) is handled once.
        const outcomes = events.map((event) => (unhandled.delete(event.id) ? ('handled' as const) : ('duplicate' as const)));
        const toHandle = events.filter((_, i) => outcomes[i] === 'handled');
        for (let i = 0; i < toHandle.length; ) {
          const event = toHandle[i]!;
          const handler = handlers[event.type]!;
          const batch = batchHandlerOf(handler);
          let end = i + 1;
          if (batch) while (end < toHandle.length && toHandle[end]!.type === event.type) end++;
          const run = toHandle.slice(i, end);
          const work = workForEvent(event);
          setWork(tx, work);
          const handlerCtx = contextForWork(ctx, work);
          await (batch ? batch(run, tx, handlerCtx) : handler(event, tx, handlerCtx));
          i = end;
        }
        return outcomes;
      },
      { logger, published: (eager) => afterPublished?.(eager) },
    ).catch((error) => {
      if (error instanceof AlreadyHandled) return events.map(() => 'duplicate' as const);
      throw error;
    });
    events.forEach((event, i) => metrics.eventsConsumed.inc({ consumer, type: event.type, outcome: outcomes[i]! }));
    return outcomes;
  }
  // A group that fails is delivered again one event at a time (groupCommit), so a failing event fails
  // alone and the bus retries or dead-letters just that one.
  const deliverGrouped = options.groupDeliveries ? groupCommit(deliverTogether) : undefined;

  return {
    consumer,
    types: Object.keys(handlers),
    async deliver(event) {
      const handler = handlers[event.type];
      if (!handler) return 'duplicate';
      if (runsOutsideTransaction(handler)) {
        await handler(event, db, contextForWork(ctx, workForEvent(event)));
        metrics.eventsConsumed.inc({ consumer, type: event.type, outcome: 'handled' });
        return 'handled';
      }
      if (deliverGrouped) return deliverGrouped(event);
      return (await deliverTogether([event]))[0]!;
    },
    async deadLetter(event, error, attempts) {
      metrics.eventsConsumed.inc({ consumer, type: event.type, outcome: 'dead-lettered' });
      logger.error({ err: error, consumer, eventType: event.type, eventId: event.id, attempts }, 'event dead-lettered');
      await sql`
        insert into kernel.dead_letters (id, consumer, event_id, event_type, event, error, attempts)
        values (${newId()}, ${consumer}, ${event.id}, ${event.type}, ${JSON.stringify(event)}::jsonb, ${describe(error)}, ${attempts})
        on conflict (consumer, event_id) do update
          set error = excluded.error, attempts = kernel.dead_letters.attempts + excluded.attempts, replayed_at = null`.execute(db);
    },
  };
}

/** The inbox row of an event delivered alone was there by the time its transaction came to commit. */
class AlreadyHandled extends Error {
  constructor() {
    super('event already handled by this consumer');
  }
}

/** Some event of a group written at commit was handled before: the group is delivered again event by event. */
class GroupHadRepeat extends Error {
  constructor() {
    super('a grouped delivery held an event this consumer had handled');
  }
}

function describe(error: Error): string {
  return (error?.message ?? String(error)).slice(0, 2000);
}

export interface DeadLetter {
  id: string;
  consumer: string;
  eventId: string;
  eventType: string;
  event: EventEnvelope;
  error: string;
  attempts: number;
  createdAt: string;
  replayedAt: string | null;
}

export function toDeadLetter(row: Record<string, any>): DeadLetter {
  return {
    id: row.id,
    consumer: row.consumer,
    eventId: row.event_id,
    eventType: row.event_type,
    event: row.event,
    error: row.error,
    attempts: row.attempts,
    createdAt: new Date(row.created_at).toISOString(),
    replayedAt: row.replayed_at ? new Date(row.replayed_at).toISOString() : null,
  };
}

/**
 * An admin's replay: one more delivery to the consumer that gave up. Success marks the dead letter
 * replayed; failure keeps it listed with the new error.
 */
export async function replayDeadLetter(db: Db, subscriptions: Map<string, Subscription>, id: string) {
  const found = await sql<Record<string, any>>`select * from kernel.dead_letters where id = ${id}`.execute(db);
  const row = found.rows[0];
  if (!row) return { status: 'not-found' as const };
  const letter = toDeadLetter(row);
  const subscription = subscriptions.get(letter.consumer);
  if (!subscription) return { status: 'no-consumer' as const, letter };
  try {
    await subscription.deliver(letter.event);
    const updated = await sql<Record<string, any>>`
      update kernel.dead_letters set replayed_at = now() where id = ${id} returning *`.execute(db);
    return { status: 'replayed' as const, letter: toDeadLetter(updated.rows[0]!) };
  } catch (error) {
    const updated = await sql<Record<string, any>>`
      update kernel.dead_letters set error = ${describe(error as Error)}, attempts = attempts + 1
      where id = ${id} returning *`.execute(db);
    return { status: 'failed' as const, letter: toDeadLetter(updated.rows[0]!) };
  }
}
