import { sql } from 'kysely';
import type { Db } from '../../kernel/db/database.ts';
import { writeLast } from '../../kernel/events/outbox.ts';
import { newId } from '../../kernel/ids.ts';
import { MAX_CART_LINES, MAX_LINE_QUANTITY, type CartItemRecord } from './service.ts';

export interface CartRecord {
  id: string;
  userId: string | null;
  currency: string;
  couponCode: string | null;
}

const toCart = (r: Record<string, any>): CartRecord => ({ id: r.id, userId: r.user_id, currency: r.currency, couponCode: r.coupon_code });

const toItem = (r: Record<string, any>): CartItemRecord => ({
  id: r.id,
  productId: r.product_id,
  variantId: r.variant_id,
  quantity: r.quantity,
  seenUnitPrice: Number(r.seen_unit_price),
  seenCurrency: r.seen_currency,
  name: r.name,
  sku: r.sku,
  options: r.options ?? {},
});

// ---- carts

export async function findUserCart(db: Db, userId: string): Promise<CartRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`select id, user_id, currency, coupon_code from cart.carts where user_id = ${userId}`.execute(db);
  return rows[0] ? toCart(rows[0]) : undefined;
}

/** The user's cart, created on first use; concurrent first uses end with one cart (unique user_id). */
export async function userCart(db: Db, userId: string): Promise<CartRecord> {
  const found = await findUserCart(db, userId);
  if (found) return found;
  const { rows } = await sql<Record<string, any>>`
    insert into cart.carts (id, user_id) values (${newId()}, ${userId})
    on conflict (user_id) do nothing
    returning id, user_id, currency, coupon_code`.execute(db);
  return rows[0] ? toCart(rows[0]) : (await findUserCart(db, userId))!;
}

export async function findGuestCart(db: Db, tokenHash: string): Promise<CartRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select id, user_id, currency, coupon_code from cart.carts where guest_token_hash = ${tokenHash}`.execute(db);
  return rows[0] ? toCart(rows[0]) : undefined;
}

export async function createGuestCart(db: Db, tokenHash: string): Promise<CartRecord> {
  const { rows } = await sql<Record<string, any>>`
    insert into cart.carts (id, guest_token_hash) values (${newId()}, ${tokenHash})
    returning id, user_id, currency, coupon_code`.execute(db);
  return toCart(rows[0]!);
}

/**
 * What any change to a cart sets: it is no longer idle, nor abandoned. `active_at` (indexed, for the
 * abandonment job) moves only when it is five minutes old, so most updates leave every indexed
 * column as it was and stay HOT (migrations.ts, 0002).
 */
const ACTIVITY = sql`updated_at = now(), abandoned_at = null,
  active_at = case when active_at < now() - interval '5 minutes' then now() else active_at end`;

/** Any change is activity: the cart is no longer idle, nor abandoned. */
export async function touchCart(db: Db, cartId: string, changes: { couponCode?: string | null; currency?: string } = {}): Promise<void> {
  await sql`
    update cart.carts set ${ACTIVITY}
      ${changes.couponCode !== undefined ? sql`, coupon_code = ${changes.couponCode}` : sql``}
      ${changes.currency !== undefined ? sql`, currency = ${changes.currency}` : sql``}
    where id = ${cartId}`.execute(db);
}

// ---- items

export async function listItems(db: Db, cartId: string): Promise<CartItemRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select * from cart.items where cart_id = ${cartId} order by created_at, id`.execute(db);
  return rows.map(toItem);
}

export async function findItem(db: Db, cartId: string, itemId: string): Promise<CartItemRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`select * from cart.items where id = ${itemId} and cart_id = ${cartId}`.execute(db);
  return rows[0] ? toItem(rows[0]) : undefined;
}

/** Which cart a write goes to: known by id, or found in the same statement by its owner or guest token. */
export type CartSelector = { cartId: string } | { userId: string } | { guestTokenHash: string };

/**
 * Adds `quantity` to the cart's line for the variant (creating it), in one statement that finds the
 * cart, also marks it active and returns the cart and every line as they now are, so the caller can
 * show the cart without reading it again. The line grows only while the new total stays within
 * `maxTotal` and the cart is in the line's currency; otherwise nothing changes (`added` is false) and
 * the lines show the current quantity, so the caller can say how many are available. `cart` is
 * undefined when no cart matched the selector.
 */
