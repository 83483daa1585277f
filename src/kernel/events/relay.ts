import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import { tryAcquireLease } from '../jobs/lease.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EventBus } from './bus.ts';
import type { EventEnvelope } from './envelope.ts';

const BATCH = 200;
const PARALLEL_AGGREGATES = 8;

export interface Relay {
  /** One pass over the outbox; returns how many events were published. */
  runOnce(): Promise<number>;
  /** Asks for a pass soon (after a commit that wrote events); passes never overlap. */
  kick(): void;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Publishes committed outbox rows to the bus and marks them published. Events of one aggregate go out
 * in the order they were written; different aggregates go out in parallel. A row is marked only after
 * the bus took it, so a crash between commit and publish (or between publish and mark) loses nothing:
 * the row goes out on the next pass and consumers' inboxes drop the repeat. One instance of the
 * cluster relays at a time (a lease), which keeps the per-aggregate order across instances.
 */
export function createRelay(options: {
  db: Db;
  bus: EventBus;
  logger: Logger;
  metrics: Metrics;
  instanceId: string;
  intervalMs: number;
  /** Only rows emitted by these modules (a split service relays its own modules' events). */
  modules?: string[];
}): Relay {
  const { db, bus, logger, metrics, instanceId, intervalMs, modules } = options;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let again = false;
  let stopped = true;

  async function publishGroup(rows: Record<string, any>[]): Promise<number[]> {
    const done: number[] = [];
    for (const row of rows) {
      try {
        await bus.publish(toEnvelope(row));
        metrics.eventsPublished.inc({ type: row.type });
        done.push(row.seq);
      } catch (error) {
        // Stop this aggregate here so its later events never overtake this one.
        logger.warn({ err: error, eventId: row.id, eventType: row.type }, 'publishing event failed; will retry');
        break;
      }
    }
    if (done.length > 0) {
      await sql`update kernel.outbox set published_at = now() where seq = any(${sql`${done}::bigint[]`})`.execute(db);
    }
    return done;
  }

  async function pass(): Promise<number> {
    if (!(await tryAcquireLease(db, 'outbox-relay', instanceId, Math.max(5_000, intervalMs * 10)))) return 0;
    let total = 0;
    for (;;) {
      const moduleFilter = modules ? sql`and module = any(${sql`${modules}::text[]`})` : sql``;
      const { rows } = await sql<Record<string, any>>`
        select * from kernel.outbox where published_at is null ${moduleFilter}
        order by seq limit ${BATCH}`.execute(db);
      if (rows.length === 0) break;
      const byAggregate = new Map<string, Record<string, any>[]>();
      for (const row of rows) {
        const key = `${row.type.split('.', 2).join('.')}:${row.aggregate_id}`;
        let group = byAggregate.get(key);
        if (!group) byAggregate.set(key, (group = []));
        group.push(row);
      }
      const groups = [...byAggregate.values()];
      let published = 0;
      for (let i = 0; i < groups.length; i += PARALLEL_AGGREGATES) {
        const results = await Promise.all(groups.slice(i, i + PARALLEL_AGGREGATES).map(publishGroup));
        published += results.reduce((n, r) => n + r.length, 0);
      }
      total += published;
      if (published < rows.length || rows.length < BATCH || stopped) break;
    }
    return total;
  }

  function runOnce(): Promise<number> {
    if (running) {
      again = true;
      return running;
    }
    running = pass()
      .catch((error) => {
        logger.error({ err: error }, 'outbox relay pass failed');
        return 0;
      })
      .finally(() => {
        running = undefined;
        if (again && !stopped) {
          again = false;
          void runOnce();
        }
      });
    return running;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(async () => {
      await runOnce();
      schedule();
    }, intervalMs);
    timer.unref();
  }

  return {
    runOnce,
    kick() {
      if (!stopped) void runOnce();
    },
    start() {
      stopped = false;
      schedule();
      void runOnce();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

function toEnvelope(row: Record<string, any>): EventEnvelope {
  return {
    id: row.id,
    type: row.type,
    version: row.version,
    occurredAt: new Date(row.occurred_at).toISOString(),
    aggregateId: row.aggregate_id,
    correlationId: row.correlation_id,
    causationId: row.causation_id,
    data: row.data,
  };
}
