import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { fastHashingEnv, logIn, signUp } from '../../../test/support/identity.ts';
import { DEMO_ACCOUNTS, DEMO_SELLERS } from './contract.ts';
import { identityModule } from './index.ts';

const modules = { modules: [identityModule] };

describe('admin from ADMIN_EMAIL / ADMIN_PASSWORD, and demo accounts', () => {
  let t: TestApp;
  const adminEnv = { ...fastHashingEnv, DEMO_DATA: '1', ADMIN_EMAIL: 'ops@example.test', ADMIN_PASSWORD: 'first-admin-pass-1' };
  beforeAll(async () => {
    t = await startTestApp(adminEnv, modules);
  });
  afterAll(() => t.close());

  it('creates the configured admin at start', async () => {
    const { accessToken } = await logIn(t, 'ops@example.test', 'first-admin-pass-1');
    const me = await t.get('/api/v1/users/me', { token: accessToken });
    expect(me.body.roles).toEqual(['admin']);
  });

  it('loads every demo account with its fixed id, password and roles', async () => {
    for (const account of Object.values(DEMO_ACCOUNTS)) {
      const res = await t.post('/api/v1/auth/login', { email: account.email, password: account.password });
      expect(res.status).toBe(200);
      expect(res.body.user).toMatchObject({ id: account.id, name: account.name, roles: [...account.roles] });
    }
  });

  it('loads the demo sellers with their stores', async () => {
    for (const seller of DEMO_SELLERS) {
      const res = await t.post('/api/v1/auth/login', { email: seller.email, password: seller.password });
      expect(res.body.user).toMatchObject({ id: seller.id, roles: ['seller'] });
      const store = await t.get(`/api/v1/sellers/${seller.id}`);
      expect(store.body).toMatchObject({ storeName: seller.storeName, status: 'active' });
    }
  });

  it('on a later start, keeps the admin password and grants admin to an existing account', async () => {
    const existing = await signUp(t);
    const later = await t.restart({ ...adminEnv, ADMIN_PASSWORD: 'a-different-pass-2' }, modules);
    await later.close();
    // The variable bootstraps an admin; it does not reset one's password.
    await logIn(t, 'ops@example.test', 'first-admin-pass-1');
    expect((await t.post('/api/v1/auth/login', { email: 'ops@example.test', password: 'a-different-pass-2' })).status).toBe(401);

    const promoted = await t.restart({ ...adminEnv, ADMIN_EMAIL: existing.email.toUpperCase() }, modules);
    await promoted.close();
    const { accessToken } = await logIn(t, existing.email, existing.password);
    expect((await t.get('/api/v1/users/me', { token: accessToken })).body.roles).toEqual(['customer', 'admin']);
    const audit = await t.get(`/api/v1/admin/audit-log?targetId=${existing.id}`, { token: accessToken });
    expect(audit.body.items[0]).toMatchObject({ actorId: null, action: 'user.roles.changed', details: { source: 'ADMIN_EMAIL' } });
  });
});
