import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, UnsecuredJWT } from 'jose';
import { afterAll, describe, expect, it, vi } from 'vitest';
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
