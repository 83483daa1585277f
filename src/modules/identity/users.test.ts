import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { fastHashingEnv, logIn, signUp, tokenFor, userWithRoles } from '../../../test/support/identity.ts';
import { identityModule } from './index.ts';

let t: TestApp;
let adminToken: string;
let adminId: string;
beforeAll(async () => {
  t = await startTestApp(fastHashingEnv, { modules: [identityModule] });
  ({ accessToken: adminToken, id: adminId } = await userWithRoles(t, ['admin']));
});
afterAll(() => t.close());

async function auditEntries(query: string) {
  const res = await t.get(`/api/v1/admin/audit-log?${query}`, { token: adminToken });
  expect(res.status).toBe(200);
  return res.body.items as Array<{ actorId: string; action: string; targetType: string; targetId: string; details: Record<string, unknown> }>;
}

describe('reading users', () => {
  it('shows a user their own record, by /me and by id', async () => {
    const user = await signUp(t, { name: 'Mia Me' });
    const me = await t.get('/api/v1/users/me', { token: user.accessToken });
    expect(me.body).toMatchObject({ id: user.id, email: user.email, name: 'Mia Me', roles: ['customer'] });
    expect(typeof me.body.createdAt).toBe('string');
    const byId = await t.get(`/api/v1/users/${user.id}`, { token: user.accessToken });
    expect(byId.body).toEqual(me.body);
  });

  it("answers 404 for another user's record, as for one that does not exist", async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    const res = await t.get(`/api/v1/users/${other.id}`, { token: user.accessToken });
    expect(res.status).toBe(404);
    expect((await t.get('/api/v1/users/01900000-0000-7000-8000-00000000ffff', { token: user.accessToken })).status).toBe(404);
    expect((await t.get("/api/v1/users/1' or '1'='1", { token: user.accessToken })).status).toBe(404);
  });

  it('lets staff who may read any user (admin, support agent) see others', async () => {
    const other = await signUp(t);
    const support = await tokenFor(t, ['support_agent']);
    expect((await t.get(`/api/v1/users/${other.id}`, { token: support })).status).toBe(200);
    expect((await t.get(`/api/v1/users/${other.id}`, { token: adminToken })).body.email).toBe(other.email);
  });

  it('needs a signed-in caller', async () => {
    expect((await t.get('/api/v1/users/me')).status).toBe(401);
    expect((await t.get('/api/v1/users/me', { token: 'not-a-jwt' })).status).toBe(401);
  });
});

