import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { eventually, outboxRow } from '../../../test/support/events.ts';
import { newId } from '../ids.ts';
import { appContextOf } from '../per-app.ts';
import { inBatches, outsideTransaction, type BazaarModule, type ModuleContext } from '../module.ts';
import { createSubscription } from './consumers.ts';
import type { EventEnvelope } from './envelope.ts';

const event = (data: Record<string, unknown> = {}): EventEnvelope => ({
  id: newId(),
  type: 'fixture.thing.touched',
  version: 1,
  occurredAt: new Date().toISOString(),
  aggregateId: newId(),
  correlationId: newId(),
  causationId: null,
  data,
});

describe('a consumer whose handler runs outside a transaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [] });
  });
  afterAll(() => t.close());

  it('runs with its app context on every delivery and writes no inbox row', async () => {
    const seen: { eventId: string; ctx: ModuleContext }[] = [];
    const subscription = createSubscription({
      consumer: 'cache-only',
      handlers: { 'fixture.thing.touched': outsideTransaction(async (e, ctx) => void seen.push({ eventId: e.id, ctx })) },
      db: t.database.db,
      logger: t.app.ctx.logger,
      metrics: t.app.metrics,
      ctx: t.app.ctx,
    });
    const touched = event();
    expect(await subscription.deliver(touched)).toBe('handled');
    // A repeat runs again: such a handler's effect must be harmless to repeat, so no inbox guards it.
    expect(await subscription.deliver(touched)).toBe('handled');
    expect(seen.map((s) => s.eventId)).toEqual([touched.id, touched.id]);
    // Its context is the app's (per-app values are shared), doing the event's work: what it publishes
    // in the transactions it opens carries the event's correlation, with the event as the cause.
    expect(appContextOf(seen[0]!.ctx)).toBe(t.app.ctx);
    const handlerCtx = seen[0]!.ctx;
    const published = await handlerCtx.transaction((tx) => handlerCtx.publish(tx, { type: 'fixture.thing.noticed', aggregateId: newId(), data: {} }));
    expect(await outboxRow(t.database.db, published.id)).toMatchObject({ correlation_id: touched.correlationId, causation_id: touched.id });
    // The app's own context opens transactions that start a correlation of their own.
    const unrelated = await t.app.ctx.transaction((tx) => t.app.ctx.publish(tx, { type: 'fixture.thing.noticed', aggregateId: newId(), data: {} }));
    expect(await outboxRow(t.database.db, unrelated.id)).toMatchObject({ causation_id: null });
    expect((await outboxRow(t.database.db, unrelated.id)).correlation_id).not.toBe(touched.correlationId);
    const inbox = await sql`select 1 from kernel.inbox where consumer = 'cache-only'`.execute(t.database.db);
    expect(inbox.rows).toHaveLength(0);
  });

  it('still records an ordinary handler in the inbox and drops its repeat', async () => {
    let calls = 0;
    const subscription = createSubscription({
      consumer: 'transactional',
      handlers: { 'fixture.thing.touched': async () => void calls++ },
      db: t.database.db,
      logger: t.app.ctx.logger,
      metrics: t.app.metrics,
      ctx: t.app.ctx,
    });
    const touched = event();
    expect(await subscription.deliver(touched)).toBe('handled');
    expect(await subscription.deliver(touched)).toBe('duplicate');
    expect(calls).toBe(1);
  });
});

describe('a consumer that writes its inbox row at commit (inboxAtCommit)', () => {
  let t: TestApp;
  const effects = `inbox_at_commit_effects_${newId().replace(/-/g, '')}`;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [] });
    await sql`create table ${sql.table(effects)} (event_id uuid not null)`.execute(t.database.db);
  });
  afterAll(() => t.close());

  function subscription(inboxRowsSeen: number[]) {
    return createSubscription({
      consumer: 'claims-at-commit',
      inboxAtCommit: true,
      handlers: {
        'fixture.thing.touched': async (e, tx) => {
          const { rows } = await sql<{ n: number }>`
            select count(*)::int as n from kernel.inbox where consumer = 'claims-at-commit' and event_id = ${e.id}`.execute(tx);
          inboxRowsSeen.push(rows[0]!.n);
          await sql`insert into ${sql.table(effects)} (event_id) values (${e.id})`.execute(tx);
        },
      },
      db: t.database.db,
      logger: t.app.ctx.logger,
      metrics: t.app.metrics,
      ctx: t.app.ctx,
    });
  }
  const effectsOf = async (e: EventEnvelope) =>
    (await sql`select 1 from ${sql.table(effects)} where event_id = ${e.id}`.execute(t.database.db)).rows.length;

  it('claims the event with the last statement, and a repeat rolls its effect back', async () => {
    const inboxRowsSeen: number[] = [];
    const consumer = subscription(inboxRowsSeen);
    const touched = event();
    expect(await consumer.deliver(touched)).toBe('handled');
    // The handler ran before the claim: no inbox row yet while it worked.
    expect(inboxRowsSeen).toEqual([0]);
    const inbox = await sql`select 1 from kernel.inbox where consumer = 'claims-at-commit' and event_id = ${touched.id}`.execute(t.database.db);
    expect(inbox.rows).toHaveLength(1);
    expect(await consumer.deliver(touched)).toBe('duplicate');
    expect(await effectsOf(touched)).toBe(1);
  });

  it('has the effect once when the same event is delivered twice at once', async () => {
    const consumer = subscription([]);
    const touched = event();
    const outcomes = await Promise.all([consumer.deliver(touched), consumer.deliver(touched)]);
    expect(outcomes.sort()).toEqual(['duplicate', 'handled']);
    expect(await effectsOf(touched)).toBe(1);
  });
});

