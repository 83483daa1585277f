import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { eventRecorder, fastHashingEnv, logIn, signUp, tokenFor, userWithRoles, type SignedUpUser } from '../../../test/support/identity.ts';
import { IdentityEvents } from './contract.ts';
import { identityModule } from './index.ts';

const recorder = eventRecorder('gdpr_events_fixture', [IdentityEvents.UserDeleted]);

let t: TestApp;
let admin: SignedUpUser;
beforeAll(async () => {
  t = await startTestApp(fastHashingEnv, { modules: [identityModule, recorder.module] });
  admin = await userWithRoles(t, ['admin']);
});
afterAll(() => t.close());

const address = { name: 'Sam Seller', line1: '9 Quay Road', city: 'Cork', postalCode: 'T12 X000', country: 'IE', phone: '+353 21 000 000' };

describe('data export', () => {
  it('hands a user everything identity holds about them, decrypted, without secrets', async () => {
    const seller = await signUp(t, { role: 'seller', storeName: 'Quay Crafts' });
    await logIn(t, seller.email, seller.password);
    await t.post('/api/v1/users/me/addresses', address, { token: seller.accessToken });
    await t.patch('/api/v1/sellers/me', { description: 'Hand-made' }, { token: seller.accessToken });

    const res = await t.get('/api/v1/users/me/export', { token: seller.accessToken });
    expect(res.status).toBe(200);
    const data = res.body;
    expect(data.user).toMatchObject({ id: seller.id, email: seller.email, roles: ['seller'] });
    expect(data.user.sellerProfile).toMatchObject({ storeName: 'Quay Crafts', description: 'Hand-made', status: 'active' });
    expect(data.addresses).toEqual([expect.objectContaining({ line1: '9 Quay Road', phone: '+353 21 000 000', country: 'IE' })]);
    expect(data.sessions).toHaveLength(2);
    expect(data.sessions[0]).toMatchObject({ id: expect.any(String), revokedAt: null, ip: expect.any(String) });
    expect(data.auditEntries).toEqual([expect.objectContaining({ action: 'seller.profile.updated', targetId: seller.id })]);

    const text = JSON.stringify(data);
    expect(text).not.toContain(seller.refreshToken);
    expect(text).not.toContain('scrypt$');
    expect(text).not.toContain(seller.password);
  });

  it('needs a signed-in user', async () => {
    expect((await t.get('/api/v1/users/me/export')).status).toBe(401);
  });
});

describe('erasure', () => {
  it('anonymises the account, drops addresses and store, signs out everywhere, and tells other modules', async () => {
    const user = await signUp(t, { role: 'seller', name: 'Erin Erase' });
    const phone = await logIn(t, user.email, user.password);
    await t.post('/api/v1/users/me/addresses', address, { token: user.accessToken });

    expect((await t.delete('/api/v1/users/me', { token: user.accessToken })).status).toBe(204);

    const seen = await t.get(`/api/v1/users/${user.id}`, { token: admin.accessToken });
    expect(seen.body).toMatchObject({ email: `deleted+${user.id}@invalid`, name: 'Deleted user', roles: [], status: 'deleted' });
    expect(seen.body.sellerProfile).toBeUndefined();
    expect((await t.get(`/api/v1/sellers/${user.id}`)).status).toBe(404);

    const { rows } = await sql`select 1 from identity.addresses where user_id = ${user.id}`.execute(t.database.db);
    expect(rows).toHaveLength(0);
    const sessions = await sql<{ revoked_at: Date | null }>`select revoked_at from identity.sessions where user_id = ${user.id}`.execute(t.database.db);
    expect(sessions.rows.every((s) => s.revoked_at !== null)).toBe(true);

    const login = await t.post('/api/v1/auth/login', { email: user.email, password: user.password });
    expect(login.status).toBe(401);
    expect((await t.post('/api/v1/auth/login', { email: `deleted+${user.id}@invalid`, password: user.password })).status).toBe(401);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: phone.refreshToken })).status).toBe(401);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
    // Every access token of the account stops working at once, on every device.
    for (const token of [user.accessToken, phone.accessToken]) {
      const res = await t.get('/api/v1/users/me', { token });
      expect(res.status).toBe(401);
      expect(res.headers['content-type']).toContain('application/problem+json');
    }

    const [event] = await recorder.waitFor(t, IdentityEvents.UserDeleted, user.id);
    expect(event!.data).toEqual({ userId: user.id });
  });

  it('frees the email for a new account', async () => {
    const user = await signUp(t);
    await t.delete('/api/v1/users/me', { token: user.accessToken });
    const again = await t.post('/api/v1/auth/signup', { email: user.email, password: user.password, name: 'New Me' });
    expect(again.status).toBe(201);
    expect(again.body.user.id).not.toBe(user.id);
  });

  it('lets an admin erase an account, audited; others may not', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    expect((await t.delete(`/api/v1/admin/users/${user.id}`, { token: other.accessToken })).status).toBe(403);
    const support = await tokenFor(t, ['support_agent']);
    expect((await t.delete(`/api/v1/admin/users/${user.id}`, { token: support })).status).toBe(403);

    expect((await t.delete(`/api/v1/admin/users/${user.id}`, { token: admin.accessToken })).status).toBe(204);
    expect((await t.post('/api/v1/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    const audit = await t.get(`/api/v1/admin/audit-log?targetId=${user.id}&action=user.deleted`, { token: admin.accessToken });
    expect(audit.body.items[0]).toMatchObject({ actorId: admin.id, targetType: 'user' });
    await recorder.waitFor(t, IdentityEvents.UserDeleted, user.id);

    // Erasing twice: the account is already gone.
    expect((await t.delete(`/api/v1/admin/users/${user.id}`, { token: admin.accessToken })).status).toBe(404);
    expect((await t.delete('/api/v1/admin/users/not-an-id', { token: admin.accessToken })).status).toBe(404);
  });
});
