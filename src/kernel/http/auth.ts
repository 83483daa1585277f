import type { FastifyInstance, FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import fp from 'fastify-plugin';
import type { TokenService } from '../auth/tokens.ts';
import { can, type Permission } from '../auth/permissions.ts';
import { forbidden, unauthorized } from './problem.ts';

export interface Principal {
  userId: string;
  roles: string[];
  sessionId: string;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** Set when the request carries a valid access token; absent for anonymous requests. */
    principal?: Principal;
  }
}

/**
 * Reads `Authorization: Bearer` on every request. A missing token leaves the request anonymous; a
 * present but invalid one is a 401 straight away, so a client learns its token expired.
 */
export const authentication = fp(async (app: FastifyInstance, opts: { tokens: TokenService }) => {
  app.decorateRequest('principal', undefined);
  app.addHook('onRequest', async (request) => {
    const header = request.headers.authorization;
    if (!header) return;
    const [scheme, token] = header.split(' ');
    if (scheme?.toLowerCase() !== 'bearer' || !token) throw unauthorized('Malformed Authorization header');
    const claims = await opts.tokens.verifyAccess(token);
    if (!claims) throw unauthorized('Invalid or expired access token');
    request.principal = claims;
  });
});

export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw unauthorized();
  return request.principal;
}

/** preHandler: any signed-in user. */
export const requireUser: preHandlerAsyncHookHandler = async (request) => {
  principalOf(request);
};

/** preHandler: a signed-in user holding a role that grants `permission` (see auth/permissions.ts). */
export function requirePermission(permission: Permission): preHandlerAsyncHookHandler {
  return async (request) => {
    const principal = principalOf(request);
    if (!can(principal.roles, permission)) throw forbidden();
  };
}

export function hasPermission(request: FastifyRequest, permission: Permission): boolean {
  return !!request.principal && can(request.principal.roles, permission);
}