describe('a consumer that groups its deliveries', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [] });
  });
  afterAll(() => t.close());

  function grouped(consumer: string, handler: (event: EventEnvelope, transactionId: string) => void) {
    return createSubscription({
      consumer,
      groupDeliveries: true,
      handlers: {
        'fixture.thing.touched': async (e, tx) => {
          const { rows } = await sql<{ id: string }>`select txid_current()::text as id`.execute(tx);
          if (e.data.fail) throw new Error('this one fails');
          handler(e, rows[0]!.id);
        },
      },
      db: t.database.db,
      logger: t.app.ctx.logger,
      metrics: t.app.metrics,
      ctx: t.app.ctx,
    });
  }

  it('handles events delivered while one runs together, in one transaction, each once', async () => {
    const handled: { id: string; tx: string }[] = [];
    const subscription = grouped('grouping', (e, tx) => handled.push({ id: e.id, tx }));
    const events = Array.from({ length: 6 }, () => event());
    const outcomes = await Promise.all([...events, events[2]!].map((e) => subscription.deliver(e)));
    expect(outcomes.filter((o) => o === 'handled')).toHaveLength(6);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(1);
    expect(handled.map((h) => h.id)).toEqual(events.map((e) => e.id));
    // The first went alone; the five that came while it ran shared the next transaction.
    expect(new Set(handled.slice(1).map((h) => h.tx)).size).toBe(1);
    expect(handled[0]!.tx).not.toBe(handled[1]!.tx);
    const inbox = await sql`select 1 from kernel.inbox where consumer = 'grouping'`.execute(t.database.db);
    expect(inbox.rows).toHaveLength(6);
    expect(await subscription.deliver(events[0]!)).toBe('duplicate');
  });

  it('hands a batch handler the events of its type that came in a row, in order; other types run one by one', async () => {
    const calls: string[][] = [];
    const subscription = createSubscription({
      consumer: 'batching',
      groupDeliveries: true,
      handlers: {
        'fixture.thing.touched': inBatches(async (events) => void calls.push(events.map((e) => e.data.n as string))),
        'fixture.thing.renamed': async (e) => void calls.push([`renamed ${e.data.n}`]),
      },
      db: t.database.db,
      logger: t.app.ctx.logger,
      metrics: t.app.metrics,
      ctx: t.app.ctx,
    });
    const touched = (n: string) => event({ n });
    const renamed = (n: string) => ({ ...event({ n }), type: 'fixture.thing.renamed' });
    const first = touched('a');
    const rest = [touched('b'), touched('c'), renamed('d'), touched('e'), first];
    const outcomes = await Promise.all([first, ...rest].map((e) => subscription.deliver(e)));
    expect(outcomes).toEqual(['handled', 'handled', 'handled', 'handled', 'handled', 'duplicate']);
    // The first went alone (a batch of one); the rest, delivered while it ran, came as one group.
    expect(calls).toEqual([['a'], ['b', 'c'], ['renamed d'], ['e']]);
  });

  it('fails only the failing event of a group; the others are handled', async () => {
    const handled: string[] = [];
    const subscription = grouped('grouping-failure', (e) => handled.push(e.id));
    const [first, good, bad, other] = [event(), event(), event({ fail: true }), event()];
    const outcomes = await Promise.allSettled([first, good, bad, other].map((e) => subscription.deliver(e!)));
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
    // The group's transaction rolled back and its events ran again alone: only what the database
    // keeps counts (which is why only handlers without outside effects may be grouped).
    expect([...new Set(handled)].sort()).toEqual([first!.id, good!.id, other!.id].sort());
    const inbox = await sql<{ event_id: string }>`select event_id from kernel.inbox where consumer = 'grouping-failure'`.execute(t.database.db);
    expect(inbox.rows.map((r) => r.event_id).sort()).toEqual([first!.id, good!.id, other!.id].sort());
  });
});

