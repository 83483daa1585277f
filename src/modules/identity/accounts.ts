import { listAuditEntriesByActor } from '../../kernel/audit.ts';
import { can, type Role } from '../../kernel/auth/permissions.ts';
import type { Db } from '../../kernel/db/database.ts';
import type { Principal } from '../../kernel/http/auth.ts';
import { badRequest, forbidden, notFound } from '../../kernel/http/problem.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { IdentityEvents, type UserDeleted, type UserRegistered, type UserRolesChanged, type UserUpdated } from './contract.ts';
import type { LoginThrottle } from './login-throttle.ts';
import { dummyHash, hashPassword, needsRehash, UNUSABLE_PASSWORD, verifyPassword } from './passwords.ts';
import {
  accountLocked,
  emailTaken,
  invalidCredentials,
  invalidRefreshToken,
  lastAdmin,
  weakPassword,
  wrongCurrentPassword,
} from './problems.ts';
import {
  ANONYMISED_NAME,
  anonymisedEmail,
  canEditUser,
  canSeeUser,
  cleanText,
  isActingOnOther,
  orderRoles,
  passwordProblems,
  removesLastAdmin,
} from './service.ts';
import { addRefreshToken, hashRefreshToken, startSession, tokenPair, type ClientInfo, type TokenPair } from './sessions.ts';
import * as store from './store.ts';
import type { UserRecord } from './store.ts';

/** Sign-up, sign-in, sessions and account changes: each a transaction with its events and audit entries. */

export interface SignedIn extends TokenPair {
  user: UserRecord;
}

function actorOf(principal: Principal) {
  return { actorId: principal.userId, actorRoles: principal.roles };
}

function requiredText(value: string, path: string): string {
  const cleaned = cleanText(value);
  if (!cleaned) throw badRequest(`${path.slice(1)} must not be blank`, [{ path, message: 'must not be blank' }]);
  return cleaned;
}

async function mustFindUser(db: Db, id: string): Promise<UserRecord> {
  const user = await store.findUserById(db, id);
  if (!user) throw new Error(`user ${id} vanished inside its own transaction`);
  return user;
}

