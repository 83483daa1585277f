import { Type } from '@sinclair/typebox';
import type { FastifyRequest } from 'fastify';
import { principalOf, requirePermission, requireUser, type Principal } from '../../kernel/http/auth.ts';
import { badRequest, notFound } from '../../kernel/http/problem.ts';
import { rateLimit } from '../../kernel/http/rate-limit.ts';
import { decodeCursor, encodeCursor, errorResponses, IdParams, ListQuery } from '../../kernel/http/schemas.ts';
import { contextForWork, type HttpApp, type ModuleContext } from '../../kernel/module.ts';
import { CART_PORT, type CartPort } from '../cart/contract.ts';
import * as accounts from './accounts.ts';
import { createAddress, removeAddress, updateAddress } from './addresses.ts';
import { createLoginThrottle } from './login-throttle.ts';
import {
  Address,
  AddressInput,
  AddressPatch,
  addressView,
  AuthResult,
  Email,
  Password,
  PersonName,
  RefreshTokenBody,
  RoleName,
  SellerProfile,
  sellerView,
  StoreName,
  User,
  userView,
} from './schemas.ts';
import { changeSellerStatus, findSeller, updateOwnSellerProfile } from './sellers.ts';
import type { SignedIn } from './accounts.ts';
import type { ClientInfo } from './sessions.ts';
import * as store from './store.ts';

const NoContent = Type.Null({ description: 'No content' });
const bearer = [{ bearer: [] }];

function clientOf(request: FastifyRequest): ClientInfo {
  const agent = request.headers['user-agent'];
  return { ip: request.ip, userAgent: typeof agent === 'string' ? agent : undefined };
}

/** `/users/me` works wherever a user id does. */
function userIdParam(principal: Principal, id: string): string {
  return id === 'me' ? principal.userId : id;
}

function signedInView({ user, ...tokens }: SignedIn) {
  return { user: userView(user), ...tokens };
}

