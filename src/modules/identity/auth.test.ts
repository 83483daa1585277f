import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { fastHashingEnv, logIn, signUp, strongPassword, uniqueEmail } from '../../../test/support/identity.ts';
import type { BazaarModule } from '../../kernel/module.ts';
import { CART_PORT, type CartPort } from '../cart/contract.ts';
import { identityModule } from './index.ts';

/** Stands in for the cart module's port: records the merges identity asks for. */
const merges: Array<{ token: string; userId: string }> = [];
const cartStandIn: BazaarModule = {
  name: 'cart_stand_in',
  migrations: {},
  providePorts(ctx) {
    ctx.ports.provide<CartPort>(CART_PORT, {
      getCheckoutCart: async () => null,
      clearCart: async () => {},
      async mergeGuestCart(token, userId) {
        if (token === 'cart-that-breaks') throw new Error('cart is down');
        merges.push({ token, userId });
      },
    });
  },
};
const modules = { modules: [identityModule, cartStandIn] };

// One app for the file: booting one costs far more than the tests in it.
let t: TestApp;
beforeAll(async () => {
  t = await startTestApp({ ...fastHashingEnv, LOGIN_MAX_FAILURES: '3' }, modules);
});
afterAll(() => t.close());

describe('sign-up', () => {

  it('creates a customer and signs them in: the access token opens /users/me', async () => {
    const email = uniqueEmail('ann');
    const res = await t.post('/api/v1/auth/signup', { email, password: 'Correct-horse-7', name: 'Ann Example' });
    expect(res.status).toBe(201);
    expect(res.body.user).toMatchObject({ email, name: 'Ann Example', roles: ['customer'], status: 'active' });
    expect(res.body.user.sellerProfile).toBeUndefined();
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(typeof res.body.refreshToken).toBe('string');

    const me = await t.get('/api/v1/users/me', { token: res.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual(res.body.user);
    expect(await t.app.ctx.tokens.verifyAccess(res.body.accessToken)).toMatchObject({ userId: res.body.user.id, roles: ['customer'] });
  });

  it('gives a seller a store named after them, or the store name they chose', async () => {
    const plain = await t.post('/api/v1/auth/signup', { email: uniqueEmail('s'), password: strongPassword(), name: 'Nora North', role: 'seller' });
    expect(plain.status).toBe(201);
    expect(plain.body.user.roles).toEqual(['seller']);
    expect(plain.body.user.sellerProfile).toMatchObject({ id: plain.body.user.id, storeName: 'Nora North', status: 'active' });

    const named = await t.post('/api/v1/auth/signup', { email: uniqueEmail('s'), password: strongPassword(), name: 'Arlo', role: 'seller', storeName: 'Acme Outfitters' });
    expect(named.body.user.sellerProfile.storeName).toBe('Acme Outfitters');
  });

  it('refuses a second account for the same email, whatever its case (409)', async () => {
    const user = await signUp(t);
    const res = await t.post('/api/v1/auth/signup', { email: user.email.toUpperCase(), password: strongPassword(), name: 'Copy' });
    expect(res.status).toBe(409);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.type).toMatch(/\/email-taken$/);
  });

  it.each([
    ['too short', 'abc1'],
    ['no digit', 'onlyletters'],
    ['no letter', '1234567890'],
    ['a well-known password', 'Password123'],
  ])('refuses a weak password (%s) with 400 naming the field', async (_why, password) => {
    const res = await t.post('/api/v1/auth/signup', { email: uniqueEmail(), password, name: 'Weak' });
    expect(res.status).toBe(400);
    expect(res.body.type).toMatch(/\/weak-password$/);
    expect(res.body.errors[0].path).toBe('/password');
  });

  it('refuses a password that is the email address itself', async () => {
    const email = uniqueEmail('same1');
    const res = await t.post('/api/v1/auth/signup', { email, password: email, name: 'Same' });
    expect(res.status).toBe(400);
    expect(res.body.errors).toContainEqual({ path: '/password', message: 'must not be your email address' });
  });

  it('refuses roles a user may not pick for themselves, and a store name for a customer', async () => {
    const admin = await t.post('/api/v1/auth/signup', { email: uniqueEmail(), password: strongPassword(), name: 'Eve', role: 'admin' });
    expect(admin.status).toBe(400);
    const store = await t.post('/api/v1/auth/signup', { email: uniqueEmail(), password: strongPassword(), name: 'Eve', storeName: 'Shop' });
    expect(store.status).toBe(400);
    expect(store.body.errors[0].path).toBe('/storeName');
  });

  it.each([
    ['a missing field', { email: uniqueEmail(), password: strongPassword() }, '/name'],
    ['a wrong type', { email: 42, password: strongPassword(), name: 'X' }, '/email'],
    ['a malformed email', { email: 'not-an-email', password: strongPassword(), name: 'X' }, '/email'],
    ['an unknown field', { email: uniqueEmail(), password: strongPassword(), name: 'X', isAdmin: true }, '/isAdmin'],
    ['a huge name', { email: uniqueEmail(), password: strongPassword(), name: 'x'.repeat(10_000) }, '/name'],
    ['a huge password', { email: uniqueEmail(), password: 'a1'.repeat(50_000), name: 'X' }, '/password'],
    ['a blank name', { email: uniqueEmail(), password: strongPassword(), name: '   ' }, '/name'],
  ])('answers %s with a 400 problem', async (_why, body, path) => {
    const res = await t.post('/api/v1/auth/signup', body);
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body.errors.map((e: { path: string }) => e.path)).toContain(path);
  });

  it('stores SQL-looking input verbatim and is not affected by it', async () => {
    const name = "Robert'); DROP TABLE identity.users; --";
    const user = await signUp(t, { name });
    const me = await t.get('/api/v1/users/me', { token: user.accessToken });
    expect(me.body.name).toBe(name);
    const login = await t.post('/api/v1/auth/login', { email: "' OR '1'='1' --", password: "' OR '1'='1" });
    expect(login.status).toBe(401);
  });

  it('keeps only an scrypt hash of the password, with its parameters', async () => {
    const user = await signUp(t);
    const { rows } = await sql<{ password_hash: string }>`select password_hash from identity.users where id = ${user.id}`.execute(t.database.db);
    expect(rows[0]!.password_hash).toMatch(/^scrypt\$1024\$8\$1\$[A-Za-z0-9_-]{22}\$[A-Za-z0-9_-]{43}$/);
    expect(rows[0]!.password_hash).not.toContain(user.password);
  });
});

