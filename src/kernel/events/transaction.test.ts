import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { newId } from '../ids.ts';
import { atCommit } from './outbox.ts';

describe('writes deferred to the commit of a kernel transaction', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ RELAY_INTERVAL_MS: '60000' }, { modules: [] });
    await sql`create table if not exists public.commit_marks (id text primary key)`.execute(t.database.db);
  });
  afterAll(() => t.close());

  const outboxHas = async (aggregateId: string) =>
    (await sql`select 1 from kernel.outbox where aggregate_id = ${aggregateId}`.execute(t.database.db)).rows.length > 0;
  const marked = async (id: string) => (await sql`select 1 from public.commit_marks where id = ${id}`.execute(t.database.db)).rows.length > 0;

  it('go in with the events, and roll everything back when one that must write a row does not', async () => {
    const kept = newId();
    await t.app.ctx.transaction(async (tx) => {
      await t.app.ctx.publish(tx, { type: 'committest.thing.created', aggregateId: kept, data: {} });
      expect(atCommit(tx, { statement: sql`insert into public.commit_marks (id) values (${kept})`, mustWrite: () => new Error('taken') })).toBe(true);
    });
    expect(await outboxHas(kept)).toBe(true);
    expect(await marked(kept)).toBe(true);

    const undone = newId();
    const attempt = t.app.ctx.transaction(async (tx) => {
      await t.app.ctx.publish(tx, { type: 'committest.thing.created', aggregateId: undone, data: {} });
      // The same id again: `on conflict do nothing` writes no row, so the transaction must not commit.
      atCommit(tx, { statement: sql`insert into public.commit_marks (id) values (${kept}) on conflict do nothing`, mustWrite: () => new Error('taken') });
    });
    await expect(attempt).rejects.toThrow('taken');
    expect(await outboxHas(undone)).toBe(false);
  });

  it('is refused outside a kernel transaction, so the caller writes at once', async () => {
    await t.database.db.transaction().execute(async (tx) => {
      expect(atCommit(tx, { statement: sql`insert into public.commit_marks (id) values ('never')` })).toBe(false);
    });
    expect(await marked('never')).toBe(false);
  });
});
