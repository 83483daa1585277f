import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, describe, expect, it, vi } from 'vitest';
import type { Cache } from '../cache/cache.ts';
import { createMemoryCache } from '../cache/memory-cache.ts';
import { createRedisCache } from '../cache/redis-cache.ts';
import { loadConfig } from '../config.ts';
import { createTokenService, loadSigningKey } from './tokens.ts';

const key = randomBytes(32);
const tokens = createTokenService(key, 900);
const claims = { userId: 'user-1', roles: ['seller', 'customer'], sessionId: 'session-1' };

/** A token like ours, with one thing changed. */
function forge(overrides: { payload?: Record<string, unknown>; alg?: string; key?: Uint8Array; exp?: number; iss?: string; sub?: string | null } = {}) {
  const jwt = new SignJWT({ roles: claims.roles, sid: claims.sessionId, typ: 'access', ...overrides.payload })
    .setProtectedHeader({ alg: overrides.alg ?? 'HS256' })
    .setIssuer(overrides.iss ?? 'bazaar')
    .setIssuedAt()
    .setExpirationTime(overrides.exp ?? '15m');
  if (overrides.sub !== null) jwt.setSubject(overrides.sub ?? claims.userId);
  return jwt.sign(overrides.key ?? key);
}

describe('access tokens', () => {
  it('verify to the claims they were signed with', async () => {
    const token = await tokens.signAccess(claims);
    expect(await tokens.verifyAccess(token)).toEqual(claims);
    expect(tokens.accessTtlSeconds).toBe(900);
  });

  it('expire after their lifetime', async () => {
    const expired = await forge({ exp: Math.floor(Date.now() / 1000) - 5 });
    expect(await tokens.verifyAccess(expired)).toBeNull();
    // A well-formed, unexpired forgery with the same key passes: the helper itself is sound.
    expect(await tokens.verifyAccess(await forge())).toEqual(claims);
  });

  it('expire after their lifetime even once verified (the verified-token cache keeps their expiry)', async () => {
    const shortLived = createTokenService(key, 2);
    const token = await shortLived.signAccess(claims);
    expect(await shortLived.verifyAccess(token)).toEqual(claims);
    vi.useFakeTimers({ now: Date.now() + 3_000, toFake: ['Date'] });
    try {
      expect(await shortLived.verifyAccess(token)).toBeNull();
    } finally {
      vi.useRealTimers();
    }
  });

  it('are rejected when signed with another key', async () => {
    const other = await createTokenService(randomBytes(32), 900).signAccess(claims);
    expect(await tokens.verifyAccess(other)).toBeNull();
  });

  it('are rejected with another algorithm, or none', async () => {
    expect(await tokens.verifyAccess(await forge({ alg: 'HS512' }))).toBeNull();
    const unsigned = new UnsecuredJWT({ roles: ['admin'], sid: 's', typ: 'access' }).setSubject('intruder').setIssuer('bazaar').setExpirationTime('15m').encode();
    expect(await tokens.verifyAccess(unsigned)).toBeNull();
  });

  it('are rejected when they are not access tokens of ours', async () => {
    expect(await tokens.verifyAccess(await forge({ payload: { typ: 'refresh' } }))).toBeNull();
    expect(await tokens.verifyAccess(await forge({ payload: { typ: undefined } }))).toBeNull();
    expect(await tokens.verifyAccess(await forge({ iss: 'someone-else' }))).toBeNull();
    expect(await tokens.verifyAccess(await forge({ sub: null }))).toBeNull();
  });

  it('are rejected when tampered with or malformed', async () => {
    const token = await tokens.signAccess(claims);
    const [header, payload, signature] = token.split('.');
    const escalated = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(payload!, 'base64url').toString()), roles: ['admin'] })).toString('base64url');
    expect(await tokens.verifyAccess(`${header}.${escalated}.${signature}`)).toBeNull();
    for (const junk of ['', 'abc', 'a.b.c', `${token}x`]) expect(await tokens.verifyAccess(junk)).toBeNull();
  });

  it('keep only string roles', async () => {
    const token = await forge({ payload: { roles: ['seller', 42, { admin: true }] } });
    expect(await tokens.verifyAccess(token)).toEqual({ ...claims, roles: ['seller'] });
  });
});

