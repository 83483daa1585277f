import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { Db } from '../../src/kernel/db/database.ts';
import type { EventEnvelope } from '../../src/kernel/events/envelope.ts';
import { newId } from '../../src/kernel/ids.ts';
import type { BazaarModule } from '../../src/kernel/module.ts';
import type { TestApp } from './app.ts';

/**
 * Small factories for tests that need users. Real sign-ups go through HTTP (so they also prove the
 * flow); `tokenFor` mints an access token directly when a test only needs a caller with some roles.
 */

export interface SignedUpUser {
  id: string;
  email: string;
  password: string;
  name: string;
  roles: string[];
  accessToken: string;
  refreshToken: string;
}

/** Env that keeps password hashing cheap in tests (scrypt N = 2^10); production uses PASSWORD_HASH_COST's default. */
export const fastHashingEnv = { PASSWORD_HASH_COST: '10' } as const;

export const uniqueEmail = (prefix = 'user'): string => `${prefix}.${randomBytes(5).toString('hex')}@example.test`;

export const strongPassword = (): string => `Pw-${randomBytes(6).toString('hex')}-9`;

export async function signUp(
  t: TestApp,
  overrides: { email?: string; password?: string; name?: string; role?: 'customer' | 'seller'; storeName?: string } = {},
): Promise<SignedUpUser> {
  const email = overrides.email ?? uniqueEmail(overrides.role ?? 'customer');
  const password = overrides.password ?? strongPassword();
  const name = overrides.name ?? 'Test User';
  const res = await t.post('/api/v1/auth/signup', { email, password, name, ...(overrides.role ? { role: overrides.role } : {}), ...(overrides.storeName ? { storeName: overrides.storeName } : {}) });
  if (res.status !== 201) throw new Error(`sign-up failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { id: res.body.user.id, email, password, name, roles: res.body.user.roles, accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

export async function logIn(t: TestApp, email: string, password: string): Promise<{ accessToken: string; refreshToken: string }> {
  const res = await t.post('/api/v1/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { accessToken: res.body.accessToken, refreshToken: res.body.refreshToken };
}

/** An access token for a caller with these roles; the user need not exist unless the route loads it. */
export function tokenFor(t: TestApp, roles: string[], userId: string = newId()): Promise<string> {
  return t.app.ctx.tokens.signAccess({ userId, roles, sessionId: newId() });
}

/** A real account holding `roles` (signed up, then granted by an admin), with a token that carries them. */
export async function userWithRoles(t: TestApp, roles: string[], overrides: Parameters<typeof signUp>[1] = {}): Promise<SignedUpUser> {
  const user = await signUp(t, overrides);
  const admin = await tokenFor(t, ['admin']);
  const res = await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles }, { token: admin });
  if (res.status !== 200) throw new Error(`granting roles failed: ${res.status} ${JSON.stringify(res.body)}`);
  const tokens = await logIn(t, user.email, user.password);
  return { ...user, roles: res.body.roles, ...tokens };
}

/**
 * A fixture consumer: a module that records every event of `types` it receives, once per event id
 * (the kernel's inbox guarantees that), in a table of its own schema. Tests build the app with it
 * next to identity and read what arrived.
 */
export function eventRecorder(name: string, types: string[]) {
  const module = {
    name,
    migrations: {
      '0001_init': {
        async up(db: Db) {
          await sql`create table ${sql.id(name, 'received')} (event_id uuid primary key, type text not null, aggregate_id text not null, data jsonb not null, received_at timestamptz not null default now())`.execute(db);
        },
      },
    },
    handlers: Object.fromEntries(
      types.map((type) => [
        type,
        async (event: EventEnvelope, tx: Db) => {
          await sql`insert into ${sql.id(name, 'received')} (event_id, type, aggregate_id, data)
                    values (${event.id}, ${event.type}, ${event.aggregateId}, ${JSON.stringify(event.data)}::jsonb)`.execute(tx);
        },
      ]),
    ),
  } satisfies BazaarModule;

  async function received(t: TestApp, type: string, aggregateId?: string) {
    const { rows } = await sql<{ event_id: string; aggregate_id: string; data: any }>`
      select event_id, aggregate_id, data from ${sql.id(name, 'received')}
      where type = ${type} ${aggregateId ? sql`and aggregate_id = ${aggregateId}` : sql``} order by received_at`.execute(t.database.db);
    return rows.map((r) => ({ eventId: r.event_id, aggregateId: r.aggregate_id, data: r.data }));
  }

  /** Waits (up to 5 s) until at least `count` such events arrived; returns them. */
  async function waitFor(t: TestApp, type: string, aggregateId?: string, count = 1) {
    const deadline = Date.now() + 5_000;
    for (;;) {
      const rows = await received(t, type, aggregateId);
      if (rows.length >= count || Date.now() > deadline) return rows;
      await t.app.relay.runOnce();
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  return { module, received, waitFor };
}