describe('sign-in', () => {

  it('signs in with the right password, whatever the case of the email', async () => {
    const user = await signUp(t);
    const res = await t.post('/api/v1/auth/login', { email: user.email.toUpperCase(), password: user.password });
    expect(res.status).toBe(200);
    expect(res.body.user.id).toBe(user.id);
    expect((await t.get('/api/v1/users/me', { token: res.body.accessToken })).body.id).toBe(user.id);
  });

  it('gives the same 401 for an unknown email and for a wrong password', async () => {
    const user = await signUp(t);
    const wrong = await t.post('/api/v1/auth/login', { email: user.email, password: 'Not-the-password-1' });
    const unknown = await t.post('/api/v1/auth/login', { email: uniqueEmail('nobody'), password: 'Not-the-password-1' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.body).toEqual(wrong.body);
    expect(wrong.body.type).toMatch(/\/invalid-credentials$/);
  });

  it('locks an account after repeated failures: even the right password gets 429 with Retry-After', async () => {
    const user = await signUp(t);
    const other = await signUp(t);
    for (let i = 0; i < 3; i++) {
      expect((await t.post('/api/v1/auth/login', { email: user.email, password: `Wrong-guess-${i}` })).status).toBe(401);
    }
    const locked = await t.post('/api/v1/auth/login', { email: user.email, password: user.password });
    expect(locked.status).toBe(429);
    expect(locked.body.type).toMatch(/\/account-locked$/);
    expect(Number(locked.headers['retry-after'])).toBeGreaterThan(0);
    expect(Number(locked.headers['retry-after'])).toBeLessThanOrEqual(15 * 60);
    // Someone else's account is not affected.
    expect((await t.post('/api/v1/auth/login', { email: other.email, password: other.password })).status).toBe(200);
  });

  it('locks an email that has no account the same way, so a 429 does not reveal which emails exist', async () => {
    const email = uniqueEmail('ghost');
    for (let i = 0; i < 3; i++) await t.post('/api/v1/auth/login', { email, password: `Wrong-guess-${i}` });
    expect((await t.post('/api/v1/auth/login', { email, password: 'Anything-1' })).status).toBe(429);
  });

  it('forgets earlier failures after a successful sign-in', async () => {
    const user = await signUp(t);
    for (let i = 0; i < 2; i++) await t.post('/api/v1/auth/login', { email: user.email, password: `Wrong-guess-${i}` });
    await logIn(t, user.email, user.password);
    for (let i = 0; i < 2; i++) await t.post('/api/v1/auth/login', { email: user.email, password: `Wrong-again-${i}` });
    expect((await t.post('/api/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
  });

  it('answers malformed login input with 400, not 401 or 500', async () => {
    // NoSQL-style operator objects and arrays are not strings.
    expect((await t.post('/api/v1/auth/login', { email: { $ne: null }, password: ['a', 'b'] })).status).toBe(400);
    expect((await t.request('POST', '/api/v1/auth/login', { raw: '{"email":', headers: { 'content-type': 'application/json' } })).status).toBe(400);
  });

  it('upgrades an old, cheaper hash when the user signs in after the cost went up', async () => {
    const user = await signUp(t);
    const stronger = await t.restart({ ...fastHashingEnv, PASSWORD_HASH_COST: '11' }, modules);
    try {
      expect((await stronger.post('/api/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
      const { rows } = await sql<{ password_hash: string }>`select password_hash from identity.users where id = ${user.id}`.execute(t.database.db);
      expect(rows[0]!.password_hash).toMatch(/^scrypt\$2048\$/);
      expect((await stronger.post('/api/v1/auth/login', { email: user.email, password: user.password })).status).toBe(200);
    } finally {
      await stronger.close();
    }
  });
});

describe("a guest's cart", () => {
  it('is merged into the account on sign-up and on sign-in that carry X-Cart-Token', async () => {
    const user = await signUp(t);
    expect(merges.filter((m) => m.userId === user.id)).toEqual([]);
    const res = await t.post('/api/v1/auth/signup', { email: uniqueEmail(), password: strongPassword(), name: 'Guest' }, { headers: { 'x-cart-token': 'guest-cart-1' } });
    expect(merges).toContainEqual({ token: 'guest-cart-1', userId: res.body.user.id });
    await t.post('/api/v1/auth/login', { email: user.email, password: user.password }, { headers: { 'x-cart-token': 'guest-cart-2' } });
    expect(merges).toContainEqual({ token: 'guest-cart-2', userId: user.id });
  });

  it('does not stand in the way of signing in when the merge fails', async () => {
    const user = await signUp(t);
    const res = await t.post('/api/v1/auth/login', { email: user.email, password: user.password }, { headers: { 'x-cart-token': 'cart-that-breaks' } });
    expect(res.status).toBe(200);
  });
});

describe('refresh tokens and sign-out', () => {

  it('rotates: a refresh gives a working new pair and the old refresh token stops working', async () => {
    const user = await signUp(t);
    const first = await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(first.status).toBe(200);
    expect(first.body.refreshToken).not.toBe(user.refreshToken);
    expect((await t.get('/api/v1/users/me', { token: first.body.accessToken })).status).toBe(200);
    const second = await t.post('/api/v1/auth/refresh', { refreshToken: first.body.refreshToken });
    expect(second.status).toBe(200);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(401);
  });

  it('treats reuse of a rotated token as theft: the whole session is revoked, other sessions live on', async () => {
    const user = await signUp(t);
    const otherDevice = await logIn(t, user.email, user.password);
    const rotated = await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    const latest = rotated.body.refreshToken;

    const replay = await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    expect(replay.status).toBe(401);
    expect(replay.body.type).toMatch(/\/invalid-refresh-token$/);
    // The legitimate holder's newest token belonged to the same family, so it is dead too, and so is
    // every access token the session issued.
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: latest })).status).toBe(401);
    expect((await t.get('/api/v1/users/me', { token: rotated.body.accessToken })).status).toBe(401);
    expect((await t.get('/api/v1/users/me', { token: user.accessToken })).status).toBe(401);
    expect((await t.get('/api/v1/users/me', { token: otherDevice.accessToken })).status).toBe(200);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: otherDevice.refreshToken })).status).toBe(200);
  });

  it('refuses unknown, malformed and huge refresh tokens', async () => {
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: 'rt_made-up' })).status).toBe(401);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: "' or 1=1 --" })).status).toBe(401);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: { $gt: '' } })).status).toBe(400);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: 'x'.repeat(5000) })).status).toBe(400);
    expect((await t.post('/api/v1/auth/refresh', {})).status).toBe(400);
  });

  it('stores refresh tokens only as SHA-256 hashes, with an expiry', async () => {
    const user = await signUp(t);
    const digest = createHash('sha256').update(user.refreshToken).digest('hex');
    const { rows } = await sql<{ token_hash: string; expires_at: Date }>`
      select rt.token_hash, rt.expires_at from identity.refresh_tokens rt
      join identity.sessions s on s.id = rt.session_id where s.user_id = ${user.id}`.execute(t.database.db);
    expect(rows.map((r) => r.token_hash)).toEqual([digest]);
    const days = (new Date(rows[0]!.expires_at).getTime() - Date.now()) / 86_400_000;
    expect(days).toBeGreaterThan(29);
    expect(days).toBeLessThanOrEqual(30);
  });

  it("signs out: 204, and that session can no longer refresh, nor use its access tokens; the user's other sessions can", async () => {
    const user = await signUp(t);
    const phone = await logIn(t, user.email, user.password);
    const refreshed = await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken });
    const res = await t.post('/api/v1/auth/logout', { refreshToken: refreshed.body.refreshToken }, { token: refreshed.body.accessToken });
    expect(res.status).toBe(204);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: refreshed.body.refreshToken })).status).toBe(401);
    for (const token of [user.accessToken, refreshed.body.accessToken]) {
      const after = await t.get('/api/v1/users/me', { token });
      expect(after.status).toBe(401);
      expect(after.body.type).toMatch(/\/unauthorized$/);
    }
    expect((await t.get('/api/v1/users/me', { token: phone.accessToken })).status).toBe(200);
    // Signing out again with the dead token is refused like any other invalid token.
    expect((await t.post('/api/v1/auth/logout', { refreshToken: refreshed.body.refreshToken }, { token: refreshed.body.accessToken })).status).toBe(401);
  });

  it("needs a signed-in caller, and cannot end someone else's session", async () => {
    const user = await signUp(t);
    const intruder = await signUp(t);
    expect((await t.post('/api/v1/auth/logout', { refreshToken: user.refreshToken })).status).toBe(401);
    expect((await t.post('/api/v1/auth/logout', { refreshToken: user.refreshToken }, { token: intruder.accessToken })).status).toBe(204);
    expect((await t.post('/api/v1/auth/refresh', { refreshToken: user.refreshToken })).status).toBe(200);
  });
});