describe('refusing issued access tokens (sign-out, new password, role change, erasure)', () => {
  const sessionA = { userId: 'user-a', roles: ['customer'], sessionId: 'session-a1' };
  const otherSession = { ...sessionA, sessionId: 'session-a2' };
  const otherUser = { userId: 'user-b', roles: ['customer'], sessionId: 'session-b1' };

  it("refuses a session's tokens issued until then, even ones already verified, and nobody else's", async () => {
    const service = createTokenService(key, 900);
    const [mine, mySecond, theirs] = await Promise.all([service.signAccess(sessionA), service.signAccess(otherSession), service.signAccess(otherUser)]);
    expect(await service.verifyAccess(mine)).toEqual(sessionA);
    await service.refuseIssued({ sessionIds: [sessionA.sessionId] });
    expect(await service.verifyAccess(mine)).toBeNull();
    expect(await service.verifyAccess(mySecond)).toEqual(otherSession);
    expect(await service.verifyAccess(theirs)).toEqual(otherUser);
  });

  it("refuses all of a user's tokens issued until then, and accepts the ones issued after (a refresh with new roles)", async () => {
    const service = createTokenService(key, 900);
    const before = await Promise.all([service.signAccess(sessionA), service.signAccess(otherSession)]);
    await service.refuseIssued({ userId: sessionA.userId });
    for (const token of before) expect(await service.verifyAccess(token)).toBeNull();
    // Issued in the same second as the cut-off (even the same millisecond), yet after it: accepted.
    const after = await service.signAccess({ ...sessionA, roles: ['customer', 'seller'] });
    expect(await service.verifyAccess(after)).toEqual({ ...sessionA, roles: ['customer', 'seller'] });
  });

  it('tells tokens signed just before a cut-off from those signed just after, within one millisecond', async () => {
    const service = createTokenService(key, 900);
    vi.useFakeTimers({ now: Date.now(), toFake: ['Date'] });
    try {
      const before = await service.signAccess(sessionA);
      await service.refuseIssued({ sessionIds: [sessionA.sessionId] });
      const after = await service.signAccess(sessionA);
      expect(await service.verifyAccess(before)).toBeNull();
      expect(await service.verifyAccess(after)).toEqual(sessionA);
    } finally {
      vi.useRealTimers();
    }
  });

  it('refuses a token from before the cut-off that carries only the whole-second iat (issued by an older version)', async () => {
    const service = createTokenService(key, 900);
    const legacy = await forge({ sub: sessionA.userId, payload: { sid: sessionA.sessionId } });
    expect(await service.verifyAccess(legacy)).not.toBeNull();
    await service.refuseIssued({ sessionIds: [sessionA.sessionId] });
    expect(await service.verifyAccess(legacy)).toBeNull();
  });

  it.each([
    ['an in-process cache', () => createMemoryCache()],
    ['Redis', () => createRedisCache(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', `test:tokens:${randomBytes(4).toString('hex')}:`)],
  ])("reaches another instance through a shared cache (%s) within a second", async (_name, open: () => Cache) => {
    const shared = open();
    try {
      const here = createTokenService(key, 900, { sharedCache: shared });
      const there = createTokenService(key, 900, { sharedCache: shared });
      const token = await here.signAccess(sessionA);
      expect(await there.verifyAccess(token)).toEqual(sessionA);
      await here.refuseIssued({ sessionIds: [sessionA.sessionId] });
      expect(await here.verifyAccess(token)).toBeNull();
      await vi.waitFor(async () => expect(await there.verifyAccess(token)).toBeNull(), { timeout: 3_000, interval: 100 });
      // A fresh instance learns of it on its first look.
      expect(await createTokenService(key, 900, { sharedCache: shared }).verifyAccess(token)).toBeNull();
    } finally {
      await shared.deletePrefix('');
      await shared.close();
    }
  });

  it("still applies its own revocations, and accepts other tokens, when the shared cache is down", async () => {
    const broken = createMemoryCache();
    const failing = { ...broken, get: async () => { throw new Error('cache down'); }, set: async () => { throw new Error('cache down'); } } as Cache;
    const warnings: string[] = [];
    const logger = { warn: (_: unknown, message: string) => warnings.push(message) } as never;
    const service = createTokenService(key, 900, { sharedCache: failing, logger });
    const [mine, theirs] = await Promise.all([service.signAccess(sessionA), service.signAccess(otherUser)]);
    await service.refuseIssued({ sessionIds: [sessionA.sessionId] });
    expect(await service.verifyAccess(mine)).toBeNull();
    expect(await service.verifyAccess(theirs)).toEqual(otherUser);
    expect(warnings.length).toBeGreaterThan(0);
  });
});

describe('the signing key', () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'bazaar-jwt-'));
  afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

  it('comes from JWT_SECRET when set, so every instance shares it', async () => {
    const secret = 's'.repeat(40);
    const a = createTokenService(loadSigningKey(loadConfig({ JWT_SECRET: secret, DATA_DIR: dataDir })), 900);
    const b = createTokenService(loadSigningKey(loadConfig({ JWT_SECRET: secret, DATA_DIR: 'memory://' })), 900);
    expect(await b.verifyAccess(await a.signAccess(claims))).toEqual(claims);
  });

  it('is generated once under DATA_DIR and reused on the next start', async () => {
    const config = loadConfig({ DATA_DIR: dataDir });
    const token = await createTokenService(loadSigningKey(config), 900).signAccess(claims);
    expect(await createTokenService(loadSigningKey(config), 900).verifyAccess(token)).toEqual(claims);
  });

  it('lives only as long as the process with a memory data dir', async () => {
    const config = loadConfig({ DATA_DIR: 'memory://' });
    const token = await createTokenService(loadSigningKey(config), 900).signAccess(claims);
    expect(await createTokenService(loadSigningKey(config), 900).verifyAccess(token)).toBeNull();
  });
});
