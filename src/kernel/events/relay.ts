import { sql } from 'kysely';
import type { Logger } from 'pino';
import { CUSTOM_PLAN, type Db } from '../db/database.ts';
import { groupCommit } from '../group-commit.ts';
import { releaseLease, tryAcquireLease } from '../jobs/lease.ts';
import type { Metrics } from '../observability/metrics.ts';
import type { EventBus } from './bus.ts';
import type { EventEnvelope } from './envelope.ts';

const BATCH = 200;
const PARALLEL_AGGREGATES = 16;

export interface Relay {
  /**
   * One pass over the outbox that starts after this call, so everything committed before the call is
   * published when it resolves (unless the bus refused it). Returns how many events that pass published.
   */
  runOnce(): Promise<number>;
  /** Asks for a pass soon (after a commit that wrote events); passes never overlap. */
  kick(): void;
  /**
   * After a commit that wrote `eager` events: publishes those at once, marks them published, then
   * asks for a pass for the rest. A failed publish is left to the passes. Only while started.
   */
  afterCommit(eager: EventEnvelope[]): void;
  start(): void;
  /** Finishes the pass under way and hands the relay lease back, so another instance takes over at once. */
  stop(): Promise<void>;
}

const LEASE = 'outbox-relay';

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
  const leaseMs = Math.max(5_000, intervalMs * 10);
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<number> | undefined;
  let queued: Promise<number> | undefined;
  let started = false;
  let stopping = false;
  let holdsLease = false;
  const eagerInFlight = new Set<Promise<void>>();
  // Ids of eager events being published right now: a pass leaves their aggregates alone (the eager
  // path marks them; delivering them again would only cost every consumer an inbox round trip).
  const eagerIds = new Set<string>();

  /** Publishes one aggregate's rows in order; returns the seqs the bus took, up to the first refusal. */
  async function publishGroup(rows: Record<string, any>[]): Promise<number[]> {
    const done: number[] = [];
    for (const row of rows) {
      try {
        await bus.publish(outboxRowToEnvelope(row));
        metrics.eventsPublished.inc({ type: row.type });
        done.push(row.seq);
        // PGlite runs queries synchronously on this thread and its promises resolve as microtasks, so a
        // long backlog would starve timers and sockets (HTTP requests, start-up) until it is drained.
        await new Promise<void>((resolve) => setImmediate(resolve));
      } catch (error) {
        // Stop this aggregate here so its later events never overtake this one. During shutdown the
        // bus refuses everything and the rows simply wait for the next start: not worth a warning each.
        if (!stopping) logger.warn({ err: error, eventId: row.id, eventType: row.type }, 'publishing event failed; will retry');
        break;
      }
    }
    return done;
  }

  async function markPublished(seqs: number[]) {
    // Planned for each batch (CUSTOM_PLAN): a generic plan made while the outbox was small is a scan of
    // the whole table, and PostgreSQL keeps it as the table grows until something analyzes it (14 ms a
    // mark, up to 728 ms, on a 7-minute benchmark against a server with autovacuum off).
    if (seqs.length > 0) await sql`${CUSTOM_PLAN}update kernel.outbox set published_at = now() where seq = any(${sql`${seqs}::bigint[]`})`.execute(db);
  }

  let leaseTakenAt = 0;
  async function takeLease(): Promise<boolean> {
    holdsLease = await tryAcquireLease(db, LEASE, instanceId, leaseMs);
    if (holdsLease) leaseTakenAt = Date.now();
    return holdsLease;
  }

  const leaseIsFresh = () => holdsLease && Date.now() - leaseTakenAt < leaseMs / 3;

  async function pass(): Promise<number> {
    const moduleFilter = modules ? sql`and module = any(${sql`${modules}::text[]`})` : sql``;
    if (!leaseIsFresh()) {
      // An idle pass is one probe of the partial index on unpublished rows: no lease write, no row read.
      const pending = await sql`select 1 from kernel.outbox where published_at is null ${moduleFilter} limit 1`.execute(db);
      if (pending.rows.length === 0) return 0;
      if (!(await takeLease())) return 0;
    }
    let total = 0;
    for (;;) {
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
      // An aggregate whose eager event is still being published waits for a later pass, which keeps
      // its order: if that publish fails the event is still unpublished and goes first then.
      const groups = [...byAggregate.values()].filter((group) => !group.some((row) => eagerIds.has(row.id)));
      const skipped = rows.length - groups.reduce((n, g) => n + g.length, 0);
      const published: number[] = [];
      let leaseLost = false;
      // A fixed number of workers take the next aggregate as soon as they finish one, so one slow
      // aggregate holds up only its own worker, not a whole round of others.
      let next = 0;
      const worker = async () => {
        while (next < groups.length && !leaseLost) {
          const group = groups[next++]!;
          // A long pass (slow handlers, in-process retries) renews the lease before it can run out, or
          // stops if it was lost: two instances relaying one aggregate at once could reorder its events.
          if (!leaseIsFresh() && !(await takeLease())) {
            leaseLost = true;
            return;
          }
          published.push(...(await publishGroup(group)));
        }
      };
      try {
        await Promise.all(Array.from({ length: Math.min(PARALLEL_AGGREGATES, groups.length) }, worker));
      } finally {
        // One statement for the whole batch; a crash before it only means the batch is delivered again,
        // and the consumers' inboxes drop what they already handled.
        await markPublished(published);
      }
      total += published.length;
      if (leaseLost || published.length < rows.length - skipped || rows.length < BATCH || skipped > 0 || stopping) break;
    }
    return total;
  }

  function launch(): Promise<number> {
    const current: Promise<number> = pass()
      .catch((error) => {
        logger.error({ err: error }, 'outbox relay pass failed');
        return 0;
      })
      .finally(() => {
        if (running === current) running = undefined;
      });
    running = current;
    return current;
  }

  function runOnce(): Promise<number> {
    if (queued) return queued;
    if (!running) return launch();
    // The pass under way may have read the outbox before the caller's commit: queue one more after it.
    // Every caller arriving meanwhile shares that next pass, so a burst of commits costs two passes.
    const next: Promise<number> = running.then(() => {
      queued = undefined;
      return launch();
    });
    queued = next;
    return next;
  }

  function schedule() {
    if (!started || stopping) return;
    timer = setTimeout(async () => {
      await runOnce();
      schedule();
    }, intervalMs);
    timer.unref();
  }

  // Marks of eager events made within 20 ms share one statement: nobody waits on a mark (until it is
  // made, passes leave the event's aggregate alone), and under load that is one statement for dozens.
  const markEagerPublished = groupCommit(
    async (batch: string[][]) => {
      const ids = batch.flat();
      await sql`${CUSTOM_PLAN}update kernel.outbox set published_at = now() where id = any(${sql`${ids}::uuid[]`}) and published_at is null`.execute(db);
      return batch.map(() => undefined);
    },
    { lingerMs: 20 },
  );

  /**
   * Aggregates in parallel (a batch of payments settled in one transaction must not wait for each
   * other's consumers), each aggregate's events in order, stopping at its first failure.
   */
  async function publishEager(events: EventEnvelope[]) {
    const published: string[] = [];
    for (const event of events) eagerIds.add(event.id);
    try {
      const byAggregate = new Map<string, EventEnvelope[]>();
      for (const event of events) {
        const group = byAggregate.get(event.aggregateId);
        if (group) group.push(event);
        else byAggregate.set(event.aggregateId, [event]);
      }
      await Promise.all(
        [...byAggregate.values()].map(async (group) => {
          for (const event of group) {
            try {
              await bus.publish(event);
              metrics.eventsPublished.inc({ type: event.type });
              published.push(event.id);
            } catch {
              // Its row is still unpublished: the next pass delivers it, after anything it must follow.
              break;
            }
          }
        }),
      );
      if (published.length > 0) await markEagerPublished(published);
    } finally {
      for (const event of events) eagerIds.delete(event.id);
    }
  }

  return {
    runOnce,
    kick() {
      if (started && !stopping) void runOnce();
    },
    afterCommit(eager) {
      if (!started || stopping) return;
      if (eager.length === 0) {
        void runOnce();
        return;
      }
      // A pass that starts meanwhile may deliver these rows too: the consumers' inboxes drop the repeat.
      const work: Promise<void> = publishEager(eager)
        .catch((error) => logger.warn({ err: error }, 'eager publish failed; the relay will deliver'))
        .finally(() => {
          eagerInFlight.delete(work);
          if (started && !stopping) void runOnce();
        });
      eagerInFlight.add(work);
    },
    start() {
      started = true;
      stopping = false;
      schedule();
      void runOnce();
    },
    async stop() {
      stopping = true;
      started = false;
      if (timer) clearTimeout(timer);
      await Promise.all(eagerInFlight);
      await (queued ?? running);
      await running;
      if (holdsLease) {
        holdsLease = false;
        await releaseLease(db, LEASE, instanceId).catch((error) => logger.warn({ err: error }, 'could not release the relay lease'));
      }
    },
  };
}

/** An outbox row as it travels on the bus. */
export function outboxRowToEnvelope(row: Record<string, any>): EventEnvelope {
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