describe('a consumer that groups its deliveries and writes its inbox rows at commit', () => {
  let t: TestApp;
  const effects = `grouped_at_commit_effects_${newId().replace(/-/g, '')}`;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [] });
    await sql`create table ${sql.table(effects)} (event_id uuid not null, tx text not null)`.execute(t.database.db);
  });
  afterAll(() => t.close());

  function subscription(consumer: string, inboxRowsSeen: number[] = []) {
    return createSubscription({
      consumer,
      groupDeliveries: true,
      inboxAtCommit: true,
      handlers: {
        'fixture.thing.touched': async (e, tx) => {
          const { rows } = await sql<{ n: number; tx: string }>`
            select count(*)::int as n, txid_current()::text as tx from kernel.inbox where consumer = ${consumer} and event_id = ${e.id}`.execute(tx);
          inboxRowsSeen.push(rows[0]!.n);
          await sql`insert into ${sql.table(effects)} (event_id, tx) values (${e.id}, ${rows[0]!.tx})`.execute(tx);
        },
      },
      db: t.database.db,
      logger: t.app.ctx.logger,
      metrics: t.app.metrics,
      ctx: t.app.ctx,
    });
  }
  const effectsOf = async (ids: string[]) =>
    (await sql<{ event_id: string; tx: string }>`select event_id, tx from ${sql.table(effects)} where event_id = any(${sql`${ids}::uuid[]`})`.execute(t.database.db)).rows;
  const inboxOf = async (consumer: string) =>
    (await sql<{ event_id: string }>`select event_id from kernel.inbox where consumer = ${consumer}`.execute(t.database.db)).rows.map((r) => r.event_id).sort();

  it('claims a whole group with its last statement: one transaction, each event once', async () => {
    const inboxRowsSeen: number[] = [];
    const consumer = subscription('grouped-at-commit', inboxRowsSeen);
    const events = Array.from({ length: 5 }, () => event());
    const outcomes = await Promise.all([...events, events[3]!].map((e) => consumer.deliver(e)));
    expect(outcomes.filter((o) => o === 'handled')).toHaveLength(5);
    expect(outcomes.filter((o) => o === 'duplicate')).toHaveLength(1);
    // No handler saw its inbox row: the rows were written after the handlers, as the group committed.
    expect(inboxRowsSeen.every((n) => n === 0)).toBe(true);
    const done = await effectsOf(events.map((e) => e.id));
    expect(done.map((d) => d.event_id).sort()).toEqual(events.map((e) => e.id).sort());
    // The first went alone; the four delivered while it ran shared one transaction.
    expect(new Set(done.filter((d) => d.event_id !== events[0]!.id).map((d) => d.tx)).size).toBe(1);
    expect(await inboxOf('grouped-at-commit')).toEqual(events.map((e) => e.id).sort());
  });

  it('delivers a group holding an event handled before again one by one: the new ones once, the repeat not again', async () => {
    const consumer = subscription('grouped-repeat');
    const before = event();
    expect(await consumer.deliver(before)).toBe('handled');
    const [first, ...rest] = Array.from({ length: 4 }, () => event());
    // `first` goes alone; `rest` and the repeat arrive while it runs and form one group, which fails at
    // commit (its inbox rows are not all new) and runs again event by event.
    const outcomes = await Promise.all([first!, rest[0]!, before, rest[1]!, rest[2]!].map((e) => consumer.deliver(e)));
    expect(outcomes).toEqual(['handled', 'handled', 'duplicate', 'handled', 'handled']);
    const done = await effectsOf([before, first!, ...rest].map((e) => e.id));
    expect(done.map((d) => d.event_id).sort()).toEqual([before, first!, ...rest].map((e) => e.id).sort());
    expect(await inboxOf('grouped-repeat')).toEqual([before, first!, ...rest].map((e) => e.id).sort());
  });
});

describe('eager events', () => {
  let t: TestApp;
  const seen: string[] = [];
  let enteredStuck = false;
  let release!: () => void;
  const gate = new Promise<void>((resolve) => (release = resolve));

  beforeAll(async () => {
    const watcher: BazaarModule = {
      name: 'eagerwatch',
      migrations: {},
      handlers: {
        // Outside a transaction so the stuck delivery holds no connection (PGlite has one).
        'eagertest.thing.created': outsideTransaction(async (event) => {
          if (event.data.name === 'stuck') {
            enteredStuck = true;
            await gate;
          }
          seen.push(event.data.name);
        }),
      },
    };
    t = await startTestApp({ RELAY_INTERVAL_MS: '60000' }, { modules: [watcher] });
  });
  afterAll(async () => {
    release();
    await t.close();
  });

  const publish = (name: string, eager: boolean) =>
    t.app.ctx.transaction((tx) => t.app.ctx.publish(tx, { type: 'eagertest.thing.created', aggregateId: newId(), data: { name }, eager }));

  it('are delivered right after commit even while the relay is stuck on another event, and marked published', async () => {
    const stuck = await publish('stuck', false);
    await eventually(async () => enteredStuck);
    const quick = await publish('quick', true);
    await eventually(async () => seen.includes('quick'));
    expect(seen).toEqual(['quick']);
    const marked = await eventually(async () => (await outboxRow(t.database.db, quick.id)).published_at);
    expect(marked).not.toBeNull();

    release();
    await eventually(async () => seen.includes('stuck'));
    await eventually(async () => (await outboxRow(t.database.db, stuck.id)).published_at);
    // Each was handled once: the pass that finally ran did not deliver the eager one again.
    expect([...seen].sort()).toEqual(['quick', 'stuck']);
  });
});