export async function addToLine(
  db: Db,
  target: CartSelector,
  line: Omit<CartItemRecord, 'id'>,
  maxTotal: number,
): Promise<{ cart: CartRecord | undefined; added: boolean; quantity: number; items: CartItemRecord[]; full: boolean }> {
  const cap = Math.min(maxTotal, MAX_LINE_QUANTITY);
  const where =
    'cartId' in target
      ? sql`id = ${target.cartId}`
      : 'userId' in target
        ? sql`user_id = ${target.userId}`
        : sql`guest_token_hash = ${target.guestTokenHash} and user_id is null`;
  // The statement's snapshot does not see its own upsert: the written line comes from `returning`,
  // every other line (and the unchanged one, when nothing was written) from the table.
  const { rows } = await sql<Record<string, any>>`
    with cart as (
      select id, user_id, currency, coupon_code from cart.carts where ${where}
    ), line as (
      insert into cart.items (id, cart_id, product_id, variant_id, quantity, seen_unit_price, seen_currency, name, sku, options)
      select ${newId()}, cart.id, ${line.productId}, ${line.variantId}, ${line.quantity}, ${line.seenUnitPrice},
             ${line.seenCurrency}, ${line.name}, ${line.sku}, ${JSON.stringify(line.options)}::jsonb
      from cart
      where ${line.quantity}::int <= ${cap}::int and cart.currency = ${line.seenCurrency}
        and ((select count(*) from cart.items i where i.cart_id = cart.id) < ${MAX_CART_LINES}
             or exists (select 1 from cart.items i where i.cart_id = cart.id and i.variant_id = ${line.variantId}))
      on conflict (cart_id, variant_id) do update
        set quantity = cart.items.quantity + excluded.quantity,
            seen_unit_price = excluded.seen_unit_price, seen_currency = excluded.seen_currency,
            name = excluded.name, sku = excluded.sku, options = excluded.options, updated_at = now()
        where cart.items.quantity + excluded.quantity <= ${cap}::int
      returning *
    ), activity as (
      update cart.carts c set ${ACTIVITY}
      from cart where c.id = cart.id and cart.currency = ${line.seenCurrency}
    ), lines as (
      select *, true as written from line
      union all
      select i.*, false as written from cart.items i
      where i.cart_id = (select id from cart) and not exists (select 1 from line where line.variant_id = i.variant_id)
    )
    select cart.id as the_cart_id, cart.user_id as the_user_id, cart.currency as the_currency, cart.coupon_code as the_coupon_code, lines.*
    from cart left join lines on true
    order by lines.created_at, lines.id`.execute(db);
  const first = rows[0];
  if (!first) return { cart: undefined, added: false, quantity: 0, items: [], full: false };
  const cart: CartRecord = { id: first.the_cart_id, userId: first.the_user_id, currency: first.the_currency, couponCode: first.the_coupon_code };
  const present = rows.filter((r) => r.id !== null);
  const items = present.map(toItem);
  const written = present.find((r) => r.written);
  const current = written ?? present.find((r) => r.variant_id === line.variantId);
  return { cart, added: !!written, quantity: current?.quantity ?? 0, items, full: !written && !current && items.length >= MAX_CART_LINES };
}

export async function setLineQuantity(db: Db, cartId: string, itemId: string, quantity: number, seen: { unitPrice: number; currency: string } | null): Promise<void> {
  await sql`
    with line as (
      update cart.items set quantity = ${quantity}, updated_at = now()
        ${seen ? sql`, seen_unit_price = ${seen.unitPrice}, seen_currency = ${seen.currency}` : sql``}
      where id = ${itemId} and cart_id = ${cartId}
    )
    update cart.carts set ${ACTIVITY} where id = ${cartId}`.execute(db);
}

export async function removeLine(db: Db, cartId: string, itemId: string): Promise<boolean> {
  const { rows } = await sql`
    with line as (delete from cart.items where id = ${itemId} and cart_id = ${cartId} returning id),
    activity as (update cart.carts set ${ACTIVITY} where id = ${cartId} and exists (select 1 from line))
    select id from line`.execute(db);
  return rows.length > 0;
}

/**
 * Empties the cart with the transaction's last statement, if it is still at `version` (its row's
 * xmin, which every change to the cart moves). Its parts run on one snapshot: the items
 * go only while the cart is still at `version`, and the cart row's update, which waits for any writer
 * of the cart and then checks `version` again, decides. Items are deleted before the row is updated,
 * the order in which adding to a cart locks them, so the two cannot deadlock.
 */