export function identityRoutes(app: HttpApp, ctx: ModuleContext) {
  /**
   * A guest who signs in or up with `X-Cart-Token` keeps their cart (API: Cart). Best effort: the
   * cart module may not run in this process, and a failed merge must not fail the sign-in; the
   * client's next signed-in cart call carrying the token merges it then.
   */
  async function mergeGuestCart(request: FastifyRequest, userId: string): Promise<void> {
    const token = request.headers['x-cart-token'];
    if (typeof token !== 'string' || token.length === 0 || token.length > 200) return;
    let cart: CartPort;
    try {
      cart = ctx.ports.get<CartPort>(CART_PORT);
    } catch {
      return;
    }
    try {
      await cart.mergeGuestCart(token, userId);
    } catch (error) {
      request.log.warn({ err: error }, 'merging the guest cart at sign-in failed; the next cart call will');
    }
  }

  const throttle = createLoginThrottle(ctx.cache, { maxFailures: ctx.config.LOGIN_MAX_FAILURES, lockMinutes: ctx.config.LOGIN_LOCK_MINUTES, logger: ctx.logger });

  // --- /auth: anonymous, so every call is limited per client IP, before its body is even parsed ---
  app.register(async (plugin) => {
    const auth = plugin as unknown as HttpApp;
    auth.addHook('onRequest', rateLimit(ctx.cache, { name: 'auth', max: ctx.config.RATE_LIMIT_AUTH_PER_MIN, windowMs: 60_000 }));

    auth.post('/auth/signup', {
      schema: {
        tags: ['identity'],
        summary: 'Create an account (customer or seller) and sign in',
        body: Type.Object(
          {
            email: Email,
            password: Password,
            name: PersonName,
            role: Type.Optional(Type.Union([Type.Literal('customer'), Type.Literal('seller')], { default: 'customer' })),
            storeName: Type.Optional(StoreName),
          },
          { additionalProperties: false },
        ),
        response: { 201: AuthResult, ...errorResponses(400, 409, 413, 429) },
      },
    }, async (request, reply) => {
      const signedIn = await accounts.signUp(contextForWork(ctx, request.work), request.body, clientOf(request));
      await mergeGuestCart(request, signedIn.user.id);
      return reply.status(201).send(signedInView(signedIn));
    });

    auth.post('/auth/login', {
      schema: {
        tags: ['identity'],
        summary: 'Sign in with email and password',
        body: Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }), password: Password }, { additionalProperties: false }),
        response: { 200: AuthResult, ...errorResponses(400, 401, 429) },
      },
    }, async (request) => {
      const signedIn = await accounts.logIn(contextForWork(ctx, request.work), throttle, request.body, clientOf(request));
      await mergeGuestCart(request, signedIn.user.id);
      return signedInView(signedIn);
    });

    auth.post('/auth/refresh', {
      schema: {
        tags: ['identity'],
        summary: 'Trade a refresh token for a new pair; the old refresh token stops working',
        body: RefreshTokenBody,
        response: { 200: AuthResult, ...errorResponses(400, 401, 429) },
      },
    }, async (request) => signedInView(await accounts.refresh(contextForWork(ctx, request.work), request.body.refreshToken)));

    auth.post('/auth/logout', {
      preHandler: requireUser,
      schema: {
        tags: ['identity'],
        summary: 'End the session the refresh token belongs to',
        security: bearer,
        body: RefreshTokenBody,
        response: { 204: NoContent, ...errorResponses(400, 401, 429) },
      },
    }, async (request, reply) => {
      await accounts.logOut(contextForWork(ctx, request.work), principalOf(request), request.body.refreshToken);
      return reply.status(204).send(null);
    });
  });

  // --- users ---

  app.get('/users/me', {
    preHandler: requireUser,
    schema: { tags: ['identity'], summary: 'The signed-in user', security: bearer, response: { 200: User, ...errorResponses(401, 404) } },
  }, async (request) => {
    const principal = principalOf(request);
    return userView(await accounts.visibleUser(ctx, principal, principal.userId));
  });

  app.get('/users/me/export', {
    preHandler: requireUser,
    schema: {
      tags: ['identity'],
      summary: 'Everything identity holds about the signed-in user (GDPR access)',
      security: bearer,
      response: {
        200: Type.Object({
          exportedAt: Type.String({ format: 'date-time' }),
          user: User,
          addresses: Type.Array(Address),
          sessions: Type.Array(Type.Object({
            id: Type.String(),
            createdAt: Type.String({ format: 'date-time' }),
            lastUsedAt: Type.String({ format: 'date-time' }),
            revokedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
            revokedReason: Type.Union([Type.String(), Type.Null()]),
            userAgent: Type.Union([Type.String(), Type.Null()]),
            ip: Type.Union([Type.String(), Type.Null()]),
          })),
          auditEntries: Type.Array(Type.Object({
            id: Type.String(),
            at: Type.String({ format: 'date-time' }),
            action: Type.String(),
            targetType: Type.String(),
            targetId: Type.Union([Type.String(), Type.Null()]),
            details: Type.Record(Type.String(), Type.Unknown()),
          })),
        }),
        ...errorResponses(401, 404),
      },
    },
  }, async (request) => {
    const data = await accounts.exportUserData(ctx, principalOf(request).userId);
    return {
      exportedAt: new Date().toISOString(),
      user: userView(data.user),
      addresses: data.addresses.map((a) => addressView(a, ctx.secrets)),
      sessions: data.sessions,
      auditEntries: data.auditEntries,
    };
  });

  app.delete('/users/me', {
    preHandler: requireUser,
    schema: {
      tags: ['identity'],
      summary: 'Erase the signed-in account: anonymised, signed out everywhere (GDPR erasure)',
      security: bearer,
      response: { 204: NoContent, ...errorResponses(401, 404, 409) },
    },
  }, async (request, reply) => {
    const principal = principalOf(request);
    await accounts.deleteUser(contextForWork(ctx, request.work), principal, principal.userId);
    return reply.status(204).send(null);
  });

  app.get('/users/:id', {
    preHandler: requireUser,
    schema: { tags: ['identity'], summary: 'A user: yourself, or anyone for staff who may read users', security: bearer, params: IdParams, response: { 200: User, ...errorResponses(401, 404) } },
  }, async (request) => {
    const principal = principalOf(request);
    return userView(await accounts.visibleUser(ctx, principal, userIdParam(principal, request.params.id)));
  });

  app.patch('/users/:id', {
    preHandler: requireUser,
    schema: {
      tags: ['identity'],
      summary: 'Change name, email or password (the password needs the current one)',
      security: bearer,
      params: IdParams,
      body: Type.Object(
        {
          name: Type.Optional(PersonName),
          email: Type.Optional(Email),
          password: Type.Optional(Password),
          currentPassword: Type.Optional(Password),
        },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: User, ...errorResponses(400, 401, 403, 404, 409, 429) },
    },
  }, async (request) => {
    const principal = principalOf(request);
    return userView(await accounts.updateUser(contextForWork(ctx, request.work), throttle, principal, userIdParam(principal, request.params.id), request.body));
  });

  // --- admin ---

  app.get('/admin/users', {
    preHandler: requirePermission('users:read-any'),
    schema: {
      tags: ['identity'],
      summary: 'Users, newest first; q matches email, name or store name',
      security: bearer,
      querystring: Type.Object({ ...ListQuery, q: Type.Optional(Type.String({ maxLength: 100 })) }),
      response: { 200: Type.Object({ items: Type.Array(User), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401, 403) },
    },
  }, async (request) => {
    const { limit, cursor, q } = request.query;
    const before = decodeCursor(cursor, 1)?.[0];
    if (before !== undefined && (typeof before !== 'string' || !store.isUuid(before))) {
      throw badRequest('The cursor is not valid', [{ path: 'querystring:/cursor', message: 'is not a cursor this API issued' }]);
    }
    const rows = await store.listUsers(ctx.db, { limit: limit + 1, before, q: q?.trim() || undefined });
    const items = rows.slice(0, limit);
    const last = items[items.length - 1];
    return { items: items.map(userView), nextCursor: rows.length > limit && last ? encodeCursor([last.id]) : null };
  });

  app.put('/admin/users/:id/roles', {
    preHandler: requirePermission('roles:manage'),
    schema: {
      tags: ['identity'],
      summary: "Replace a user's roles",
      security: bearer,
      params: IdParams,
      body: Type.Object({ roles: Type.Array(RoleName, { minItems: 1, maxItems: 7, uniqueItems: true }) }, { additionalProperties: false }),
      response: { 200: User, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (request) => userView(await accounts.setUserRoles(contextForWork(ctx, request.work), principalOf(request), request.params.id, request.body.roles)));

  app.delete('/admin/users/:id', {
    preHandler: requirePermission('users:manage'),
    schema: {
      tags: ['identity'],
      summary: "Erase a user's account (GDPR erasure on their behalf)",
      security: bearer,
      params: IdParams,
      response: { 204: NoContent, ...errorResponses(401, 403, 404, 409) },
    },
  }, async (request, reply) => {
    await accounts.deleteUser(contextForWork(ctx, request.work), principalOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  // --- sellers ---

  app.get('/sellers/me', {
    preHandler: requirePermission('sellers:edit-own-profile'),
    schema: { tags: ['identity'], summary: "The signed-in seller's store", security: bearer, response: { 200: SellerProfile, ...errorResponses(401, 403, 404) } },
  }, async (request) => sellerView(await findSeller(ctx, principalOf(request).userId), { private: true }));

  app.patch('/sellers/me', {
    preHandler: requirePermission('sellers:edit-own-profile'),
    schema: {
      tags: ['identity'],
      summary: "Edit the signed-in seller's store name and description",
      security: bearer,
      body: Type.Object(
        { storeName: Type.Optional(StoreName), description: Type.Optional(Type.String({ maxLength: 2000 })) },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: SellerProfile, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => sellerView(await updateOwnSellerProfile(contextForWork(ctx, request.work), principalOf(request), request.body), { private: true }));

  app.get('/sellers/:id', {
    schema: { tags: ['identity'], summary: "A seller's public profile", params: IdParams, response: { 200: SellerProfile, ...errorResponses(404) } },
  }, async (request) => sellerView(await findSeller(ctx, request.params.id)));

  app.post('/admin/sellers/:id/suspend', {
    preHandler: requirePermission('sellers:manage'),
    schema: {
      tags: ['identity'],
      summary: 'Suspend a seller: their products stop selling',
      security: bearer,
      params: IdParams,
      body: Type.Object({ reason: Type.String({ minLength: 1, maxLength: 500 }) }, { additionalProperties: false }),
      response: { 200: SellerProfile, ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request) => sellerView(await changeSellerStatus(contextForWork(ctx, request.work), principalOf(request), request.params.id, 'suspended', request.body.reason), { private: true }));

  app.post('/admin/sellers/:id/reinstate', {
    preHandler: requirePermission('sellers:manage'),
    schema: {
      tags: ['identity'],
      summary: 'Lift a seller suspension',
      security: bearer,
      params: IdParams,
      response: { 200: SellerProfile, ...errorResponses(401, 403, 404) },
    },
  }, async (request) => sellerView(await changeSellerStatus(contextForWork(ctx, request.work), principalOf(request), request.params.id, 'active'), { private: true }));

  // --- saved addresses ---

  const AddressParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

  app.get('/users/me/addresses', {
    preHandler: requireUser,
    schema: {
      tags: ['identity'],
      summary: 'Saved addresses (at most 50, so one page)',
      security: bearer,
      response: { 200: Type.Object({ items: Type.Array(Address), nextCursor: Type.Null() }), ...errorResponses(401) },
    },
  }, async (request) => {
    const addresses = await store.listAddresses(ctx.db, principalOf(request).userId);
    return { items: addresses.map((a) => addressView(a, ctx.secrets)), nextCursor: null };
  });

  app.post('/users/me/addresses', {
    preHandler: requireUser,
    schema: { tags: ['identity'], summary: 'Save an address', security: bearer, body: AddressInput, response: { 201: Address, ...errorResponses(400, 401, 409) } },
  }, async (request, reply) => {
    const principal = principalOf(request);
    if ((await store.findUserById(ctx.db, principal.userId))?.status !== 'active') throw notFound('User');
    const address = await createAddress(contextForWork(ctx, request.work), principal.userId, request.body);
    return reply.status(201).send(addressView(address, ctx.secrets));
  });

  app.patch('/users/me/addresses/:id', {
    preHandler: requireUser,
    schema: { tags: ['identity'], summary: 'Change a saved address', security: bearer, params: AddressParams, body: AddressPatch, response: { 200: Address, ...errorResponses(400, 401, 404) } },
  }, async (request) => addressView(await updateAddress(contextForWork(ctx, request.work), principalOf(request).userId, request.params.id, request.body), ctx.secrets));

  app.delete('/users/me/addresses/:id', {
    preHandler: requireUser,
    schema: { tags: ['identity'], summary: 'Forget a saved address', security: bearer, params: AddressParams, response: { 204: NoContent, ...errorResponses(401, 404) } },
  }, async (request, reply) => {
    await removeAddress(contextForWork(ctx, request.work), principalOf(request).userId, request.params.id);
    return reply.status(204).send(null);
  });
}
