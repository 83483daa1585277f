import { sql } from 'kysely';
import type { Db } from '../../kernel/db/database.ts';
import type { Coupon, CouponKind } from './service.ts';

export interface CouponRecord extends Coupon {
  createdBy: string | null;
  createdAt: Date;
  updatedAt: Date;
}

const toCoupon = (r: Record<string, any>): CouponRecord => ({
  id: r.id,
  code: r.code,
  kind: r.kind as CouponKind,
  value: Number(r.value),
  currency: r.currency,
  minSubtotal: r.min_subtotal === null ? null : Number(r.min_subtotal),
  startsAt: r.starts_at ? new Date(r.starts_at) : null,
  endsAt: r.ends_at ? new Date(r.ends_at) : null,
  usageLimit: r.usage_limit,
  perCustomerLimit: r.per_customer_limit,
  sellerId: r.seller_id,
  active: r.active,
  usedCount: r.used_count,
  createdBy: r.created_by,
  createdAt: new Date(r.created_at),
  updatedAt: new Date(r.updated_at),
});

export class DuplicateCodeError extends Error {}

export async function insertCoupon(tx: Db, c: Omit<CouponRecord, 'usedCount' | 'createdAt' | 'updatedAt'> & { codeKey: string }): Promise<CouponRecord> {
  const { rows } = await sql<Record<string, any>>`
    insert into promotions.coupons (id, code, code_key, kind, value, currency, min_subtotal, starts_at, ends_at,
                                    usage_limit, per_customer_limit, seller_id, active, created_by)
    values (${c.id}, ${c.code}, ${c.codeKey}, ${c.kind}, ${c.value}, ${c.currency}, ${c.minSubtotal}, ${c.startsAt},
            ${c.endsAt}, ${c.usageLimit}, ${c.perCustomerLimit}, ${c.sellerId}, ${c.active}, ${c.createdBy})
    on conflict (code_key) do nothing
    returning *`.execute(tx);
  if (rows.length === 0) throw new DuplicateCodeError(c.code);
  return toCoupon(rows[0]!);
}

export async function findCouponById(db: Db, id: string): Promise<CouponRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`select * from promotions.coupons where id = ${id}`.execute(db);
  return rows[0] ? toCoupon(rows[0]) : undefined;
}

export async function findCouponByCodeKey(db: Db, codeKey: string): Promise<CouponRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`select * from promotions.coupons where code_key = ${codeKey}`.execute(db);
  return rows[0] ? toCoupon(rows[0]) : undefined;
}

/** Newest first (ids are UUID v7), keyset-paged by id. */
export async function listCoupons(db: Db, q: { sellerId?: string; before?: string; limit: number }): Promise<CouponRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select * from promotions.coupons
    where true
      ${q.sellerId ? sql`and seller_id = ${q.sellerId}` : sql``}
      ${q.before ? sql`and id < ${q.before}` : sql``}
    order by id desc
    limit ${q.limit}`.execute(db);
  return rows.map(toCoupon);
}

export interface CouponChanges {
  active?: boolean;
  startsAt?: Date | null;
  endsAt?: Date | null;
  usageLimit?: number | null;
  perCustomerLimit?: number | null;
  minSubtotal?: number | null;
}

const COLUMNS: Record<keyof CouponChanges, string> = {
  active: 'active',
  startsAt: 'starts_at',
  endsAt: 'ends_at',
  usageLimit: 'usage_limit',
  perCustomerLimit: 'per_customer_limit',
  minSubtotal: 'min_subtotal',
};

export async function updateCoupon(tx: Db, id: string, changes: CouponChanges): Promise<CouponRecord | undefined> {
  const sets = (Object.keys(changes) as (keyof CouponChanges)[])
    .filter((k) => changes[k] !== undefined)
    .map((k) => sql`${sql.ref(COLUMNS[k])} = ${changes[k]}`);
  const { rows } = await sql<Record<string, any>>`
    update promotions.coupons set ${sql.join([...sets, sql`updated_at = now()`])}
    where id = ${id} returning *`.execute(tx);
  return rows[0] ? toCoupon(rows[0]) : undefined;
}

export async function countActiveUses(db: Db, couponId: string, userId: string): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from promotions.redemptions
    where coupon_id = ${couponId} and user_id = ${userId} and released_at is null`.execute(db);
  return rows[0]!.n;
}

/**
 * Takes one use with a single conditional update. The row lock it takes serialises every redemption of
 * this coupon until the order's transaction ends, so concurrent checkouts cannot both take the last use,
 * and the per-customer count read after it sees every committed use.
 */
export async function claimUse(tx: Db, couponId: string): Promise<{ perCustomerLimit: number | null } | undefined> {
  const { rows } = await sql<{ per_customer_limit: number | null }>`
    update promotions.coupons set used_count = used_count + 1
    where id = ${couponId} and active and (usage_limit is null or used_count < usage_limit)
    returning per_customer_limit`.execute(tx);
  return rows[0] ? { perCustomerLimit: rows[0].per_customer_limit } : undefined;
}

export async function findRedemptionByOrder(db: Db, orderId: string): Promise<{ couponId: string; releasedAt: Date | null } | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select coupon_id, released_at from promotions.redemptions where order_id = ${orderId}`.execute(db);
  return rows[0] ? { couponId: rows[0].coupon_id, releasedAt: rows[0].released_at } : undefined;
}

/** A released use of the same order is taken again (a failed payment retried), keeping one row per order. */
export async function recordRedemption(tx: Db, r: { id: string; couponId: string; userId: string; orderId: string }): Promise<void> {
  await sql`
    insert into promotions.redemptions (id, coupon_id, user_id, order_id)
    values (${r.id}, ${r.couponId}, ${r.userId}, ${r.orderId})
    on conflict (order_id) do update
      set coupon_id = excluded.coupon_id, user_id = excluded.user_id, released_at = null, created_at = now()`.execute(tx);
}

/** Gives back a use taken in this transaction that turned out not to be allowed. */
export async function returnUse(tx: Db, couponId: string): Promise<void> {
  await sql`update promotions.coupons set used_count = greatest(used_count - 1, 0) where id = ${couponId}`.execute(tx);
}

/** Marks the order's use released and gives it back to the coupon; a second call finds nothing to release. */
export async function releaseRedemption(tx: Db, orderId: string): Promise<boolean> {
  const { rows } = await sql<{ coupon_id: string }>`
    update promotions.redemptions set released_at = now()
    where order_id = ${orderId} and released_at is null
    returning coupon_id`.execute(tx);
  if (rows.length === 0) return false;
  await returnUse(tx, rows[0]!.coupon_id);
  return true;
}
