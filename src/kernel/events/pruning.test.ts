import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { loadConfig } from '../config.ts';
import { newId } from '../ids.ts';
import { pruneEvents } from './pruning.ts';

describe('pruning old events', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [], background: false });
  });
  afterAll(() => t.close());

  async function outboxRow(publishedDaysAgo: number | null) {
    const id = newId();
    await sql`
      insert into kernel.outbox (id, module, type, version, aggregate_id, correlation_id, occurred_at, data, published_at)
      values (${id}, 'fixture', 'fixture.thing.pruned', 1, ${newId()}, ${newId()}, now() - interval '30 days', '{}'::jsonb,
              ${publishedDaysAgo === null ? null : sql`now() - ${publishedDaysAgo} * interval '1 day'`})`.execute(t.database.db);
    return id;
  }
  async function inboxRow(daysAgo: number) {
    const id = newId();
    await sql`insert into kernel.inbox (consumer, event_id, processed_at) values ('pruning', ${id}, now() - ${daysAgo} * interval '1 day')`.execute(t.database.db);
    return id;
  }

  it('deletes rows published or handled before the retention, and never an unpublished one', async () => {
    await outboxRow(20);
    const recentPublished = await outboxRow(2);
    const neverPublished = await outboxRow(null);
    await inboxRow(20);
    const recentHandled = await inboxRow(2);

    const pruned = await pruneEvents(t.database.db, 14);
    expect(pruned).toEqual({ outbox: 1, inbox: 1 });

    const outbox = await sql<{ id: string }>`select id from kernel.outbox where type = 'fixture.thing.pruned'`.execute(t.database.db);
    expect(outbox.rows.map((r) => r.id).sort()).toEqual([recentPublished, neverPublished].sort());
    const inbox = await sql<{ event_id: string }>`select event_id from kernel.inbox where consumer = 'pruning'`.execute(t.database.db);
    expect(inbox.rows.map((r) => r.event_id)).toEqual([recentHandled]);
  });

  it('refuses a retention shorter than the NATS stream keeps events', () => {
    expect(() => loadConfig({ DATA_DIR: 'memory://', EVENT_RETENTION_DAYS: '3' })).toThrow(/EVENT_RETENTION_DAYS/);
    expect(loadConfig({ DATA_DIR: 'memory://' }).EVENT_RETENTION_DAYS).toBe(14);
  });
});