export async function clearCartLast(tx: Db, cartId: string, version: string, changed: () => Error): Promise<void> {
  await writeLast(tx, [
    {
      statement: sql`
        delete from cart.items
        where cart_id = ${cartId} and exists (select 1 from cart.carts where id = ${cartId} and xmin::text = ${version})`,
    },
    {
      statement: sql`update cart.carts set coupon_code = null, ${ACTIVITY} where id = ${cartId} and xmin::text = ${version}`,
      mustWrite: changed,
    },
  ]);
}

/**
 * The user's cart and its items in one read (a cart without lines comes back with none). `version` is
 * the cart row's xmin: every change to a cart's lines or coupon updates its row, so it changes with
 * them (an optimistic concurrency token that costs no column).
 */
export async function findUserCartWithItems(
  db: Db,
  userId: string,
): Promise<{ cart: CartRecord; version: string; items: CartItemRecord[] } | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select c.id as cart_id, c.user_id, c.currency as cart_currency, c.coupon_code, c.xmin::text as cart_version, i.*
    from cart.carts c left join cart.items i on i.cart_id = c.id
    where c.user_id = ${userId}
    order by i.created_at, i.id`.execute(db);
  const first = rows[0];
  if (!first) return undefined;
  return {
    cart: { id: first.cart_id, userId: first.user_id, currency: first.cart_currency, couponCode: first.coupon_code },
    version: first.cart_version,
    items: rows.filter((r) => r.id !== null).map(toItem),
  };
}

// ---- merging a guest's cart into a user's

/**
 * Locks the guest cart's row for the merge. A second merge of the same token waits here and then
 * finds the row gone (deleted by the first), so it merges nothing: no line is lost or counted twice.
 */
export async function lockGuestCart(tx: Db, tokenHash: string): Promise<CartRecord | undefined> {
  const { rows } = await sql<Record<string, any>>`
    select id, user_id, currency, coupon_code from cart.carts
    where guest_token_hash = ${tokenHash} and user_id is null
    for update`.execute(tx);
  return rows[0] ? toCart(rows[0]) : undefined;
}

/** Upserts each guest line into the user's cart; an insert-or-add holds against concurrent adds to the same line. */
export async function mergeLines(tx: Db, intoCartId: string, lines: readonly CartItemRecord[]): Promise<void> {
  if (lines.length === 0) return;
  const values = lines.map(
    (l) => sql`(${newId()}, ${intoCartId}::uuid, ${l.productId}::uuid, ${l.variantId}::uuid, ${l.quantity}::int, ${l.seenUnitPrice}::bigint,
                ${l.seenCurrency}, ${l.name}, ${l.sku}, ${JSON.stringify(l.options)}::jsonb)`,
  );
  await sql`
    insert into cart.items (id, cart_id, product_id, variant_id, quantity, seen_unit_price, seen_currency, name, sku, options)
    values ${sql.join(values)}
    on conflict (cart_id, variant_id) do update
      set quantity = least(cart.items.quantity + excluded.quantity, ${MAX_LINE_QUANTITY}), updated_at = now()`.execute(tx);
}

export async function deleteCart(tx: Db, cartId: string): Promise<void> {
  await sql`delete from cart.carts where id = ${cartId}`.execute(tx);
}

/** Keeps the user's coupon if they had one, else takes the guest's. */
export async function adoptCoupon(tx: Db, cartId: string, couponCode: string | null): Promise<void> {
  await sql`
    update cart.carts set coupon_code = coalesce(coupon_code, ${couponCode}), ${ACTIVITY}
    where id = ${cartId}`.execute(tx);
}

// ---- abandoned carts

export interface IdleCart {
  id: string;
  userId: string | null;
  currency: string;
  updatedAt: Date;
  items: CartItemRecord[];
}

/** Carts with items, idle since before `cutoff` and not yet marked, about oldest first (by `active_at`). */
export async function findIdleCarts(db: Db, cutoff: Date, limit: number): Promise<IdleCart[]> {
  const { rows } = await sql<Record<string, any>>`
    select c.id as cart_id, c.user_id, c.currency as cart_currency, c.updated_at as cart_updated_at, i.*
    from (select * from cart.carts
          where abandoned_at is null and active_at < ${cutoff} and updated_at < ${cutoff}
            and exists (select 1 from cart.items i where i.cart_id = carts.id)
          order by active_at limit ${limit}) c
    join cart.items i on i.cart_id = c.id
    order by c.updated_at, c.id, i.created_at, i.id`.execute(db);
  const carts = new Map<string, IdleCart>();
  for (const r of rows) {
    let cart = carts.get(r.cart_id);
    if (!cart) carts.set(r.cart_id, (cart = { id: r.cart_id, userId: r.user_id, currency: r.cart_currency, updatedAt: new Date(r.cart_updated_at), items: [] }));
    cart.items.push(toItem(r));
  }
  return [...carts.values()];
}

/** Marks the cart abandoned unless it was touched since it was read idle; returns whether it did. */
export async function markAbandoned(tx: Db, cartId: string, cutoff: Date): Promise<boolean> {
  const { rows } = await sql`
    update cart.carts set abandoned_at = now()
    where id = ${cartId} and abandoned_at is null and updated_at < ${cutoff}
    returning id`.execute(tx);
  return rows.length > 0;
}

/** Guest carts that never got an item are dropped once idle: every first visit creates one. */
export async function deleteIdleEmptyGuestCarts(db: Db, cutoff: Date): Promise<number> {
  const { rows } = await sql`
    delete from cart.carts c
    where c.user_id is null and c.active_at < ${cutoff} and c.updated_at < ${cutoff}
      and not exists (select 1 from cart.items i where i.cart_id = c.id)
    returning id`.execute(db);
  return rows.length;
}

// ---- wishlist

export interface WishlistRecord {
  productId: string;
  name: string;
  createdAt: Date;
}

export async function listWishlist(db: Db, userId: string, q: { after?: [string, string]; limit: number }): Promise<WishlistRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select product_id, name, created_at from cart.wishlist_items
    where user_id = ${userId}
      ${q.after ? sql`and (created_at, product_id) < (${q.after[0]}::timestamptz, ${q.after[1]}::uuid)` : sql``}
    order by created_at desc, product_id desc
    limit ${q.limit}`.execute(db);
  return rows.map((r) => ({ productId: r.product_id, name: r.name, createdAt: new Date(r.created_at) }));
}