describe('rate limit per client IP on /auth', () => {
  it('answers the fourth /auth call in a minute from one IP with 429, while another IP goes through', async () => {
    const limitedApp = await t.restart({ ...fastHashingEnv, RATE_LIMIT_AUTH_PER_MIN: '3' }, modules);
    try {
      await proveIpLimit(limitedApp);
    } finally {
      await limitedApp.close();
    }
  });
});

async function proveIpLimit(t: TestApp) {
  {
    const from = (ip: string) => ({ headers: { 'x-forwarded-for': ip } });
    const body = { email: uniqueEmail(), password: 'Wrong-guess-1' };
    for (let i = 0; i < 3; i++) expect((await t.post('/api/v1/auth/login', body, from('203.0.113.7'))).status).toBe(401);
    const limited = await t.post('/api/v1/auth/refresh', { refreshToken: 'rt_x' }, from('203.0.113.7'));
    expect(limited.status).toBe(429);
    expect(limited.headers['content-type']).toContain('application/problem+json');
    expect(Number(limited.headers['retry-after'])).toBeGreaterThan(0);
    // Even a malformed body counts: the limit applies before parsing.
    expect((await t.post('/api/v1/auth/login', { nonsense: true }, from('203.0.113.7'))).status).toBe(429);

    expect((await t.post('/api/v1/auth/login', body, from('198.51.100.9'))).status).toBe(401);
    // Routes outside /auth are not limited by this rule.
    expect((await t.get('/api/v1/sellers/00000000-0000-7000-8000-000000000000', from('203.0.113.7'))).status).toBe(404);
  }
}
