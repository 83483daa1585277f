import { Type } from '@sinclair/typebox';
import { sql } from 'kysely';
import type { Db } from '../../src/kernel/db/database.ts';
import type { EventEnvelope } from '../../src/kernel/events/envelope.ts';
import { conflict } from '../../src/kernel/http/problem.ts';
import { newId } from '../../src/kernel/ids.ts';
import type { BazaarModule, ModuleContext } from '../../src/kernel/module.ts';

export interface SeenRow {
  eventId: string;
  type: string;
  aggregateId: string;
  name: string;
  n: number | null;
}

/**
 * Two throwaway modules that exercise the event system the way real ones do: `fixture` writes a row
 * and its event in one transaction, `watcher` consumes those events into its own table and can be
 * told to fail, per thing name, a number of times or until told otherwise.
 */
export function createEventFixture() {
  const failuresLeft = new Map<string, number>();
  const databaseAwayLeft = new Map<string, number>();
  const attemptsByEvent = new Map<string, number>();

  const fixture: BazaarModule = {
    name: 'fixture',
    migrations: {
      '0001_things': {
        async up(db) {
          await sql`create table fixture.things (id uuid primary key, name text not null)`.execute(db);
        },
      },
    },
    routes(app, ctx) {
      app.post('/fixture/things', {
        schema: {
          body: Type.Object({ name: Type.String({ minLength: 1 }), failAfterPublish: Type.Optional(Type.Boolean()) }),
        },
      }, async (request, reply) => {
        const { name, failAfterPublish } = request.body;
        const created = await ctx.transaction(async (tx) => {
          const id = newId();
          await sql`insert into fixture.things (id, name) values (${id}, ${name})`.execute(tx);
          const event = await ctx.publish(tx, { type: 'fixture.thing.created', aggregateId: id, data: { id, name } });
          if (failAfterPublish) throw conflict('fixture-failed', 'The write was told to fail after publishing');
          return { id, eventId: event.id };
        }, request.work);
        return reply.status(201).send(created);
      });

      // `perTransaction` events share a transaction, so order holds both within and across commits.
      app.post('/fixture/things/:id/touches', {
        schema: {
          params: Type.Object({ id: Type.String() }),
          body: Type.Object({ count: Type.Integer({ minimum: 1 }), perTransaction: Type.Integer({ minimum: 1, default: 1 }) }),
        },
      }, async (request) => {
        const { id } = request.params;
        const { count, perTransaction } = request.body;
        const eventIds: string[] = [];
        for (let n = 1; n <= count; ) {
          await ctx.transaction(async (tx) => {
            const { rows } = await sql<{ name: string }>`select name from fixture.things where id = ${id}`.execute(tx);
            for (let i = 0; i < perTransaction && n <= count; i++, n++) {
              const event = await ctx.publish(tx, { type: 'fixture.thing.touched', aggregateId: id, data: { id, name: rows[0]!.name, n } });
              eventIds.push(event.id);
            }
          }, request.work);
        }
        return { eventIds };
      });
    },
  };

  let watcherContext: ModuleContext | undefined;

  async function record(event: EventEnvelope<{ id: string; name: string; n?: number }>, tx: Db) {
    attemptsByEvent.set(event.id, (attemptsByEvent.get(event.id) ?? 0) + 1);
    const left = failuresLeft.get(event.data.name) ?? 0;
    if (left > 0) {
      failuresLeft.set(event.data.name, left - 1);
      throw new Error(`watcher was told to fail on ${event.data.name}`);
    }
    const away = databaseAwayLeft.get(event.data.name) ?? 0;
    if (away > 0) {
      databaseAwayLeft.set(event.data.name, away - 1);
      // What node-postgres throws while PostgreSQL restarts.
      throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    }
    await sql`
      insert into watcher.seen (event_id, type, aggregate_id, name, n)
      values (${event.id}, ${event.type}, ${event.aggregateId}, ${event.data.name}, ${event.data.n ?? null})`.execute(tx);
    // Things named chain-* make the watcher react with an event of its own, as a saga step would.
    if (event.type === 'fixture.thing.created' && event.data.name.startsWith('chain-')) {
      await watcherContext!.publish(tx, { type: 'watcher.thing.noticed', aggregateId: event.aggregateId, data: { id: event.data.id, name: event.data.name } });
    }
  }

  const watcher: BazaarModule = {
    name: 'watcher',
    migrations: {
      '0001_seen': {
        async up(db) {
          await sql`
            create table watcher.seen (
              seq bigserial primary key,
              event_id uuid not null,
              type text not null,
              aggregate_id text not null,
              name text not null,
              n integer
            )`.execute(db);
        },
      },
    },
    handlers: {
      'fixture.thing.created': record,
      'fixture.thing.touched': record,
      'watcher.thing.noticed': record,
    },
    async onStart(ctx) {
      watcherContext = ctx;
    },
  };

  return {
    modules: [fixture, watcher],
    /** The watcher fails the next `times` deliveries of events about `name`. */
    failNext(name: string, times: number) {
      failuresLeft.set(name, times);
    },
    /** The watcher's next `times` deliveries about `name` fail as if the database were restarting. */
    databaseAwayFor(name: string, times: number) {
      databaseAwayLeft.set(name, times);
    },
    failAlways(name: string) {
      failuresLeft.set(name, Number.POSITIVE_INFINITY);
    },
    succeed(name: string) {
      failuresLeft.delete(name);
    },
    /** How many times the watcher's handler ran for an event, failed runs included. */
    attempts(eventId: string): number {
      return attemptsByEvent.get(eventId) ?? 0;
    },
    /** What the watcher recorded, in the order it recorded it. */
    async seen(db: Db, where: { name?: string; eventId?: string } = {}): Promise<SeenRow[]> {
      const { rows } = await sql<Record<string, any>>`
        select * from watcher.seen
        where true
          ${where.name ? sql`and name = ${where.name}` : sql``}
          ${where.eventId ? sql`and event_id = ${where.eventId}` : sql``}
        order by seq`.execute(db);
      return rows.map((r) => ({ eventId: r.event_id, type: r.type, aggregateId: r.aggregate_id, name: r.name, n: r.n }));
    },
  };
}

export type EventFixture = ReturnType<typeof createEventFixture>;

/** Polls until `probe` returns something truthy; events cross the relay and the bus asynchronously. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const value = await probe();
      if (value) return value;
    } catch (error) {
      last = error;
    }
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms${last ? `: ${String(last)}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The outbox row an event was written to, as the relay would put it on the bus. */
export async function outboxRow(db: Db, eventId: string): Promise<Record<string, any>> {
  const { rows } = await sql<Record<string, any>>`select * from kernel.outbox where id = ${eventId}`.execute(db);
  if (!rows[0]) throw new Error(`No outbox row for event ${eventId}`);
  return rows[0];
}
