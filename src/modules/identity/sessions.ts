import { createHash, randomBytes } from 'node:crypto';
import type { Db } from '../../kernel/db/database.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { insertRefreshToken, insertSession } from './store.ts';

/**
 * Sessions and their refresh tokens. A refresh token is 256 random bits, shown to the client once and
 * stored only as its SHA-256; each use rotates it. The tokens rotated from one sign-in form a family
 * (the session): presenting one that was already rotated means it leaked, so the whole family dies.
 */

export interface ClientInfo {
  ip?: string;
  userAgent?: string;
}

export interface TokenPair {
  accessToken: string;
  refreshToken: string;
  tokenType: 'Bearer';
  /** Seconds the access token is valid for. */
  expiresIn: number;
}

const REFRESH_PREFIX = 'rt_';

export const hashRefreshToken = (token: string): string => createHash('sha256').update(token).digest('hex');

function newRefreshToken(): string {
  return REFRESH_PREFIX + randomBytes(32).toString('base64url');
}

function refreshExpiry(ctx: ModuleContext): Date {
  return new Date(Date.now() + ctx.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
}

/** Starts a session (a sign-in) in the caller's transaction and returns its first refresh token. */
export async function startSession(ctx: ModuleContext, tx: Db, userId: string, client: ClientInfo): Promise<{ sessionId: string; refreshToken: string }> {
  const sessionId = newId();
  await insertSession(tx, { id: sessionId, userId, ip: client.ip, userAgent: client.userAgent?.slice(0, 300) });
  const refreshToken = await addRefreshToken(ctx, tx, sessionId);
  return { sessionId, refreshToken };
}

/** The next refresh token of an existing session. */
export async function addRefreshToken(ctx: ModuleContext, tx: Db, sessionId: string): Promise<string> {
  const refreshToken = newRefreshToken();
  await insertRefreshToken(tx, { tokenHash: hashRefreshToken(refreshToken), sessionId, expiresAt: refreshExpiry(ctx) });
  return refreshToken;
}

export async function tokenPair(ctx: ModuleContext, claims: { userId: string; roles: string[]; sessionId: string }, refreshToken: string): Promise<TokenPair> {
  return {
    accessToken: await ctx.tokens.signAccess(claims),
    refreshToken,
    tokenType: 'Bearer',
    expiresIn: ctx.tokens.accessTtlSeconds,
  };
}
