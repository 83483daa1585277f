import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { eventually, outboxRow } from '../../../test/support/events.ts';
import { newId } from '../ids.ts';
import { outsideTransaction, type BazaarModule, type ModuleContext } from '../module.ts';
import { createSubscription } from './consumers.ts';
import type { EventEnvelope } from './envelope.ts';

describe('a consumer whose handler runs outside a transaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [] });
  });
  afterAll(() => t.close());

  const event = (): EventEnvelope => ({
    id: newId(),
    type: 'fixture.thing.touched',
    version: 1,
    occurredAt: new Date().toISOString(),
    aggregateId: newId(),
    correlationId: newId(),
    causationId: null,
    data: {},
  });

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
    expect(seen[0]!.ctx).toBe(t.app.ctx);
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
