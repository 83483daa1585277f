import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { eventRecorder, fastHashingEnv, signUp, userWithRoles } from '../../../test/support/identity.ts';
import type { EventEnvelope } from '../../kernel/events/envelope.ts';
import { IdentityEvents } from './contract.ts';
import { identityModule } from './index.ts';

const recorder = eventRecorder('identity_events_fixture', Object.values(IdentityEvents));
const modules = [identityModule, recorder.module];

async function outboxEnvelope(t: TestApp, type: string, aggregateId: string): Promise<EventEnvelope> {
  const { rows } = await sql<Record<string, any>>`
    select * from kernel.outbox where type = ${type} and aggregate_id = ${aggregateId}`.execute(t.database.db);
  expect(rows).toHaveLength(1);
  const row = rows[0]!;
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

describe('identity events, delivered once', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp(fastHashingEnv, { modules });
  });
  afterAll(() => t.close());

  it('announces a sign-up with the user it created', async () => {
    const user = await signUp(t, { name: 'Eve Event', role: 'seller' });
    const [event] = await recorder.waitFor(t, IdentityEvents.UserRegistered, user.id);
    expect(event!.data).toEqual({ userId: user.id, email: user.email, name: 'Eve Event', roles: ['seller'] });
  });

  it('reaches a consumer once when the bus delivers the same envelope twice', async () => {
    const user = await signUp(t);
    await recorder.waitFor(t, IdentityEvents.UserRegistered, user.id);
    const envelope = await outboxEnvelope(t, IdentityEvents.UserRegistered, user.id);
    await t.app.bus.publish(envelope);
    await t.app.bus.publish(envelope);
    expect(await recorder.received(t, IdentityEvents.UserRegistered, user.id)).toHaveLength(1);
  });

  it('reaches a consumer once when the relay sends an outbox row again', async () => {
    const user = await signUp(t);
    await recorder.waitFor(t, IdentityEvents.UserRegistered, user.id);
    await sql`update kernel.outbox set published_at = null where type = ${IdentityEvents.UserRegistered} and aggregate_id = ${user.id}`.execute(t.database.db);
    await t.app.relay.runOnce();
    const { rows } = await sql<{ published_at: Date | null }>`
      select published_at from kernel.outbox where type = ${IdentityEvents.UserRegistered} and aggregate_id = ${user.id}`.execute(t.database.db);
    expect(rows[0]!.published_at).not.toBeNull();
    expect(await recorder.received(t, IdentityEvents.UserRegistered, user.id)).toHaveLength(1);
  });

  it('announces profile and role changes', async () => {
    const admin = await userWithRoles(t, ['admin']);
    const user = await signUp(t);
    await t.patch(`/api/v1/users/${user.id}`, { name: 'Renamed' }, { token: user.accessToken });
    await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['customer', 'delivery_agent'] }, { token: admin.accessToken });
    const [updated] = await recorder.waitFor(t, IdentityEvents.UserUpdated, user.id);
    expect(updated!.data).toEqual({ userId: user.id, email: user.email, name: 'Renamed' });
    const [roles] = await recorder.waitFor(t, IdentityEvents.UserRolesChanged, user.id);
    expect(roles!.data).toEqual({ userId: user.id, roles: ['customer', 'delivery_agent'], previousRoles: ['customer'] });
  });

  it('announces nothing for a refused sign-up', async () => {
    const user = await signUp(t);
    expect((await t.post('/api/v1/auth/signup', { email: user.email, password: user.password, name: 'Twin' })).status).toBe(409);
    await t.app.relay.runOnce();
    const { rows } = await sql`select 1 from kernel.outbox where type = ${IdentityEvents.UserRegistered} and data->>'email' = ${user.email}`.execute(t.database.db);
    expect(rows).toHaveLength(1);
  });
});

describe('a crash between commit and publish', () => {
  it('loses nothing: the next start relays the sign-up and the consumer receives it', async () => {
    const crashed = await startTestApp(fastHashingEnv, { modules, background: false });
    try {
      const user = await signUp(crashed);
      expect(await recorder.received(crashed, IdentityEvents.UserRegistered, user.id)).toEqual([]);
      // The process dies with the event committed to the outbox but never handed to the bus.
      await crashed.app.close();

      const restarted = await crashed.restart(fastHashingEnv, { modules, background: true });
      try {
        const [event] = await recorder.waitFor(restarted, IdentityEvents.UserRegistered, user.id);
        expect(event!.data).toMatchObject({ userId: user.id, email: user.email });
      } finally {
        await restarted.close();
      }
    } finally {
      await crashed.close();
    }
  });
});
