import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { fastHashingEnv, signUp, tokenFor, type SignedUpUser } from '../../../test/support/identity.ts';
import { identityModule } from './index.ts';

let t: TestApp;
beforeAll(async () => {
  t = await startTestApp(fastHashingEnv, { modules: [identityModule] });
});
afterAll(() => t.close());

const home = {
  label: 'Home',
  name: 'Ann Example',
  line1: '12 Harbour Street',
  line2: 'Flat 3',
  city: 'Lisbon',
  postalCode: '1100-001',
  country: 'PT',
  phone: '+351 21 000 0000',
};
const work = { name: 'Ann Example', line1: '1 Office Park', city: 'Porto', postalCode: '4000-001', country: 'pt' };

async function save(user: SignedUpUser, body: Record<string, unknown>) {
  const res = await t.post('/api/v1/users/me/addresses', body, { token: user.accessToken });
  expect(res.status).toBe(201);
  return res.body;
}

async function list(user: SignedUpUser) {
  const res = await t.get('/api/v1/users/me/addresses', { token: user.accessToken });
  expect(res.status).toBe(200);
  return res.body.items as Array<{ id: string; isDefault: boolean; line1: string; city: string }>;
}

describe('saved addresses', () => {
  it('saves an address and lists it back; the first one becomes the default', async () => {
    const user = await signUp(t);
    const saved = await save(user, home);
    expect(saved).toMatchObject({ ...home, region: null, isDefault: true });
    expect(await list(user)).toEqual([saved]);
    const res = await t.get('/api/v1/users/me/addresses', { token: user.accessToken });
    expect(res.body.nextCursor).toBeNull();
  });

  it('keeps street lines and phone encrypted at rest, and returns them decrypted', async () => {
    const user = await signUp(t);
    const saved = await save(user, home);
    const { rows } = await sql<Record<string, string>>`select * from identity.addresses where id = ${saved.id}`.execute(t.database.db);
    const stored = JSON.stringify(rows[0]);
    expect(stored).not.toContain('Harbour');
    expect(stored).not.toContain('Flat 3');
    expect(stored).not.toContain('21 000');
    expect(rows[0]!.city).toBe('Lisbon');
    expect((await list(user))[0]!.line1).toBe('12 Harbour Street');
  });

  it('keeps exactly one default: marking another moves it, deleting the default promotes the newest', async () => {
    const user = await signUp(t);
    const first = await save(user, home);
    const second = await save(user, work);
    expect(second).toMatchObject({ isDefault: false, country: 'PT' });
    const third = await save(user, { ...work, city: 'Braga', isDefault: true });
    expect((await list(user)).filter((a) => a.isDefault).map((a) => a.id)).toEqual([third.id]);

    const moved = await t.patch(`/api/v1/users/me/addresses/${first.id}`, { isDefault: true }, { token: user.accessToken });
    expect(moved.body.isDefault).toBe(true);
    expect((await list(user)).filter((a) => a.isDefault).map((a) => a.id)).toEqual([first.id]);

    expect((await t.delete(`/api/v1/users/me/addresses/${first.id}`, { token: user.accessToken })).status).toBe(204);
    const left = await list(user);
    expect(left.map((a) => a.id)).toEqual([second.id, third.id]);
    expect(left.filter((a) => a.isDefault).map((a) => a.id)).toEqual([third.id]);

    // Unmarking the default hands it to another address rather than leaving none.
    await t.patch(`/api/v1/users/me/addresses/${third.id}`, { isDefault: false }, { token: user.accessToken });
    expect((await list(user)).filter((a) => a.isDefault).map((a) => a.id)).toEqual([second.id]);
  });

  it('changes some fields and keeps the rest', async () => {
    const user = await signUp(t);
    const saved = await save(user, home);
    const res = await t.patch(`/api/v1/users/me/addresses/${saved.id}`, { line1: '14 Harbour Street', line2: null, phone: null }, { token: user.accessToken });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ line1: '14 Harbour Street', line2: null, phone: null, city: 'Lisbon', label: 'Home', isDefault: true });
  });

  it("answers 404 for someone else's address, and leaves it alone", async () => {
    const owner = await signUp(t);
    const other = await signUp(t);
    const saved = await save(owner, home);
    expect((await t.patch(`/api/v1/users/me/addresses/${saved.id}`, { city: 'Elsewhere' }, { token: other.accessToken })).status).toBe(404);
    expect((await t.delete(`/api/v1/users/me/addresses/${saved.id}`, { token: other.accessToken })).status).toBe(404);
    expect((await t.delete('/api/v1/users/me/addresses/not-a-uuid', { token: other.accessToken })).status).toBe(404);
    expect((await list(owner))[0]!.city).toBe('Lisbon');
    expect(await list(other)).toEqual([]);
  });

  it.each([
    ['an unknown country', { ...home, country: 'XX' }, '/country'],
    ['a three-letter country', { ...home, country: 'PRT' }, '/country'],
    ['a missing line1', { ...home, line1: undefined }, '/line1'],
    ['a blank city', { ...home, city: '   ' }, '/city'],
    ['a huge line1', { ...home, line1: 'x'.repeat(10_000) }, '/line1'],
    ['a phone with letters', { ...home, phone: "+1 555 DROP TABLE" }, '/phone'],
    ['an unknown field', { ...home, userId: '01900000-0000-7000-8000-000000000001' }, '/userId'],
    ['a wrong type', { ...home, isDefault: { yes: 1 } }, '/isDefault'],
  ])('refuses %s with a 400 naming the field', async (_why, body, path) => {
    const user = await signUp(t);
    const res = await t.post('/api/v1/users/me/addresses', body, { token: user.accessToken });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('stores SQL-looking text as text', async () => {
    const user = await signUp(t);
    const saved = await save(user, { ...home, line1: "1'; DELETE FROM identity.addresses; --" });
    expect((await list(user))[0]!.line1).toBe("1'; DELETE FROM identity.addresses; --");
    expect(saved.id).toBeTruthy();
  });

  it('needs a signed-in user who exists', async () => {
    expect((await t.get('/api/v1/users/me/addresses')).status).toBe(401);
    const ghost = await tokenFor(t, ['customer']);
    expect((await t.post('/api/v1/users/me/addresses', home, { token: ghost })).status).toBe(404);
    // A token whose subject is not even an id of ours (as tests mint them) is no 500 either.
    const odd = await tokenFor(t, ['customer'], 'x');
    expect((await t.get('/api/v1/users/me/addresses', { token: odd })).body.items).toEqual([]);
    expect((await t.post('/api/v1/users/me/addresses', home, { token: odd })).status).toBe(404);
    expect((await t.delete('/api/v1/users/me/addresses/01900000-0000-7000-8000-000000000001', { token: odd })).status).toBe(404);
    expect((await t.get('/api/v1/users/me/export', { token: odd })).status).toBe(404);
    expect((await t.get('/api/v1/users/me', { token: odd })).status).toBe(404);
  });
});