describe('changing a user', () => {
  it('lets a user change their own name and email; the new email signs in', async () => {
    const user = await signUp(t);
    const email = `renamed.${user.id.slice(-6)}@example.test`;
    const res = await t.patch(`/api/v1/users/${user.id}`, { name: '  Nova   Name ', email }, { token: user.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ name: 'Nova Name', email });
    await logIn(t, email, user.password);
    expect((await t.post('/api/v1/auth/login', { email: user.email, password: user.password })).status).toBe(401);
  });

  it('refuses an email another account uses, whatever its case (409)', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    const res = await t.patch(`/api/v1/users/${user.id}`, { email: other.email.toUpperCase() }, { token: user.accessToken });
    expect(res.status).toBe(409);
    expect(res.body.type).toMatch(/\/email-taken$/);
  });

  it('accepts /users/me as the id', async () => {
    const user = await signUp(t);
    const res = await t.patch('/api/v1/users/me', { name: 'Via Me' }, { token: user.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.id).toBe(user.id);
  });

  it.each([
    ['an empty body', {}],
    ['a blank name', { name: '   ' }],
    ['an unknown field', { roles: ['admin'] }],
    ['a wrong type', { name: { first: 'A' } }],
    ['a huge name', { name: 'n'.repeat(5000) }],
    ['a malformed email', { email: 'nope' }],
  ])('answers %s with 400', async (_why, body) => {
    const user = await signUp(t);
    const res = await t.patch(`/api/v1/users/${user.id}`, body, { token: user.accessToken });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('changes the password only with the current one, and signs out every other device', async () => {
    const user = await signUp(t);
    const laptop = await logIn(t, user.email, user.password);
    const newPassword = 'Brand-new-secret-42';

    const missing = await t.patch(`/api/v1/users/${user.id}`, { password: newPassword }, { token: user.accessToken });
    expect(missing.status).toBe(400);
    expect(missing.body.errors[0].path).toBe('/currentPassword');
    const wrong = await t.patch(`/api/v1/users/${user.id}`, { password: newPassword, currentPassword: 'Guessing-1' }, { token: user.accessToken });
    expect(wrong.status).toBe(403);
    const weak = await t.patch(`/api/v1/users/${user.id}`, { password: 'short1', currentPassword: user.password }, { token: user.accessToken });
    expect(weak.status).toBe(400);

    expect((await t.get('/api/v1/users/me', { token: laptop.accessToken })).status).toBe(200);
    const changed = await t.patch(`/api/v1/users/${user.id}`, { password: newPassword, currentPassword: user.password }, { token: user.accessToken });
    expect(changed.status).toBe(200);
    // The other device is out at once, its access token too; the device that changed it stays in.
    expect((await t.get('/api/v1/users/me', { token: laptop.accessToken })).status).toBe(401);
    expect((await t.get('/api/v1/users/me', { token: user.accessToken })).status).toBe(200);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: laptop.refreshToken })).status).toBe(401);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
    expect((await t.post('/api/v1/auth/login', { email: user.email, password: user.password })).status).toBe(401);
    await logIn(t, user.email, newPassword);
  });

  it("hides another user's record from a customer (404) and forbids a support agent to change it (403)", async () => {
    const victim = await signUp(t);
    const attacker = await signUp(t);
    expect((await t.patch(`/api/v1/users/${victim.id}`, { name: 'Pwned' }, { token: attacker.accessToken })).status).toBe(404);
    const support = await tokenFor(t, ['support_agent']);
    expect((await t.patch(`/api/v1/users/${victim.id}`, { name: 'Pwned' }, { token: support })).status).toBe(403);
    const me = await t.get('/api/v1/users/me', { token: victim.accessToken });
    expect(me.body.name).toBe('Test User');
  });

  it("lets an admin change someone's name, and records it in the audit log", async () => {
    const admin = await userWithRoles(t, ['admin']);
    const user = await signUp(t);
    const res = await t.patch(`/api/v1/users/${user.id}`, { name: 'Fixed By Admin' }, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.name).toBe('Fixed By Admin');
    const [entry] = await auditEntries(`targetId=${user.id}&action=user.updated`);
    expect(entry).toMatchObject({ actorId: admin.id, targetType: 'user', details: { fields: ['name'] } });
  });
});

describe('roles', () => {
  it('lets an admin replace roles: 200 user, audited; tokens with the old roles stop working and a refresh carries the new ones', async () => {
    const admin = await userWithRoles(t, ['admin']);
    const user = await signUp(t);
    const res = await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['warehouse_staff', 'customer'] }, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body.roles).toEqual(['customer', 'warehouse_staff']);

    expect((await t.get('/api/v1/users/me', { token: user.accessToken })).status).toBe(401);
    const refreshed = await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(await t.app.ctx.tokens.verifyAccess(refreshed.body.accessToken)).toMatchObject({ roles: ['customer', 'warehouse_staff'] });
    expect((await t.get('/api/v1/users/me', { token: refreshed.body.accessToken })).status).toBe(200);
    const [entry] = await auditEntries(`targetId=${user.id}&action=user.roles.changed`);
    expect(entry).toMatchObject({ actorId: admin.id, details: { from: ['customer'], to: ['customer', 'warehouse_staff'] } });

    // Demoted again: the user's refreshed token stops working; the admin's own, untouched, still works.
    expect((await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['customer'] }, { token: admin.accessToken })).status).toBe(200);
    expect((await t.get('/api/v1/users/me', { token: refreshed.body.accessToken })).status).toBe(401);
    expect((await t.get('/api/v1/users/me', { token: admin.accessToken })).status).toBe(200);
  });

  it('opens a store for a user who is granted the seller role', async () => {
    const user = await signUp(t, { name: 'Late Seller' });
    const res = await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['seller'] }, { token: adminToken });
    expect(res.body.sellerProfile).toMatchObject({ storeName: 'Late Seller', status: 'active' });
    expect((await t.get(`/api/v1/sellers/${user.id}`)).status).toBe(200);
  });

  it.each([
    ['an unknown role', { roles: ['superuser'] }],
    ['no roles', { roles: [] }],
    ['a repeated role', { roles: ['customer', 'customer'] }],
    ['a wrong type', { roles: { admin: true } }],
    ['SQL in a role', { roles: ["admin'; --"] }],
  ])('refuses %s with 400', async (_why, body) => {
    const user = await signUp(t);
    expect((await t.put(`/api/v1/admin/users/${user.id}/roles`, body, { token: adminToken })).status).toBe(400);
  });

  it('is for admins only', async () => {
    const user = await signUp(t);
    expect((await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['admin'] }, { token: user.accessToken })).status).toBe(403);
    const support = await tokenFor(t, ['support_agent']);
    expect((await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['admin'] }, { token: support })).status).toBe(403);
    expect((await t.put(`/api/v1/admin/users/${user.id}/roles`, { roles: ['admin'] })).status).toBe(401);
  });

  it('answers 404 for a user that does not exist', async () => {
    expect((await t.put('/api/v1/admin/users/01900000-0000-7000-8000-00000000fffe/roles', { roles: ['customer'] }, { token: adminToken })).status).toBe(404);
  });
});

