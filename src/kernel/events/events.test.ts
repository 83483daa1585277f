import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { createEventFixture, eventually, outboxRow, type EventFixture } from '../../../test/support/events.ts';
import { outboxRowToEnvelope } from './relay.ts';

const MAX_ATTEMPTS = 3;
const env = { EVENT_MAX_ATTEMPTS: String(MAX_ATTEMPTS) };

describe('events on the in-process bus', () => {
  let t: TestApp;
  let fx: EventFixture;
  let admin: string;
  let customer: string;

  beforeAll(async () => {
    fx = createEventFixture();
    t = await startTestApp(env, { modules: fx.modules });
    admin = await t.app.ctx.tokens.signAccess({ userId: 'admin-1', roles: ['admin'], sessionId: 's' });
    customer = await t.app.ctx.tokens.signAccess({ userId: 'customer-1', roles: ['customer'], sessionId: 's' });
  });
  afterAll(() => t.close());

  const db = () => t.database.db;
  const createThing = async (name: string) => {
    const res = await t.post('/api/v1/fixture/things', { name });
    expect(res.status).toBe(201);
    return res.body as { id: string; eventId: string };
  };
  const deadLetters = async (status = 'all') =>
    (await t.get(`/api/v1/admin/dead-letters?status=${status}&limit=100`, { token: admin })).body.items as any[];

  describe('a write and its event commit together', () => {
    it('stores the row and its event, and the watcher receives the event', async () => {
      const thing = await createThing('together');
      const { rows } = await sql`select * from fixture.things where id = ${thing.id}`.execute(db());
      expect(rows).toHaveLength(1);
      const event = await outboxRow(db(), thing.eventId);
      expect(event).toMatchObject({ type: 'fixture.thing.created', module: 'fixture', aggregate_id: thing.id, data: { id: thing.id, name: 'together' } });
      const seen = await eventually(async () => (await fx.seen(db(), { eventId: thing.eventId }))[0]);
      expect(seen).toMatchObject({ type: 'fixture.thing.created', aggregateId: thing.id, name: 'together' });
    });

    it('leaves neither the row nor the event when the transaction throws', async () => {
      const res = await t.post('/api/v1/fixture/things', { name: 'rolled-back', failAfterPublish: true });
      expect(res.status).toBe(409);
      const things = await sql`select * from fixture.things where name = 'rolled-back'`.execute(db());
      expect(things.rows).toHaveLength(0);
      const events = await sql`select * from kernel.outbox where data->>'name' = 'rolled-back'`.execute(db());
      expect(events.rows).toHaveLength(0);
    });

    it('carries the request correlation id into the event', async () => {
      const res = await t.post('/api/v1/fixture/things', { name: 'correlated' }, { headers: { 'x-correlation-id': 'checkout-7' } });
      const event = await outboxRow(db(), res.body.eventId);
      expect(event.correlation_id).toBe('checkout-7');
    });
  });

  describe('exactly-once effects over at-least-once delivery', () => {
    it('handles an event once when the bus delivers it twice', async () => {
      const thing = await createThing('twice-on-bus');
      await t.app.relay.runOnce();
      const envelope = outboxRowToEnvelope(await outboxRow(db(), thing.eventId));
      await t.app.bus.publish(envelope);
      await t.app.bus.publish(envelope);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
      expect(fx.attempts(thing.eventId)).toBe(1);
    });

    it('handles an event once when the relay publishes its row again', async () => {
      const thing = await createThing('relayed-again');
      await t.app.relay.runOnce();
      expect((await outboxRow(db(), thing.eventId)).published_at).toBeInstanceOf(Date);
      await sql`update kernel.outbox set published_at = null where id = ${thing.eventId}`.execute(db());
      await t.app.relay.runOnce();
      expect((await outboxRow(db(), thing.eventId)).published_at).toBeInstanceOf(Date);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
    });

    it('has published and handled a committed event by the time a relay pass asked for after the commit ends', async () => {
      // Several writes in a row: each one's pass may start while the previous pass is still running.
      const things = await Promise.all(['p1', 'p2', 'p3', 'p4'].map((name) => createThing(`pass-${name}`)));
      await t.app.relay.runOnce();
      for (const thing of things) {
        expect((await outboxRow(db(), thing.eventId)).published_at).toBeInstanceOf(Date);
        expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
      }
    });
  });

  describe('events a consumer publishes', () => {
    it('relays them on, tied to the event that caused them', async () => {
      const res = await t.post('/api/v1/fixture/things', { name: 'chain-reaction' }, { headers: { 'x-correlation-id': 'chain-1' } });
      const reaction = await eventually(async () => (await fx.seen(db(), { name: 'chain-reaction' })).find((r) => r.type === 'watcher.thing.noticed'));
      const row = await outboxRow(db(), reaction.eventId);
      expect(row).toMatchObject({ module: 'watcher', aggregate_id: res.body.id, correlation_id: 'chain-1', causation_id: res.body.eventId });
    });
  });

  describe('order', () => {
    it('delivers the events of one aggregate in the order they were written', async () => {
      const a = await createThing('ordered-a');
      const b = await createThing('ordered-b');
      const [ra, rb] = await Promise.all([
        t.post(`/api/v1/fixture/things/${a.id}/touches`, { count: 30, perTransaction: 3 }),
        t.post(`/api/v1/fixture/things/${b.id}/touches`, { count: 30 }),
      ]);
      expect(ra.status).toBe(200);
      expect(rb.status).toBe(200);
      for (const name of ['ordered-a', 'ordered-b']) {
        const seen = await eventually(async () => {
          const rows = await fx.seen(db(), { name });
          return rows.length === 31 && rows;
        });
        expect(seen.map((r) => r.n)).toEqual([null, ...Array.from({ length: 30 }, (_, i) => i + 1)]);
      }
    });
  });

  describe('retries and dead letters', () => {
    it('retries a failing handler with backoff and handles the event once when it recovers', async () => {
      fx.failNext('flaky', 2);
      const thing = await createThing('flaky');
      await t.app.relay.runOnce();
      expect(fx.attempts(thing.eventId)).toBe(3);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
      expect((await deadLetters()).filter((l) => l.eventId === thing.eventId)).toHaveLength(0);
    });

    it('keeps retrying past EVENT_MAX_ATTEMPTS while the database is away, and dead-letters nothing', async () => {
      fx.databaseAwayFor('outage', MAX_ATTEMPTS + 2);
      const thing = await createThing('outage');
      await t.app.relay.runOnce();
      expect(fx.attempts(thing.eventId)).toBe(MAX_ATTEMPTS + 3);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
      expect((await deadLetters()).filter((l) => l.eventId === thing.eventId)).toHaveLength(0);
    });

    it('dead-letters an event once after EVENT_MAX_ATTEMPTS failures, and an admin replays it once', async () => {
      fx.failAlways('doomed');
      const thing = await createThing('doomed');
      await t.app.relay.runOnce();
      expect(fx.attempts(thing.eventId)).toBe(MAX_ATTEMPTS);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(0);
      // The relay is done with the row: a dead letter is an outcome, not a reason to publish again.
      expect((await outboxRow(db(), thing.eventId)).published_at).toBeInstanceOf(Date);

      const open = (await deadLetters('open')).filter((l) => l.eventId === thing.eventId);
      expect(open).toHaveLength(1);
      expect(open[0]).toMatchObject({
        consumer: 'watcher',
        eventType: 'fixture.thing.created',
        attempts: MAX_ATTEMPTS,
        error: 'watcher was told to fail on doomed',
        replayedAt: null,
        event: { id: thing.eventId, aggregateId: thing.id, data: { name: 'doomed' } },
      });
      const letterId = open[0].id;

      fx.succeed('doomed');
      const replay = await t.post(`/api/v1/admin/dead-letters/${letterId}/replay`, undefined, { token: admin });
      expect(replay.status).toBe(200);
      expect(replay.body.replayedAt).toEqual(expect.any(String));
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);

      const again = await t.post(`/api/v1/admin/dead-letters/${letterId}/replay`, undefined, { token: admin });
      expect(again.status).toBe(200);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);

      expect((await deadLetters('open')).map((l) => l.id)).not.toContain(letterId);
      const replayed = (await deadLetters('replayed')).find((l) => l.id === letterId);
      expect(replayed.replayedAt).toEqual(expect.any(String));

      const audit = await t.get(`/api/v1/admin/audit-log?targetType=dead-letter&targetId=${letterId}`, { token: admin });
      expect(audit.body.items.map((e: any) => e.action)).toEqual(['dead-letter.replayed', 'dead-letter.replayed']);
      expect(audit.body.items[0]).toMatchObject({ actorId: 'admin-1' });
    });

    it('answers a replay that fails again with a 409 problem and keeps the letter open', async () => {
      fx.failAlways('still-doomed');
      const thing = await createThing('still-doomed');
      await t.app.relay.runOnce();
      const letter = (await deadLetters('open')).find((l) => l.eventId === thing.eventId);
      const res = await t.post(`/api/v1/admin/dead-letters/${letter.id}/replay`, undefined, { token: admin });
      expect(res.status).toBe(409);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body).toMatchObject({ status: 409, type: expect.stringContaining('replay-failed'), deadLetter: { id: letter.id, attempts: MAX_ATTEMPTS + 1, replayedAt: null } });
      const still = (await deadLetters('open')).find((l) => l.id === letter.id);
      expect(still.attempts).toBe(MAX_ATTEMPTS + 1);
      expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(0);
    });

    it('lets only admins see and replay dead letters', async () => {
      expect((await t.get('/api/v1/admin/dead-letters')).status).toBe(401);
      const forbidden = await t.get('/api/v1/admin/dead-letters', { token: customer });
      expect(forbidden.status).toBe(403);
      expect(forbidden.headers['content-type']).toContain('application/problem+json');
      const someId = '0190a0a0-0000-7000-8000-000000000000';
      expect((await t.post(`/api/v1/admin/dead-letters/${someId}/replay`)).status).toBe(401);
      expect((await t.post(`/api/v1/admin/dead-letters/${someId}/replay`, undefined, { token: customer })).status).toBe(403);
    });

    it('answers an unknown dead letter with 404 and a bad cursor or status with 400', async () => {
      expect((await t.post('/api/v1/admin/dead-letters/0190a0a0-0000-7000-8000-000000000000/replay', undefined, { token: admin })).status).toBe(404);
      expect((await t.post('/api/v1/admin/dead-letters/not-an-id/replay', undefined, { token: admin })).status).toBe(404);
      expect((await t.get('/api/v1/admin/dead-letters?cursor=nonsense', { token: admin })).status).toBe(400);
      const notAnId = Buffer.from(JSON.stringify(['x'])).toString('base64url');
      expect((await t.get(`/api/v1/admin/dead-letters?cursor=${notAnId}`, { token: admin })).status).toBe(400);
      expect((await t.get(`/api/v1/admin/audit-log?cursor=${notAnId}`, { token: admin })).status).toBe(400);
      expect((await t.get('/api/v1/admin/dead-letters?status=maybe', { token: admin })).status).toBe(400);
    });

    it('pages through dead letters newest first', async () => {
      fx.failAlways('paged');
      for (let i = 0; i < 3; i++) await createThing('paged');
      await t.app.relay.runOnce();
      const all = (await deadLetters('all')).filter((l) => l.event.data.name === 'paged');
      expect(all).toHaveLength(3);
      const first = await t.get('/api/v1/admin/dead-letters?status=all&limit=2', { token: admin });
      expect(first.body.items).toHaveLength(2);
      const second = await t.get(`/api/v1/admin/dead-letters?status=all&limit=100&cursor=${first.body.nextCursor}`, { token: admin });
      const ids = [...first.body.items, ...second.body.items].map((l: any) => l.id);
      expect(new Set(ids).size).toBe(ids.length);
      expect(ids).toEqual([...ids].sort().reverse());
      fx.succeed('paged');
    });
  });
});