export async function signUp(
  ctx: ModuleContext,
  input: { email: string; password: string; name: string; role?: 'customer' | 'seller'; storeName?: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const email = input.email.trim();
  const name = requiredText(input.name, '/name');
  const role: Role = input.role ?? 'customer';
  if (input.storeName !== undefined && role !== 'seller') {
    throw badRequest('storeName is only for sellers', [{ path: '/storeName', message: 'is only allowed with role "seller"' }]);
  }
  const storeName = role === 'seller' ? requiredText(input.storeName ?? name, '/storeName') : undefined;
  const weak = passwordProblems(input.password, email);
  if (weak.length > 0) throw weakPassword(weak);
  // Checked before hashing only to spare the work; the unique index decides a race.
  if (await store.emailTaken(ctx.db, email)) throw emailTaken();

  const passwordHash = await hashPassword(input.password, ctx.config.PASSWORD_HASH_COST);
  const userId = newId();
  const roles = [role];
  const { sessionId, refreshToken } = await ctx.transaction(async (tx) => {
    if (!(await store.insertUser(tx, { id: userId, email, name, passwordHash, roles }))) throw emailTaken();
    if (storeName) await store.insertSellerProfile(tx, { userId, storeName });
    await ctx.publish<UserRegistered>(tx, { type: IdentityEvents.UserRegistered, aggregateId: userId, data: { userId, email, name, roles } });
    return startSession(ctx, tx, userId, client);
  });
  const user = await mustFindUser(ctx.db, userId);
  return { user, ...(await tokenPair(ctx, { userId, roles, sessionId }, refreshToken)) };
}

export async function logIn(
  ctx: ModuleContext,
  throttle: LoginThrottle,
  input: { email: string; password: string },
  client: ClientInfo,
): Promise<SignedIn> {
  const lockedFor = await throttle.lockedFor(input.email);
  if (lockedFor > 0) throw accountLocked(lockedFor);

  const found = await store.findUserByEmail(ctx.db, input.email.trim());
  const user = found?.status === 'active' && found.passwordHash.startsWith('scrypt$') ? found : undefined;
  // Without an account, verify against a dummy hash anyway: both failures take the same time.
  const matches = await verifyPassword(input.password, user?.passwordHash ?? (await dummyHash(ctx.config.PASSWORD_HASH_COST)));
  if (!user || !matches) {
    await throttle.recordFailure(input.email);
    throw invalidCredentials();
  }
  await throttle.clear(input.email);
  if (needsRehash(user.passwordHash, ctx.config.PASSWORD_HASH_COST)) {
    await store.setPasswordHash(ctx.db, user.id, await hashPassword(input.password, ctx.config.PASSWORD_HASH_COST));
  }
  const { sessionId, refreshToken } = await ctx.transaction((tx) => startSession(ctx, tx, user.id, client));
  return { user, ...(await tokenPair(ctx, { userId: user.id, roles: user.roles, sessionId }, refreshToken)) };
}

/**
 * Rotates a refresh token. Presenting a token that was already rotated is a reuse: someone else holds
 * a copy, so the whole session is revoked and both holders must sign in again.
 */
export async function refresh(ctx: ModuleContext, refreshToken: string): Promise<SignedIn> {
  const tokenHash = hashRefreshToken(refreshToken);
  const outcome = await ctx.transaction(async (tx) => {
    const token = await store.findRefreshToken(tx, tokenHash);
    if (!token || token.sessionRevokedAt) return { kind: 'invalid' as const };
    const reused = token.rotatedAt !== null || (token.expiresAt.getTime() > Date.now() && !(await store.claimRefreshToken(tx, tokenHash)));
    if (reused) {
      // Returned, not thrown: the revocation must commit.
      await store.revokeSession(tx, token.sessionId, 'refresh-token-reuse');
      return { kind: 'reused' as const, token };
    }
    if (token.expiresAt.getTime() <= Date.now()) return { kind: 'invalid' as const };
    const user = await store.findUserById(tx, token.userId);
    if (!user || user.status !== 'active') return { kind: 'invalid' as const };
    await store.touchSession(tx, token.sessionId);
    const next = await addRefreshToken(ctx, tx, token.sessionId);
    return { kind: 'rotated' as const, user, sessionId: token.sessionId, next };
  });
  if (outcome.kind === 'reused') {
    await ctx.tokens.refuseIssued({ sessionIds: [outcome.token.sessionId] });
    ctx.logger.warn({ userId: outcome.token.userId, sessionId: outcome.token.sessionId }, 'refresh token reused; session revoked');
  }
  if (outcome.kind !== 'rotated') throw invalidRefreshToken();
  const { user, sessionId, next } = outcome;
  return { user, ...(await tokenPair(ctx, { userId: user.id, roles: user.roles, sessionId }, next)) };
}

/**
 * Ends the session the refresh token belongs to, if it is the caller's, and with it the session's
 * access tokens. Always succeeds: logout is idempotent.
 */
export async function logOut(ctx: ModuleContext, principal: Principal, refreshToken: string): Promise<void> {
  const ended = await ctx.transaction(async (tx) => {
    const token = await store.findRefreshToken(tx, hashRefreshToken(refreshToken));
    if (!token || token.userId !== principal.userId) return undefined;
    await store.revokeSession(tx, token.sessionId, 'logout');
    return token.sessionId;
  });
  if (ended) await ctx.tokens.refuseIssued({ sessionIds: [ended] });
}

/** The record `principal` asked for: 404 when it does not exist or the caller may not see it. */
export async function visibleUser(ctx: ModuleContext, principal: Principal, id: string): Promise<UserRecord> {
  const user = await store.findUserById(ctx.db, id);
  if (!user || !canSeeUser(principal, id) || (user.status === 'deleted' && !can(principal.roles, 'users:read-any'))) {
    throw notFound('User');
  }
  return user;
}

export async function updateUser(
  ctx: ModuleContext,
  throttle: LoginThrottle,
  principal: Principal,
  id: string,
  patch: { name?: string; email?: string; password?: string; currentPassword?: string },
): Promise<UserRecord> {
  const target = await visibleUser(ctx, principal, id);
  if (!canEditUser(principal, id)) throw forbidden('You may not change this user');
  if (target.status === 'deleted') throw notFound('User');

  const name = patch.name === undefined ? undefined : requiredText(patch.name, '/name');
  const email = patch.email?.trim();
  if (email !== undefined && email.toLowerCase() !== target.email.toLowerCase() && (await store.emailTaken(ctx.db, email, id))) {
    throw emailTaken();
  }
  let passwordHash: string | undefined;
  if (patch.password !== undefined) {
    if (patch.currentPassword === undefined) {
      throw badRequest('Changing the password needs the current password', [{ path: '/currentPassword', message: 'is required to change the password' }]);
    }
    // A stolen access token must not be a way to guess the password offline-free: same brake as login.
    const lockedFor = await throttle.lockedFor(target.email);
    if (lockedFor > 0) throw accountLocked(lockedFor);
    if (!(await verifyPassword(patch.currentPassword, target.passwordHash))) {
      await throttle.recordFailure(target.email);
      throw wrongCurrentPassword();
    }
    const weak = passwordProblems(patch.password, email ?? target.email);
    if (weak.length > 0) throw weakPassword(weak);
    passwordHash = await hashPassword(patch.password, ctx.config.PASSWORD_HASH_COST);
  }

  const { updated, endedSessions } = await ctx.transaction(async (tx) => {
    try {
      await store.updateUser(tx, id, { name, email, passwordHash });
    } catch (error) {
      if (store.isUniqueViolation(error)) throw emailTaken();
      throw error;
    }
    // A new password signs out every other device; the one that changed it stays signed in.
    const endedSessions = passwordHash ? await store.revokeUserSessions(tx, id, 'password-changed', principal.userId === id ? principal.sessionId : undefined) : [];
    const updated = await mustFindUser(tx, id);
    const changed = [
      ...(name !== undefined && name !== target.name ? ['name'] : []),
      ...(email !== undefined && email !== target.email ? ['email'] : []),
      ...(passwordHash ? ['password'] : []),
    ];
    if (changed.includes('name') || changed.includes('email')) {
      await ctx.publish<UserUpdated>(tx, { type: IdentityEvents.UserUpdated, aggregateId: id, data: { userId: id, email: updated.email, name: updated.name } });
    }
    if (isActingOnOther(principal, id) && changed.length > 0) {
      await ctx.audit(tx, { ...actorOf(principal), action: 'user.updated', targetType: 'user', targetId: id, details: { fields: changed } });
    }
    return { updated, endedSessions };
  });
  if (endedSessions.length > 0) await ctx.tokens.refuseIssued({ sessionIds: endedSessions });
  return updated;
}

export async function setUserRoles(ctx: ModuleContext, principal: Principal, id: string, wanted: readonly string[]): Promise<UserRecord> {
  const roles = orderRoles(wanted);
  const { user, changed } = await ctx.transaction(async (tx) => {
    // Admins first, then the target: every role change locks in this order, so two cannot deadlock.
    const admins = await store.lockActiveAdmins(tx);
    const target = await store.findUserById(tx, id, { forUpdate: true });
    if (!target || target.status === 'deleted') throw notFound('User');
    if (removesLastAdmin(target.roles, roles, admins)) throw lastAdmin();
    const previousRoles = target.roles;
    if (previousRoles.length === roles.length && previousRoles.every((r, i) => r === roles[i])) return { user: target, changed: false };
    await store.setRoles(tx, id, roles);
    // Granting seller opens a store under the user's name, so the seller directory knows them.
    if (roles.includes('seller') && !target.sellerProfile) await store.insertSellerProfile(tx, { userId: id, storeName: target.name });
    await ctx.publish<UserRolesChanged>(tx, { type: IdentityEvents.UserRolesChanged, aggregateId: id, data: { userId: id, roles, previousRoles } });
    await ctx.audit(tx, { ...actorOf(principal), action: 'user.roles.changed', targetType: 'user', targetId: id, details: { from: previousRoles, to: roles } });
    return { user: await mustFindUser(tx, id), changed: true };
  });
  // Tokens carry roles: the user's current ones stop working, and a refresh issues them with the new roles.
  if (changed) await ctx.tokens.refuseIssued({ userId: id });
  return user;
}

/**
 * GDPR erasure. The row stays, anonymised, because orders and reviews elsewhere refer to its id;
 * `identity.user.deleted` tells those modules to anonymise their copies.
 */
export async function deleteUser(ctx: ModuleContext, principal: Principal, id: string): Promise<void> {
  await ctx.transaction(async (tx) => {
    // Admins first, then the target: every role change locks in this order, so two cannot deadlock.
    const admins = await store.lockActiveAdmins(tx);
    const target = await store.findUserById(tx, id, { forUpdate: true });
    if (!target || target.status === 'deleted') throw notFound('User');
    if (removesLastAdmin(target.roles, [], admins)) throw lastAdmin();
    await store.anonymiseUser(tx, id, anonymisedEmail(id), ANONYMISED_NAME, UNUSABLE_PASSWORD);
    await store.revokeUserSessions(tx, id, 'account-deleted');
    await ctx.publish<UserDeleted>(tx, { type: IdentityEvents.UserDeleted, aggregateId: id, data: { userId: id } });
    if (isActingOnOther(principal, id)) {
      await ctx.audit(tx, { ...actorOf(principal), action: 'user.deleted', targetType: 'user', targetId: id });
    }
  });
  await ctx.tokens.refuseIssued({ userId: id });
}

/** Everything identity holds about a user, secrets excepted (GDPR access request). */
export async function exportUserData(ctx: ModuleContext, userId: string) {
  const user = await store.findUserById(ctx.db, userId);
  if (!user || user.status === 'deleted') throw notFound('User');
  const [addresses, sessions, auditEntries] = await Promise.all([
    store.listAddresses(ctx.db, userId),
    store.listSessions(ctx.db, userId),
    listAuditEntriesByActor(ctx.db, userId),
  ]);
  return { user, addresses, sessions, auditEntries: auditEntries.map(({ actorId: _actor, actorRoles: _roles, ...entry }) => entry) };
}

/**
 * ADMIN_EMAIL/ADMIN_PASSWORD: make sure that account exists and is an admin. An existing account keeps
 * its password: the variable bootstraps an admin, it is not a way to reset one.
 */
export async function ensureConfiguredAdmin(ctx: ModuleContext): Promise<void> {
  const { ADMIN_EMAIL: email, ADMIN_PASSWORD: password } = ctx.config;
  if (!email || !password) return;
  const existing = await store.findUserByEmail(ctx.db, email);
  const system = { actorId: null, actorRoles: [] as string[] };
  if (existing) {
    if (existing.status !== 'active' || existing.roles.includes('admin')) return;
    await ctx.transaction(async (tx) => {
      const roles = orderRoles([...existing.roles, 'admin']);
      await store.setRoles(tx, existing.id, roles);
      await ctx.publish<UserRolesChanged>(tx, {
        type: IdentityEvents.UserRolesChanged,
        aggregateId: existing.id,
        data: { userId: existing.id, roles, previousRoles: existing.roles },
      });
      await ctx.audit(tx, { ...system, action: 'user.roles.changed', targetType: 'user', targetId: existing.id, details: { from: existing.roles, to: roles, source: 'ADMIN_EMAIL' } });
    });
    ctx.logger.info({ userId: existing.id }, 'granted admin to the ADMIN_EMAIL account');
    return;
  }
  const id = newId();
  const passwordHash = await hashPassword(password, ctx.config.PASSWORD_HASH_COST);
  const name = 'Administrator';
  await ctx.transaction(async (tx) => {
    // Two instances starting at once: the second insert finds the email taken and does nothing.
    if (!(await store.insertUser(tx, { id, email, name, passwordHash, roles: ['admin'] }))) return;
    await ctx.publish<UserRegistered>(tx, { type: IdentityEvents.UserRegistered, aggregateId: id, data: { userId: id, email, name, roles: ['admin'] } });
    await ctx.audit(tx, { ...system, action: 'user.created', targetType: 'user', targetId: id, details: { roles: ['admin'], source: 'ADMIN_EMAIL' } });
  });
  ctx.logger.info({ userId: id }, 'created the ADMIN_EMAIL admin account');
}

/** Demo users with fixed ids and known passwords; an id or email already present is left alone. */
export async function createDemoAccounts(
  ctx: ModuleContext,
  accounts: readonly { id: string; email: string; password: string; name: string; roles: readonly string[]; storeName?: string }[],
): Promise<void> {
  const hashes = await Promise.all(accounts.map((a) => hashPassword(a.password, ctx.config.PASSWORD_HASH_COST)));
  await ctx.transaction(async (tx) => {
    for (const [i, account] of accounts.entries()) {
      const roles = orderRoles(account.roles);
      const inserted = await store.insertUser(tx, { id: account.id, email: account.email, name: account.name, passwordHash: hashes[i]!, roles });
      if (!inserted) continue;
      if (account.storeName) await store.insertSellerProfile(tx, { userId: account.id, storeName: account.storeName });
      await ctx.publish<UserRegistered>(tx, {
        type: IdentityEvents.UserRegistered,
        aggregateId: account.id,
        data: { userId: account.id, email: account.email, name: account.name, roles },
      });
    }
  });
}
