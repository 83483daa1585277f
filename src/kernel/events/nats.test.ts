import { randomBytes, randomUUID } from 'node:crypto';
import { AckPolicy, DeliverPolicy, jetstream, jetstreamManager } from '@nats-io/jetstream';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { createEventFixture, eventually, outboxRow } from '../../../test/support/events.ts';
import { outboxRowToEnvelope } from './relay.ts';

const NATS_URL = process.env.NATS_URL ?? 'nats://127.0.0.1:4222';
const MAX_ATTEMPTS = 3;
const env = { NATS_URL, EVENT_MAX_ATTEMPTS: String(MAX_ATTEMPTS) };

/** The watcher's durable consumers: one filtered to its types, or one per entity on servers older than 2.10. */
const watcherConsumers = (nc: NatsConnection) =>
  supportsMultipleFilters(nc) ? ['watcher'] : ['watcher__fixture_thing', 'watcher__watcher_thing'];

function supportsMultipleFilters(nc: NatsConnection): boolean {
  const [major = 0, minor = 0] = (nc.info?.version ?? '0.0.0').split('.').map(Number);
  return major > 2 || (major === 2 && minor >= 10);
}

async function consumerNames(nc: NatsConnection, stream: string): Promise<string[]> {
  const names: string[] = [];
  for await (const info of (await jetstreamManager(nc)).consumers.list(stream)) names.push(info.name);
  return names.sort();
}

/** An envelope as the relay would publish it, for events put on the stream by the test itself. */
function envelope(type: string, name: string) {
  const id = randomUUID();
  return { id: randomUUID(), type, version: 1, occurredAt: new Date().toISOString(), aggregateId: id, correlationId: randomUUID(), causationId: null, data: { id, name } };
}

describe('events on NATS JetStream', () => {
  const fx = createEventFixture();
  // A stream of this run's own, so parallel and earlier runs never see each other's events.
  const stream = `TEST_${randomBytes(6).toString('hex')}`;
  const options = { modules: fx.modules, natsStream: stream };
  const instances: TestApp[] = [];
  let t: TestApp;
  let nc: NatsConnection;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(env, options);
    nc = await connect({ servers: NATS_URL });
    admin = await t.app.ctx.tokens.signAccess({ userId: 'admin-1', roles: ['admin'], sessionId: 's' });
  });
  afterAll(async () => {
    for (const instance of instances) await instance.close();
    await t?.close();
    if (nc) {
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    }
  });

  const db = () => t.database.db;
  const createThing = async (app: TestApp, name: string) => {
    const res = await app.post('/api/v1/fixture/things', { name });
    expect(res.status).toBe(201);
    return res.body as { id: string; eventId: string };
  };
  const seenOnce = (eventId: string) => eventually(async () => (await fx.seen(db(), { eventId }))[0]);

  it('reports NATS in /readyz', async () => {
    expect(t.app.bus.kind).toBe('nats');
    const ready = await t.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual({ name: 'nats', ok: true });
  });

  it('carries a write through the outbox, the relay and JetStream to the durable consumer', async () => {
    const thing = await createThing(t, 'over-nats');
    const seen = await seenOnce(thing.eventId);
    expect(seen).toMatchObject({ type: 'fixture.thing.created', aggregateId: thing.id, name: 'over-nats' });
    await eventually(async () => (await outboxRow(db(), thing.eventId)).published_at);
    expect(await consumerNames(nc, stream)).toEqual(watcherConsumers(nc));
  });

  it('handles an event once however often it reaches the stream', async () => {
    const thing = await createThing(t, 'nats-twice');
    await seenOnce(thing.eventId);
    const envelope = outboxRowToEnvelope(await outboxRow(db(), thing.eventId));
    // Twice through the bus (JetStream drops the repeat by message id), once around its deduplication.
    await t.app.bus.publish(envelope);
    await t.app.bus.publish(envelope);
    await jetstream(nc).publish(`${stream}.${envelope.type}`, JSON.stringify(envelope));
    // The consumer takes the stream in order, so once this later event is in, the repeats were handled.
    const sentinel = await createThing(t, 'nats-twice-sentinel');
    await seenOnce(sentinel.eventId);
    expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
  });

  it('delivers the events of one aggregate in the order they were written', async () => {
    const thing = await createThing(t, 'nats-ordered');
    const res = await t.post(`/api/v1/fixture/things/${thing.id}/touches`, { count: 20, perTransaction: 4 });
    expect(res.status).toBe(200);
    const seen = await eventually(async () => {
      const rows = await fx.seen(db(), { name: 'nats-ordered' });
      return rows.length === 21 && rows;
    });
    expect(seen.map((r) => r.n)).toEqual([null, ...Array.from({ length: 20 }, (_, i) => i + 1)]);
  });

  it('redelivers a failed event until the handler recovers, and handles it once', async () => {
    fx.failNext('nats-flaky', 2);
    const thing = await createThing(t, 'nats-flaky');
    await seenOnce(thing.eventId);
    expect(fx.attempts(thing.eventId)).toBe(3);
    const letters = (await t.get('/api/v1/admin/dead-letters?status=all', { token: admin })).body.items;
    expect(letters.filter((l: any) => l.eventId === thing.eventId)).toHaveLength(0);
  });

  it('dead-letters an event after EVENT_MAX_ATTEMPTS deliveries, and a replay handles it once', async () => {
    fx.failAlways('nats-doomed');
    const thing = await createThing(t, 'nats-doomed');
    const letter = await eventually(async () => {
      const items = (await t.get('/api/v1/admin/dead-letters', { token: admin })).body.items;
      return items.find((l: any) => l.eventId === thing.eventId);
    });
    expect(letter).toMatchObject({ consumer: 'watcher', eventType: 'fixture.thing.created', attempts: MAX_ATTEMPTS, replayedAt: null });
    expect(fx.attempts(thing.eventId)).toBe(MAX_ATTEMPTS);
    expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(0);

    fx.succeed('nats-doomed');
    const replay = await t.post(`/api/v1/admin/dead-letters/${letter.id}/replay`, undefined, { token: admin });
    expect(replay.status).toBe(200);
    expect(replay.body.replayedAt).toEqual(expect.any(String));
    expect(await fx.seen(db(), { eventId: thing.eventId })).toHaveLength(1);
  });

  it('resumes a durable consumer after a restart with the events published while it was down', async () => {
    await t.app.close();

    // An instance without consumers writes and relays while the watcher is down.
    const producer = await t.restart(env, { ...options, background: false });
    instances.push(producer);
    const missed = [await createThing(producer, 'while-down-1'), await createThing(producer, 'while-down-2')];
    expect(await producer.app.relay.runOnce()).toBe(2);
    for (const thing of missed) expect((await outboxRow(db(), thing.eventId)).published_at).toBeInstanceOf(Date);
    expect(await fx.seen(db(), { name: 'while-down-1' })).toHaveLength(0);
    await producer.app.close();

    const consumer = await t.restart(env, options);
    instances.push(consumer);
    for (const thing of missed) await seenOnce(thing.eventId);
    expect((await fx.seen(db())).filter((r) => r.name.startsWith('while-down'))).toHaveLength(2);
  });
});