export async function addToWishlist(db: Db, userId: string, productId: string, name: string): Promise<{ created: boolean; item: WishlistRecord }> {
  const inserted = await sql<Record<string, any>>`
    insert into cart.wishlist_items (user_id, product_id, name) values (${userId}, ${productId}, ${name})
    on conflict (user_id, product_id) do nothing
    returning product_id, name, created_at`.execute(db);
  const row =
    inserted.rows[0] ??
    (await sql<Record<string, any>>`
      select product_id, name, created_at from cart.wishlist_items where user_id = ${userId} and product_id = ${productId}`.execute(db)).rows[0]!;
  return { created: inserted.rows.length > 0, item: { productId: row.product_id, name: row.name, createdAt: new Date(row.created_at) } };
}

export async function removeFromWishlist(db: Db, userId: string, productId: string): Promise<void> {
  await sql`delete from cart.wishlist_items where user_id = ${userId} and product_id = ${productId}`.execute(db);
}

export async function wishersOf(tx: Db, productId: string): Promise<string[]> {
  const { rows } = await sql<{ user_id: string }>`
    select user_id from cart.wishlist_items where product_id = ${productId} order by user_id`.execute(tx);
  return rows.map((r) => r.user_id);
}

// ---- last-seen stock, for back-in-stock

/** The variants of a product we have seen stock for, locked so two updates of one product take turns. */
export async function lockSeenStock(tx: Db, productId: string): Promise<Map<string, number>> {
  const { rows } = await sql<{ variant_id: string; available: number }>`
    select variant_id, available from cart.stock_seen where product_id = ${productId} for update`.execute(tx);
  return new Map(rows.map((r) => [r.variant_id, r.available]));
}

export async function recordSeenStock(tx: Db, s: { variantId: string; productId: string; available: number }): Promise<void> {
  await sql`
    insert into cart.stock_seen (variant_id, product_id, available) values (${s.variantId}, ${s.productId}, ${s.available})
    on conflict (variant_id) do update set available = excluded.available, product_id = excluded.product_id, updated_at = now()`.execute(tx);
}

// ---- a user erased

export async function forgetUser(tx: Db, userId: string): Promise<void> {
  await sql`delete from cart.carts where user_id = ${userId}`.execute(tx);
  await sql`delete from cart.wishlist_items where user_id = ${userId}`.execute(tx);
}
