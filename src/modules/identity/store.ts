import { sql } from 'kysely';
import type { Db } from '../../kernel/db/database.ts';
import type { SellerStatus } from './service.ts';

/** Every SQL statement identity runs, all on its own schema. */

export interface SellerProfileRecord {
  userId: string;
  storeName: string;
  description: string;
  status: SellerStatus;
  suspendedReason: string | null;
  suspendedAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface UserRecord {
  id: string;
  email: string;
  name: string;
  passwordHash: string;
  roles: string[];
  status: 'active' | 'deleted';
  createdAt: Date;
  updatedAt: Date;
  sellerProfile: SellerProfileRecord | null;
}

const userColumns = sql`
  u.id, u.email, u.name, u.password_hash, u.roles, u.status, u.created_at, u.updated_at,
  sp.user_id as sp_user_id, sp.store_name as sp_store_name, sp.description as sp_description, sp.status as sp_status,
  sp.suspended_reason as sp_suspended_reason, sp.suspended_at as sp_suspended_at,
  sp.created_at as sp_created_at, sp.updated_at as sp_updated_at`;

function toUser(row: Record<string, any>): UserRecord {
  return {
    id: row.id,
    email: row.email,
    name: row.name,
    passwordHash: row.password_hash,
    roles: row.roles ?? [],
    status: row.status,
    createdAt: new Date(row.created_at),
    updatedAt: new Date(row.updated_at),
    sellerProfile: row.sp_user_id
      ? {
          userId: row.sp_user_id,
          storeName: row.sp_store_name,
          description: row.sp_description,
          status: row.sp_status,
          suspendedReason: row.sp_suspended_reason,
          suspendedAt: row.sp_suspended_at ? new Date(row.sp_suspended_at) : null,
          createdAt: new Date(row.sp_created_at),
          updatedAt: new Date(row.sp_updated_at),
        }
      : null,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids come from URLs; anything that is not a UUID cannot name a row, and must not reach a uuid cast. */
export const isUuid = (value: string): boolean => UUID.test(value);

export const isUniqueViolation = (error: unknown): boolean => (error as { code?: string } | null)?.code === '23505';

export async function findUserById(db: Db, id: string, options: { forUpdate?: boolean } = {}): Promise<UserRecord | undefined> {
  if (!isUuid(id)) return undefined;
  const { rows } = await sql<Record<string, any>>`
    select ${userColumns} from identity.users u left join identity.seller_profiles sp on sp.user_id = u.id
    where u.id = ${id} ${options.forUpdate ? sql`for update of u` : sql``}`.execute(db);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function findUserByEmail(db: Db, email: string): Promise<UserRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select ${userColumns} from identity.users u left join identity.seller_profiles sp on sp.user_id = u.id
    where lower(u.email) = lower(${email})`.execute(db);
  return rows[0] ? toUser(rows[0]) : undefined;
}

export async function emailTaken(db: Db, email: string, exceptUserId?: string): Promise<boolean> {
  const { rows } = await sql`
    select 1 from identity.users where lower(email) = lower(${email})
    ${exceptUserId ? sql`and id <> ${exceptUserId}` : sql``}`.execute(db);
  return rows.length > 0;
}

export async function insertUser(
  tx: Db,
  user: { id: string; email: string; name: string; passwordHash: string; roles: string[] },
): Promise<boolean> {
  // The unique index on lower(email) settles a race between two sign-ups with one address.
  const { rows } = await sql`
    insert into identity.users (id, email, name, password_hash, roles)
    values (${user.id}, ${user.email}, ${user.name}, ${user.passwordHash}, ${sql`${user.roles}::text[]`})
    on conflict do nothing returning id`.execute(tx);
  return rows.length > 0;
}

/** Throws a unique violation (see isUniqueViolation) when the new email belongs to someone else. */
export async function updateUser(
  tx: Db,
  id: string,
  patch: { email?: string; name?: string; passwordHash?: string },
): Promise<boolean> {
  const { rows } = await sql`
    update identity.users set
      email = coalesce(${patch.email ?? null}, email),
      name = coalesce(${patch.name ?? null}, name),
      password_hash = coalesce(${patch.passwordHash ?? null}, password_hash),
      updated_at = now()
    where id = ${id} and status = 'active'
    returning id`.execute(tx);
  return rows.length > 0;
}

export async function setPasswordHash(db: Db, id: string, passwordHash: string): Promise<void> {
  await sql`update identity.users set password_hash = ${passwordHash} where id = ${id} and status = 'active'`.execute(db);
}

export async function setRoles(tx: Db, id: string, roles: string[]): Promise<void> {
  await sql`update identity.users set roles = ${sql`${roles}::text[]`}, updated_at = now() where id = ${id}`.execute(tx);
}

/** Locks every active admin row, so two admins demoting each other at once cannot both succeed. */
export async function lockActiveAdmins(tx: Db): Promise<number> {
  const { rows } = await sql`
    select id from identity.users where status = 'active' and 'admin' = any(roles) order by id for update`.execute(tx);
  return rows.length;
}

export async function listUsers(
  db: Db,
  options: { limit: number; before?: string; q?: string },
): Promise<UserRecord[]> {
  const pattern = options.q ? `%${options.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` : undefined;
  const { rows } = await sql<Record<string, any>>`
    select ${userColumns} from identity.users u left join identity.seller_profiles sp on sp.user_id = u.id
    where true
      ${pattern ? sql`and (u.email ilike ${pattern} or u.name ilike ${pattern} or sp.store_name ilike ${pattern})` : sql``}
      ${options.before ? sql`and u.id < ${options.before}::uuid` : sql``}
    order by u.id desc
    limit ${options.limit}`.execute(db);
  return rows.map(toUser);
}

/** GDPR erasure: the row stays (other modules' records point at its id) but says nothing about the person. */
export async function anonymiseUser(tx: Db, id: string, email: string, name: string, unusablePassword: string): Promise<void> {
  await sql`
    update identity.users set email = ${email}, name = ${name}, password_hash = ${unusablePassword},
      roles = '{}', status = 'deleted', deleted_at = now(), updated_at = now()
    where id = ${id}`.execute(tx);
  await sql`delete from identity.addresses where user_id = ${id}`.execute(tx);
  await sql`delete from identity.seller_profiles where user_id = ${id}`.execute(tx);
}

// --- seller profiles ---

export async function insertSellerProfile(tx: Db, profile: { userId: string; storeName: string; description?: string }): Promise<void> {
  await sql`
    insert into identity.seller_profiles (user_id, store_name, description)
    values (${profile.userId}, ${profile.storeName}, ${profile.description ?? ''})
    on conflict (user_id) do nothing`.execute(tx);
}

export async function updateSellerProfile(tx: Db, userId: string, patch: { storeName?: string; description?: string }): Promise<void> {
  await sql`
    update identity.seller_profiles set
      store_name = coalesce(${patch.storeName ?? null}, store_name),
      description = coalesce(${patch.description ?? null}, description),
      updated_at = now()
    where user_id = ${userId}`.execute(tx);
}

export async function setSellerStatus(tx: Db, userId: string, status: SellerStatus, reason: string | null): Promise<void> {
  await sql`
    update identity.seller_profiles set status = ${status},
      suspended_reason = ${status === 'suspended' ? reason : null},
      suspended_at = ${status === 'suspended' ? sql`now()` : sql`null`},
      updated_at = now()
    where user_id = ${userId}`.execute(tx);
}

/** Active means: the profile is not suspended, and its owner still exists and still holds the seller role. */
export async function userExists(db: Db, userId: string): Promise<boolean> {
  if (!isUuid(userId)) return false;
  const { rows } = await sql`select 1 from identity.users where id = ${userId}`.execute(db);
  return rows.length > 0;
}

export async function isSellerActive(db: Db, userId: string): Promise<boolean> {
  if (!isUuid(userId)) return false;
  const { rows } = await sql`
    select 1 from identity.seller_profiles sp join identity.users u on u.id = sp.user_id
    where sp.user_id = ${userId} and sp.status = 'active' and u.status = 'active' and 'seller' = any(u.roles)`.execute(db);
  return rows.length > 0;
}

// --- sessions and refresh tokens ---

export interface RefreshTokenRecord {
  tokenHash: string;
  sessionId: string;
  userId: string;
  expiresAt: Date;
  rotatedAt: Date | null;
  sessionRevokedAt: Date | null;
}

export async function insertSession(tx: Db, session: { id: string; userId: string; userAgent?: string; ip?: string }): Promise<void> {
  await sql`
    insert into identity.sessions (id, user_id, user_agent, ip)
    values (${session.id}, ${session.userId}, ${session.userAgent ?? null}, ${session.ip ?? null})`.execute(tx);
}

export async function insertRefreshToken(tx: Db, token: { tokenHash: string; sessionId: string; expiresAt: Date }): Promise<void> {
  await sql`
    insert into identity.refresh_tokens (token_hash, session_id, expires_at)
    values (${token.tokenHash}, ${token.sessionId}, ${token.expiresAt.toISOString()})`.execute(tx);
}

export async function findRefreshToken(tx: Db, tokenHash: string): Promise<RefreshTokenRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select rt.token_hash, rt.session_id, rt.expires_at, rt.rotated_at, s.user_id, s.revoked_at
    from identity.refresh_tokens rt join identity.sessions s on s.id = rt.session_id
    where rt.token_hash = ${tokenHash}`.execute(tx);
  const row = rows[0];
  if (!row) return undefined;
  return {
    tokenHash: row.token_hash,
    sessionId: row.session_id,
    userId: row.user_id,
    expiresAt: new Date(row.expires_at),
    rotatedAt: row.rotated_at ? new Date(row.rotated_at) : null,
    sessionRevokedAt: row.revoked_at ? new Date(row.revoked_at) : null,
  };
}

/** Marks a token used; false when another request already did (then this presentation is a reuse). */
export async function claimRefreshToken(tx: Db, tokenHash: string): Promise<boolean> {
  const { rows } = await sql`
    update identity.refresh_tokens set rotated_at = now()
    where token_hash = ${tokenHash} and rotated_at is null returning token_hash`.execute(tx);
  return rows.length > 0;
}

export async function touchSession(tx: Db, sessionId: string): Promise<void> {
  await sql`update identity.sessions set last_used_at = now() where id = ${sessionId}`.execute(tx);
}

export async function revokeSession(tx: Db, sessionId: string, reason: string): Promise<void> {
  await sql`
    update identity.sessions set revoked_at = now(), revoked_reason = ${reason}
    where id = ${sessionId} and revoked_at is null`.execute(tx);
}

/** Returns the sessions it revoked. */
export async function revokeUserSessions(tx: Db, userId: string, reason: string, exceptSessionId?: string): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    update identity.sessions set revoked_at = now(), revoked_reason = ${reason}
    where user_id = ${userId} and revoked_at is null
      ${exceptSessionId && isUuid(exceptSessionId) ? sql`and id <> ${exceptSessionId}` : sql``}
    returning id`.execute(tx);
  return rows.map((r) => r.id);
}

export async function listSessions(db: Db, userId: string) {
  const { rows } = await sql<Record<string, any>>`
    select id, created_at, last_used_at, revoked_at, revoked_reason, user_agent, ip
    from identity.sessions where user_id = ${userId} order by id`.execute(db);
  return rows.map((r) => ({
    id: r.id as string,
    createdAt: new Date(r.created_at).toISOString(),
    lastUsedAt: new Date(r.last_used_at).toISOString(),
    revokedAt: r.revoked_at ? new Date(r.revoked_at).toISOString() : null,
    revokedReason: (r.revoked_reason ?? null) as string | null,
    userAgent: (r.user_agent ?? null) as string | null,
    ip: (r.ip ?? null) as string | null,
  }));
}

/** Expired tokens can neither refresh nor prove a reuse; a day's grace keeps the reuse signal a little longer. */
export async function pruneExpiredRefreshTokens(db: Db): Promise<void> {
  await sql`delete from identity.refresh_tokens where expires_at < now() - interval '1 day'`.execute(db);
}

// --- addresses (line1, line2 and phone arrive and leave sealed; see addresses in routes) ---

export interface AddressRecord {
  id: string;
  userId: string;
  label: string | null;
  name: string;
  line1Sealed: string;
  line2Sealed: string | null;
  city: string;
  region: string | null;
  postalCode: string;
  country: string;
  phoneSealed: string | null;
  isDefault: boolean;
  createdAt: Date;
  updatedAt: Date;
}

function toAddress(r: Record<string, any>): AddressRecord {
  return {
    id: r.id,
    userId: r.user_id,
    label: r.label,
    name: r.name,
    line1Sealed: r.line1_sealed,
    line2Sealed: r.line2_sealed,
    city: r.city,
    region: r.region,
    postalCode: r.postal_code,
    country: r.country,
    phoneSealed: r.phone_sealed,
    isDefault: r.is_default,
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

/** Serialises a user's address changes (count limit, single default) even when they have none yet. */
export async function lockUser(tx: Db, userId: string): Promise<void> {
  if (!isUuid(userId)) return;
  await sql`select id from identity.users where id = ${userId} for update`.execute(tx);
}

export async function listAddresses(db: Db, userId: string): Promise<AddressRecord[]> {
  if (!isUuid(userId)) return [];
  const { rows } = await sql<Record<string, any>>`
    select * from identity.addresses where user_id = ${userId} order by id`.execute(db);
  return rows.map(toAddress);
}

export async function findAddress(db: Db, userId: string, id: string): Promise<AddressRecord | undefined> {
  if (!isUuid(id) || !isUuid(userId)) return undefined;
  const { rows } = await sql<Record<string, any>>`
    select * from identity.addresses where id = ${id} and user_id = ${userId}`.execute(db);
  return rows[0] ? toAddress(rows[0]) : undefined;
}

export type AddressFields = Omit<AddressRecord, 'id' | 'userId' | 'isDefault' | 'createdAt' | 'updatedAt'>;

export async function insertAddress(tx: Db, userId: string, id: string, fields: AddressFields): Promise<void> {
  await sql`
    insert into identity.addresses (id, user_id, label, name, line1_sealed, line2_sealed, city, region, postal_code, country, phone_sealed)
    values (${id}, ${userId}, ${fields.label}, ${fields.name}, ${fields.line1Sealed}, ${fields.line2Sealed}, ${fields.city},
            ${fields.region}, ${fields.postalCode}, ${fields.country}, ${fields.phoneSealed})`.execute(tx);
}

export async function replaceAddress(tx: Db, userId: string, id: string, fields: AddressFields): Promise<void> {
  await sql`
    update identity.addresses set label = ${fields.label}, name = ${fields.name}, line1_sealed = ${fields.line1Sealed},
      line2_sealed = ${fields.line2Sealed}, city = ${fields.city}, region = ${fields.region}, postal_code = ${fields.postalCode},
      country = ${fields.country}, phone_sealed = ${fields.phoneSealed}, updated_at = now()
    where id = ${id} and user_id = ${userId}`.execute(tx);
}

export async function deleteAddress(tx: Db, userId: string, id: string): Promise<void> {
  await sql`delete from identity.addresses where id = ${id} and user_id = ${userId}`.execute(tx);
}

/** Two statements, unset then set, because the partial unique index allows one default at any instant. */
export async function setDefaultAddress(tx: Db, userId: string, id: string | undefined): Promise<void> {
  await sql`update identity.addresses set is_default = false where user_id = ${userId} and is_default
            ${id ? sql`and id <> ${id}` : sql``}`.execute(tx);
  if (id) await sql`update identity.addresses set is_default = true where user_id = ${userId} and id = ${id} and not is_default`.execute(tx);
}
