import { randomBytes } from 'node:crypto';
import { SignJWT, jwtVerify, errors as joseErrors } from 'jose';
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
      try {
        const { payload } = await jwtVerify(token, key, { issuer: ISSUER, algorithms: ['HS256'] });
        if (payload.typ !== 'access' || typeof payload.sub !== 'string') return null;
        const roles = Array.isArray(payload.roles) ? payload.roles.filter((r): r is string => typeof r === 'string') : [];
        return { userId: payload.sub, roles, sessionId: String(payload.sid ?? '') };
      } catch (error) {
        if (error instanceof joseErrors.JOSEError) return null;
        throw error;
      }
    },
  };
}
