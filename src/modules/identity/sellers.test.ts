import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { eventRecorder, fastHashingEnv, signUp, tokenFor, userWithRoles, type SignedUpUser } from '../../../test/support/identity.ts';
import { IdentityEvents, SELLER_DIRECTORY_PORT, type SellerDirectory } from './contract.ts';
import { identityModule } from './index.ts';

const recorder = eventRecorder('seller_events_fixture', [IdentityEvents.SellerSuspended, IdentityEvents.SellerReinstated]);

let t: TestApp;
let admin: SignedUpUser;
beforeAll(async () => {
  t = await startTestApp(fastHashingEnv, { modules: [identityModule, recorder.module] });
  admin = await userWithRoles(t, ['admin']);
});
afterAll(() => t.close());

const directory = () => t.app.ctx.ports.get<SellerDirectory>(SELLER_DIRECTORY_PORT);

describe('public seller profile', () => {
  it('shows anyone the store name, description and status, and nothing private', async () => {
    const seller = await signUp(t, { role: 'seller', storeName: 'Northwind Goods' });
    const res = await t.get(`/api/v1/sellers/${seller.id}`);
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ id: seller.id, storeName: 'Northwind Goods', description: '', status: 'active', createdAt: expect.any(String) });
  });

  it('answers 404 for a customer, an unknown id and a malformed id', async () => {
    const customer = await signUp(t);
    expect((await t.get(`/api/v1/sellers/${customer.id}`)).status).toBe(404);
    expect((await t.get('/api/v1/sellers/01900000-0000-7000-8000-00000000abcd')).status).toBe(404);
    expect((await t.get("/api/v1/sellers/x'%20or%201=1")).status).toBe(404);
  });
});