describe('events on NATS JetStream while an event is being retried', () => {
  const fx = createEventFixture();
  const stream = `TEST_${randomBytes(6).toString('hex')}`;
  // Retries slow enough that an aggregate's later events reach the consumer while its first one waits.
  const slowEnv = { ...env, EVENT_RETRY_BASE_MS: '400' };
  let t: TestApp;
  let nc: NatsConnection;
  let admin: string;

  beforeAll(async () => {
    t = await startTestApp(slowEnv, { modules: fx.modules, natsStream: stream });
    nc = await connect({ servers: NATS_URL });
    admin = await t.app.ctx.tokens.signAccess({ userId: 'admin-1', roles: ['admin'], sessionId: 's' });
  });
  afterAll(async () => {
    await t?.close();
    if (nc) {
      await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
      await nc.close();
    }
  });

  const db = () => t.database.db;
  const createThing = async (name: string) => {
    const res = await t.post('/api/v1/fixture/things', { name });
    expect(res.status).toBe(201);
    return res.body as { id: string; eventId: string };
  };
  const touch = async (id: string, count: number) => {
    const res = await t.post(`/api/v1/fixture/things/${id}/touches`, { count });
    expect(res.status).toBe(200);
    return res.body.eventIds as string[];
  };
  /** Writes the thing's touches once its created event has failed, so they queue up behind it. */
  const createFailingThing = async (name: string, touches: number) => {
    const thing = await createThing(name);
    await eventually(async () => fx.attempts(thing.eventId) >= 1);
    return { ...thing, touchIds: await touch(thing.id, touches) };
  };
  const allSeen = (name: string, count: number, timeoutMs?: number) =>
    eventually(async () => {
      const rows = await fx.seen(db(), { name });
      return rows.length === count && rows;
    }, timeoutMs);

  it("handles an aggregate's later events only after its failed event, in the order they were written", async () => {
    fx.failNext('nats-held', 2);
    const thing = await createFailingThing('nats-held', 5);

    const seen = await allSeen('nats-held', 6);
    expect(seen.map((r) => r.n)).toEqual([null, 1, 2, 3, 4, 5]);
    // Both failures went to the created event: no touch was tried before it was handled.
    expect(fx.attempts(thing.eventId)).toBe(3);
    for (const id of thing.touchIds) expect(fx.attempts(id)).toBe(1);
  });

  it("keeps other aggregates flowing while one aggregate's event is being retried", async () => {
    // Retried past EVENT_MAX_ATTEMPTS (the database is "away") until the test lets it through.
    fx.databaseAwayFor('nats-stuck', Number.POSITIVE_INFINITY);
    const stuck = await createFailingThing('nats-stuck', 3);
    const other = await createThing('nats-unstuck');

    await eventually(async () => (await fx.seen(db(), { eventId: other.eventId }))[0]);
    expect(await fx.seen(db(), { name: 'nats-stuck' })).toHaveLength(0);
    expect(fx.attempts(stuck.eventId)).toBeGreaterThanOrEqual(1);
    for (const id of stuck.touchIds) expect(fx.attempts(id)).toBe(0);

    fx.databaseAwayFor('nats-stuck', 0);
    // The backoff grows while the "outage" lasts (capped at 30 s).
    const seen = await allSeen('nats-stuck', 4, 45_000);
    expect(seen.map((r) => r.n)).toEqual([null, 1, 2, 3]);
  });

  it('releases the held events of an aggregate once its failed event is dead-lettered, in order', async () => {
    // Exactly the attempts the created event gets, so the touches behind it succeed.
    fx.failNext('nats-released', MAX_ATTEMPTS);
    const thing = await createFailingThing('nats-released', 3);

    const seen = await allSeen('nats-released', 3);
    expect(seen.map((r) => r.n)).toEqual([1, 2, 3]);
    for (const id of thing.touchIds) expect(fx.attempts(id)).toBe(1);
    expect(fx.attempts(thing.eventId)).toBe(MAX_ATTEMPTS);
    const letters = (await t.get('/api/v1/admin/dead-letters', { token: admin })).body.items;
    expect(letters.filter((l: any) => l.eventId === thing.eventId)).toMatchObject([{ eventType: 'fixture.thing.created', attempts: MAX_ATTEMPTS }]);
  });
});

