import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Logger } from 'pino';
import type { Cache } from '../cache/cache.ts';
import type { Config } from '../config.ts';
import { loadOrCreateKeyFile } from '../crypto.ts';

export interface AccessClaims {
  userId: string;
  roles: string[];
  sessionId: string;
}

export interface TokenService {
  signAccess(claims: AccessClaims): Promise<string>;
  /**
   * Returns null for any token that is not a valid, unexpired access token of ours, or that was
   * issued before `refuseIssued` cut off its session or user.
   */
  verifyAccess(token: string): Promise<AccessClaims | null>;
  /**
   * Refuses, from now on, the access tokens issued until now for these sessions (they ended: logout,
   * a new password, erasure) or for this user (their roles changed: a refresh gets the new ones).
   * At once on this instance; on the others within a second when the instances share a cache.
   */
  refuseIssued(until: { sessionIds?: readonly string[]; userId?: string }): Promise<void>;
  accessTtlSeconds: number;
}

const ISSUER = 'bazaar';

/**
 * The signing key comes from JWT_SECRET; without it a key is generated once and kept under DATA_DIR,
 * so tokens survive a restart. With DATA_DIR=memory:// the key lives as long as the process.
 */
export function loadSigningKey(config: Config): Uint8Array {
  if (config.JWT_SECRET) return new TextEncoder().encode(config.JWT_SECRET);
  if (config.dataDirIsMemory) return randomBytes(32);
  return loadOrCreateKeyFile(config.DATA_DIR, 'jwt-secret');
}

export function createTokenService(
  key: Uint8Array,
  accessTtlSeconds: number,
  options: { sharedCache?: Cache; logger?: Logger } = {},
): TokenService {
  // A signature check costs more than the rest of a cart request's own work (WebCrypto imports the key
  // on every call). A signature stays valid until the token expires, so a token seen valid is trusted
  // again until its `exp` without re-checking (revocations are checked every time); entries are
  // evicted by count, and checked for expiry on use.
  const verified = new LRUCache<string, { claims: AccessClaims; expiresAtMs: number; issuedAtMs: number }>({ max: 20_000 });
  const revocations = createRevocations(accessTtlSeconds * 1000, options.sharedCache, options.logger);
  // A token signed here after a cut-off must count as issued after it, even within the same millisecond.
  let latestCutoffMs = 0;

  async function refused(claims: AccessClaims, issuedAtMs: number): Promise<boolean> {
    const [bySession, byUser] = await Promise.all([revocations.cutoff(`s:${claims.sessionId}`), revocations.cutoff(`u:${claims.userId}`)]);
    return issuedAtMs <= Math.max(bySession, byUser);
  }

  return {
    accessTtlSeconds,
    async refuseIssued({ sessionIds = [], userId }) {
      const at = Date.now();
      latestCutoffMs = Math.max(latestCutoffMs, at);
      await revocations.refuse([...sessionIds.map((id) => `s:${id}`), ...(userId ? [`u:${userId}`] : [])], at);
    },
    async signAccess({ userId, roles, sessionId }) {
      // `iat` counts whole seconds; a revocation cut-off needs to tell a token issued just before it
      // from the one a refresh issues just after.
      return new SignJWT({ roles, sid: sessionId, typ: 'access', iat_ms: Math.max(Date.now(), latestCutoffMs + 1) })
        .setProtectedHeader({ alg: 'HS256' })
        .setSubject(userId)
        .setIssuer(ISSUER)
        .setIssuedAt()
        .setExpirationTime(`${accessTtlSeconds}s`)
        .sign(key);
    },
    async verifyAccess(token) {
      const known = verified.get(token);
      if (known) {
        if (known.expiresAtMs > Date.now()) return (await refused(known.claims, known.issuedAtMs)) ? null : known.claims;
        verified.delete(token);
        return null;
      }
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
        const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
        const claims = { userId: payload.sub, roles, sessionId: String(payload.sid ?? '') };
        // A token without `iat_ms` counts as issued at the start of its `iat` second (or never, without one).
        const issuedAtMs = typeof payload.iat_ms === 'number' ? payload.iat_ms : typeof payload.iat === 'number' ? payload.iat * 1000 : 0;
        verified.set(token, { claims, expiresAtMs: payload.exp * 1000, issuedAtMs });
        return (await refused(claims, issuedAtMs)) ? null : claims;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) return null;
        throw error;
      }
    },
  };
}

/** How long another instance's revocation may take to reach this one (with a shared cache). */
const RECHECK_MS = 1_000;

/**
 * Cut-offs (ms) before which access tokens of a session (`s:<id>`) or user (`u:<id>`) are refused,
 * each kept as long as a token lives. This instance's own are kept apart from the general cache, so
 * that no amount of other caching can evict one. With a shared cache (Redis) they are also written
 * there, and other instances' are read from it at most once a second per key. When the shared cache
 * cannot be read, only this instance's revocations apply (logged): refusing every token would sign
 * every user out for the length of a cache outage.
 */
function createRevocations(ttlMs: number, shared: Cache | undefined, logger: Logger | undefined) {
  const own = new LRUCache<string, number>({ max: 200_000, ttl: ttlMs });
  const lookedUp = new LRUCache<string, number>({ max: 100_000, ttl: RECHECK_MS });
  let warnedAt = 0;
  const warn = (error: unknown, message: string) => {
    if (Date.now() - warnedAt < 60_000) return;
    warnedAt = Date.now();
    logger?.warn({ err: error }, message);
  };
  return {
    async cutoff(key: string): Promise<number> {
      const mine = own.get(key) ?? 0;
      if (!shared) return mine;
      let theirs = lookedUp.get(key);
      if (theirs === undefined) {
        try {
          theirs = (await shared.get<number>(`auth:refused:${key}`)) ?? 0;
        } catch (error) {
          warn(error, "token revocations could not be read from the shared cache; only this instance's apply");
          theirs = 0;
        }
        lookedUp.set(key, theirs);
      }
      return Math.max(mine, theirs);
    },
    async refuse(keys: string[], at: number): Promise<void> {
      for (const key of keys) {
        own.set(key, Math.max(at, own.get(key) ?? 0));
        lookedUp.delete(key);
      }
      if (!shared) return;
      try {
        await Promise.all(keys.map((key) => shared.set(`auth:refused:${key}`, at, ttlMs)));
      } catch (error) {
        warn(error, 'token revocations could not be written to the shared cache; other instances accept those tokens until they expire');
      }
    },
  };
}