describe('a seller edits their store', () => {
  it('changes name and description, shows it publicly, and records it in the audit log', async () => {
    const seller = await signUp(t, { role: 'seller' });
    const res = await t.patch('/api/v1/sellers/me', { storeName: ' Blue  Harbor ', description: 'Cables & chargers' }, { token: seller.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ storeName: 'Blue Harbor', description: 'Cables & chargers' });
    expect((await t.get(`/api/v1/sellers/${seller.id}`)).body.storeName).toBe('Blue Harbor');
    expect((await t.get('/api/v1/sellers/me', { token: seller.accessToken })).body.storeName).toBe('Blue Harbor');

    const audit = await t.get(`/api/v1/admin/audit-log?targetId=${seller.id}&action=seller.profile.updated`, { token: admin.accessToken });
    expect(audit.body.items[0]).toMatchObject({ actorId: seller.id, targetType: 'seller', details: { fields: ['storeName', 'description'] } });
  });

  it('is for sellers only', async () => {
    const customer = await signUp(t);
    expect((await t.patch('/api/v1/sellers/me', { storeName: 'Mine now' }, { token: customer.accessToken })).status).toBe(403);
    expect((await t.patch('/api/v1/sellers/me', { storeName: 'Mine now' })).status).toBe(401);
  });

  it.each([
    ['an empty body', {}],
    ['a blank store name', { storeName: '   ' }],
    ['a huge description', { description: 'd'.repeat(10_000) }],
    ['a status change', { status: 'active' }],
    ['a wrong type', { storeName: { $set: 'x' } }],
  ])('refuses %s with 400', async (_why, body) => {
    const seller = await signUp(t, { role: 'seller' });
    const res = await t.patch('/api/v1/sellers/me', body, { token: seller.accessToken });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});

describe('suspending and reinstating a seller', () => {
  it('shows the seller as suspended, tells other modules, answers the port, and audits it', async () => {
    const seller = await signUp(t, { role: 'seller' });
    expect(await directory().isSellerActive(seller.id)).toBe(true);

    const res = await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, { reason: 'Counterfeit goods' }, { token: admin.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ id: seller.id, status: 'suspended', suspendedReason: 'Counterfeit goods' });
    const shown = await t.get(`/api/v1/sellers/${seller.id}`);
    expect(shown.body.status).toBe('suspended');
    expect(shown.body.suspendedReason).toBeUndefined();
    expect((await t.get('/api/v1/sellers/me', { token: seller.accessToken })).body.suspendedReason).toBe('Counterfeit goods');
    expect(await directory().isSellerActive(seller.id)).toBe(false);

    const [event] = await recorder.waitFor(t, IdentityEvents.SellerSuspended, seller.id);
    expect(event!.data).toEqual({ sellerId: seller.id, status: 'suspended', reason: 'Counterfeit goods' });
    const audit = await t.get(`/api/v1/admin/audit-log?targetId=${seller.id}&action=seller.suspended`, { token: admin.accessToken });
    expect(audit.body.items[0]).toMatchObject({ actorId: admin.id, targetType: 'seller', details: { reason: 'Counterfeit goods' } });

    const back = await t.post(`/api/v1/admin/sellers/${seller.id}/reinstate`, undefined, { token: admin.accessToken });
    expect(back.status).toBe(200);
    expect(back.body).toMatchObject({ status: 'active', suspendedReason: null });
    expect((await t.get(`/api/v1/sellers/${seller.id}`)).body.status).toBe('active');
    expect(await directory().isSellerActive(seller.id)).toBe(true);
    const [reinstated] = await recorder.waitFor(t, IdentityEvents.SellerReinstated, seller.id);
    expect(reinstated!.data).toEqual({ sellerId: seller.id, status: 'active' });
    const audited = await t.get(`/api/v1/admin/audit-log?targetId=${seller.id}&action=seller.reinstated`, { token: admin.accessToken });
    expect(audited.body.items).toHaveLength(1);
  });

  it('does nothing the second time: one event per real change', async () => {
    const seller = await signUp(t, { role: 'seller' });
    for (let i = 0; i < 2; i++) {
      expect((await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, { reason: 'Late shipments' }, { token: admin.accessToken })).status).toBe(200);
    }
    await recorder.waitFor(t, IdentityEvents.SellerSuspended, seller.id);
    await t.app.relay.runOnce();
    expect(await recorder.received(t, IdentityEvents.SellerSuspended, seller.id)).toHaveLength(1);
  });

  it('is for admins only, needs a reason, and answers 404 for a non-seller', async () => {
    const seller = await signUp(t, { role: 'seller' });
    const customer = await signUp(t);
    expect((await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, { reason: 'x' }, { token: seller.accessToken })).status).toBe(403);
    const support = await tokenFor(t, ['support_agent']);
    expect((await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, { reason: 'x' }, { token: support })).status).toBe(403);
    expect((await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, {}, { token: admin.accessToken })).status).toBe(400);
    expect((await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, { reason: '   ' }, { token: admin.accessToken })).status).toBe(400);
    expect((await t.post(`/api/v1/admin/sellers/${seller.id}/suspend`, { reason: 'r'.repeat(5000) }, { token: admin.accessToken })).status).toBe(400);
    expect((await t.post(`/api/v1/admin/sellers/${customer.id}/suspend`, { reason: 'x' }, { token: admin.accessToken })).status).toBe(404);
    expect((await t.get(`/api/v1/sellers/${seller.id}`)).body.status).toBe('active');
  });

  it('closes the store (404, port says inactive) once the seller role is taken away', async () => {
    const seller = await signUp(t, { role: 'seller' });
    await t.put(`/api/v1/admin/users/${seller.id}/roles`, { roles: ['customer'] }, { token: admin.accessToken });
    expect(await directory().isSellerActive(seller.id)).toBe(false);
    expect((await t.get(`/api/v1/sellers/${seller.id}`)).status).toBe(404);
    expect(await directory().isSellerActive('not-a-uuid')).toBe(false);
  });
});