describe('a crash between commit and publish', () => {
  const fx = createEventFixture();
  let first: TestApp;
  let second: TestApp | undefined;
  beforeAll(async () => {
    first = await startTestApp(env, { modules: fx.modules, background: false });
  });
  afterAll(async () => {
    await second?.close();
    await first.close();
  });

  it('loses nothing: the next start relays what the last one committed', async () => {
    const res = await first.post('/api/v1/fixture/things', { name: 'survivor' });
    expect(res.status).toBe(201);
    expect((await outboxRow(first.database.db, res.body.eventId)).published_at).toBeNull();
    await first.app.close();
    expect(await fx.seen(first.database.db)).toHaveLength(0);

    second = await first.restart(env, { modules: fx.modules, background: true });
    const seen = await eventually(async () => (await fx.seen(second!.database.db, { eventId: res.body.eventId }))[0]);
    expect(seen.name).toBe('survivor');
    await eventually(async () => (await outboxRow(second!.database.db, res.body.eventId)).published_at);
  });

  it('hands the relay over at once when an instance shuts down cleanly', async () => {
    // The instance started above relayed, so it held the relay lease until it closed.
    await second!.app.close();
    const third = await first.restart(env, { modules: fx.modules, background: false });
    try {
      const res = await third.post('/api/v1/fixture/things', { name: 'after-handover' });
      // Had the lease not been handed back, this pass would find it taken and publish nothing.
      expect(await third.app.relay.runOnce()).toBe(1);
      expect(await fx.seen(third.database.db, { eventId: res.body.eventId })).toHaveLength(1);
    } finally {
      await third.close();
    }
  });

  it('leaves an event whose retries a shutdown interrupted for the next start, not for the dead letters', async () => {
    fx.failAlways('interrupted');
    // Long backoff: the shutdown below lands while the bus waits to retry.
    const slow = await first.restart({ ...env, EVENT_RETRY_BASE_MS: '600000' }, { modules: fx.modules, background: false });
    const res = await slow.post('/api/v1/fixture/things', { name: 'interrupted' });
    const pass = slow.app.relay.runOnce();
    await eventually(async () => fx.attempts(res.body.eventId) === 1);
    await slow.close();
    expect(await pass).toBe(0);
    expect((await outboxRow(slow.database.db, res.body.eventId)).published_at).toBeNull();
    const { rows: letters } = await sql`select * from kernel.dead_letters where event_id = ${res.body.eventId}`.execute(slow.database.db);
    expect(letters).toHaveLength(0);

    fx.succeed('interrupted');
    const next = await first.restart(env, { modules: fx.modules, background: false });
    try {
      await next.app.relay.runOnce();
      expect(await fx.seen(next.database.db, { eventId: res.body.eventId })).toHaveLength(1);
    } finally {
      await next.close();
    }
  });
});
