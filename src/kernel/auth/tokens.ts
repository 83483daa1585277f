import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
import { LRUCache } from 'lru-cache';
import type { Config } from '../config.ts';
import { loadOrCreateKeyFile } from '../crypto.ts';

export interface AccessClaims {
  userId: string;
  roles: string[];
  sessionId: string;
}

export interface TokenService {
  signAccess(claims: AccessClaims): Promise<string>;
  /** Returns null for any token that is not a valid, unexpired access token of ours. */
  verifyAccess(token: string): Promise<AccessClaims | null>;
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

export function createTokenService(key: Uint8Array, accessTtlSeconds: number): TokenService {
  // A signature check costs more than the rest of a cart request's own work (WebCrypto imports the key
  // on every call). A token's validity never changes until it expires, so a token seen valid is trusted
  // again until its `exp` without re-checking; entries are evicted by count, and checked for expiry on use.
  const verified = new LRUCache<string, { claims: AccessClaims; expiresAtMs: number }>({ max: 20_000 });
  return {
    accessTtlSeconds,
    async signAccess({ userId, roles, sessionId }) {
      return new SignJWT({ roles, sid: sessionId, typ: 'access' })
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
        if (known.expiresAtMs > Date.now()) return known.claims;
        verified.delete(token);
        return null;
      }
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (payload.typ !== 'access' || typeof payload.sub !== 'string' || typeof payload.exp !== 'number') return null;
        const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
        const claims = { userId: payload.sub, roles, sessionId: String(payload.sid ?? '') };
        verified.set(token, { claims, expiresAtMs: payload.exp * 1000 });
        return claims;
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) return null;
        throw error;
      }
    },
  };
}
