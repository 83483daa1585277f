import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { newId } from '../ids.ts';
import { outsideTransaction, type ModuleContext } from '../module.ts';
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