describe("a module's NATS consumers", () => {
  const fx = createEventFixture();
  const stream = `TEST_${randomBytes(6).toString('hex')}`;
  let nc: NatsConnection;
  let t: TestApp | undefined;

  beforeAll(async () => {
    nc = await connect({ servers: NATS_URL });
  });
  afterAll(async () => {
    await t?.close();
    await (await jetstreamManager(nc)).streams.delete(stream).catch(() => false);
    await nc.close();
  });

  it('start where the consumers of the other layout stopped, replace them, and receive only the entities the module handles', async () => {
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`] });
    // What an earlier deployment left: a consumer of the other layout that handled the first event
    // and had not yet acknowledged the second when it stopped.
    const handledBefore = envelope('fixture.thing.created', 'handled-before-upgrade');
    const pendingBefore = envelope('fixture.thing.created', 'pending-at-upgrade');
    for (const e of [handledBefore, pendingBefore]) await js.publish(`${stream}.${e.type}`, JSON.stringify(e), { msgID: e.id });
    const predecessor = supportsMultipleFilters(nc) ? 'watcher__fixture_thing' : 'watcher';
    await jsm.consumers.add(stream, {
      durable_name: predecessor,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      ...(supportsMultipleFilters(nc) ? { filter_subject: `${stream}.fixture.thing.>` } : {}),
    });
    const first = await (await js.consumers.get(stream, predecessor)).next({ expires: 5_000 });
    expect(first?.json<{ id: string }>().id).toBe(handledBefore.id);
    await first!.ackAck();

    t = await startTestApp(env, { modules: fx.modules, natsStream: stream });
    const db = t.database.db;
    await eventually(async () => (await fx.seen(db, { eventId: pendingBefore.id }))[0]);
    expect(await fx.seen(db, { eventId: handledBefore.id })).toHaveLength(0);
    expect(await consumerNames(nc, stream)).toEqual(watcherConsumers(nc));

    // Events of entities the watcher has no handler for never reach its consumers.
    for (let i = 0; i < 3; i++) {
      const other = envelope('other.thing.created', `not-for-the-watcher-${i}`);
      await js.publish(`${stream}.${other.type}`, JSON.stringify(other), { msgID: other.id });
    }
    const res = await t.post('/api/v1/fixture/things', { name: 'after-the-others' });
    expect(res.status).toBe(201);
    await eventually(async () => (await fx.seen(db, { eventId: res.body.eventId }))[0]);
    let delivered = 0;
    for (const name of watcherConsumers(nc)) delivered += (await jsm.consumers.info(stream, name)).delivered.consumer_seq;
    // The pending event and the new thing's: nothing of `other.*`.
    expect(delivered).toBe(2);
  });
});