describe('the last admin', () => {
  it('cannot lose the admin role, so someone can always grant it', async () => {
    // Every admin but the one behind adminToken (which later tests use) is demoted, by that one.
    const list = await t.get('/api/v1/admin/users?limit=100', { token: adminToken });
    const others = list.body.items.filter((u: { id: string; roles: string[] }) => u.roles.includes('admin') && u.id !== adminId);
    for (const admin of others) {
      expect((await t.put(`/api/v1/admin/users/${admin.id}/roles`, { roles: ['customer'] }, { token: adminToken })).status).toBe(200);
    }
    const last = await t.put(`/api/v1/admin/users/${adminId}/roles`, { roles: ['customer'] }, { token: adminToken });
    expect(last.status).toBe(409);
    expect(last.body.type).toMatch(/\/last-admin$/);
    // Nothing changed, so the last admin's token still works.
    expect((await t.get('/api/v1/admin/users?limit=1', { token: adminToken })).status).toBe(200);
  });
});

describe('admin user list', () => {
  it('pages newest first with a cursor, and searches by email or name', async () => {
    const marker = `Zed${Date.now().toString(36)}`;
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await signUp(t, { name: `${marker} ${i}` }));

    const first = await t.get(`/api/v1/admin/users?q=${marker}&limit=2`, { token: adminToken });
    expect(first.status).toBe(200);
    expect(first.body.items.map((u: { id: string }) => u.id)).toEqual([created[2]!.id, created[1]!.id]);
    const second = await t.get(`/api/v1/admin/users?q=${marker}&limit=2&cursor=${first.body.nextCursor}`, { token: adminToken });
    expect(second.body.items.map((u: { id: string }) => u.id)).toEqual([created[0]!.id]);
    expect(second.body.nextCursor).toBeNull();

    const byEmail = await t.get(`/api/v1/admin/users?q=${encodeURIComponent(created[1]!.email.toUpperCase())}`, { token: adminToken });
    expect(byEmail.body.items.map((u: { id: string }) => u.id)).toEqual([created[1]!.id]);
  });

  it('treats LIKE wildcards and SQL in q as plain text', async () => {
    const res = await t.get(`/api/v1/admin/users?q=${encodeURIComponent("%' or 1=1 --")}`, { token: adminToken });
    expect(res.status).toBe(200);
    expect(res.body.items).toEqual([]);
    const percent = await t.get('/api/v1/admin/users?q=%25', { token: adminToken });
    expect(percent.body.items).toEqual([]);
  });

  it('refuses a forged cursor and an out-of-range limit with 400', async () => {
    expect((await t.get('/api/v1/admin/users?cursor=bm9wZQ', { token: adminToken })).status).toBe(400);
    expect((await t.get(`/api/v1/admin/users?cursor=${Buffer.from('["not-a-uuid"]').toString('base64url')}`, { token: adminToken })).status).toBe(400);
    expect((await t.get('/api/v1/admin/users?limit=1000', { token: adminToken })).status).toBe(400);
  });

  it('is not for customers', async () => {
    const user = await signUp(t);
    expect((await t.get('/api/v1/admin/users', { token: user.accessToken })).status).toBe(403);
  });
});

describe('audit log', () => {
  it('is readable by admins only', async () => {
    const user = await signUp(t);
    expect((await t.get('/api/v1/admin/audit-log', { token: user.accessToken })).status).toBe(403);
    const support = await tokenFor(t, ['support_agent']);
    expect((await t.get('/api/v1/admin/audit-log', { token: support })).status).toBe(403);
    expect((await t.get('/api/v1/admin/audit-log', { token: adminToken })).status).toBe(200);
  });
});
