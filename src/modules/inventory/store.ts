import { sql, type RawBuilder } from 'kysely';
import { equalsAny, type Db } from '../../kernel/db/database.ts';
import { writeAtCommit, type DeferredWrite } from '../../kernel/events/outbox.ts';
import { newId } from '../../kernel/ids.ts';
import type { LocatedQuantity, Movement, MovementType, StockLevel } from './service.ts';

/** Inventory's SQL. Every statement names only the `inventory` schema. */

/**
 * A reservation's writes (the reservation, its lines, the levels it holds, its movements) go with its
 * transaction's last statement: the checkout reads none of them back, so placing an order costs one
 * statement fewer. Every other statement here that a transaction runs writes what it left pending
 * first, so the transaction still reads its own writes.
 */
const pendingWrites = new WeakMap<Db, DeferredWrite[]>();

async function writePending(db: Db): Promise<void> {
  const pending = pendingWrites.get(db);
  if (!pending) return;
  pendingWrites.delete(db);
  for (const write of pending) await write.writeNow();
}

// Batches travel as one array parameter per column and are unnested server-side: one statement and a
// handful of parameters however many rows, where a VALUES list would need a parameter per cell.
const uuidArray = (values: string[]) => sql`${values}::uuid[]`;
const intArray = (values: number[]) => sql`${values}::int[]`;
const textArray = (values: (string | null)[]) => sql`${values}::text[]`;

export interface LocationRow {
  id: string;
  name: string;
  type: 'warehouse' | 'store';
  sellable: boolean;
  createdAt: Date;
}

const toLocation = (r: any): LocationRow => ({ id: r.id, name: r.name, type: r.type, sellable: r.sellable, createdAt: r.created_at });

export async function listLocations(db: Db): Promise<LocationRow[]> {
  const { rows } = await sql`select * from inventory.locations order by id`.execute(db);
  return rows.map(toLocation);
}

export async function findLocation(db: Db, id: string): Promise<LocationRow | undefined> {
  const { rows } = await sql`select * from inventory.locations where id = ${id}`.execute(db);
  return rows[0] ? toLocation(rows[0]) : undefined;
}

export async function insertLocation(db: Db, location: { id: string; name: string; type: string; sellable: boolean }): Promise<LocationRow> {
  const { rows } = await sql`
    insert into inventory.locations (id, name, type, sellable)
    values (${location.id}, ${location.name}, ${location.type}, ${location.sellable})
    on conflict (id) do update set name = excluded.name
    returning *`.execute(db);
  return toLocation(rows[0]);
}

export interface VariantRow {
  variantId: string;
  productId: string;
  sellerId: string;
  lowStockThreshold: number;
}

export async function findVariant(db: Db, variantId: string): Promise<VariantRow | undefined> {
  const { rows } = await sql<any>`select * from inventory.variants where variant_id = ${variantId}`.execute(db);
  const r = rows[0];
  return r ? { variantId: r.variant_id, productId: r.product_id, sellerId: r.seller_id, lowStockThreshold: r.low_stock_threshold } : undefined;
}

export async function insertVariants(db: Db, variants: { variantId: string; productId: string; sellerId: string }[]): Promise<void> {
  if (variants.length === 0) return;
  await sql`
    insert into inventory.variants (variant_id, product_id, seller_id)
    select * from unnest(${uuidArray(variants.map((v) => v.variantId))}, ${uuidArray(variants.map((v) => v.productId))}, ${textArray(variants.map((v) => v.sellerId))})
    on conflict (variant_id) do nothing`.execute(db);
}

export async function setLowStockThreshold(db: Db, variantId: string, threshold: number): Promise<void> {
  await sql`update inventory.variants set low_stock_threshold = ${threshold} where variant_id = ${variantId}`.execute(db);
}

/** Creates missing levels at zero, so that the lock that follows finds every row it must hold. */
export async function ensureLevels(db: Db, keys: { variantId: string; locationId: string }[]): Promise<void> {
  await writePending(db);
  if (keys.length === 0) return;
  await sql`
    insert into inventory.stock_levels (variant_id, location_id)
    select * from unnest(${uuidArray(keys.map((k) => k.variantId))}, ${uuidArray(keys.map((k) => k.locationId))})
    order by 1, 2
    on conflict do nothing`.execute(db);
}

const toLevel = (r: any): StockLevel => ({
  variantId: r.variant_id,
  locationId: r.location_id,
  sellable: r.sellable,
  onHand: r.on_hand,
  reserved: r.reserved,
});

/** Row locks in (variant, location) order: see `lockOrder`. */
export async function lockLevels(db: Db, keys: { variantId: string; locationId: string }[]): Promise<StockLevel[]> {
  await writePending(db);
  if (keys.length === 0) return [];
  const { rows } = await sql`
    select s.variant_id, s.location_id, s.on_hand, s.reserved, l.sellable
    from inventory.stock_levels s
    join unnest(${uuidArray(keys.map((k) => k.variantId))}, ${uuidArray(keys.map((k) => k.locationId))}) as k (variant_id, location_id)
      on k.variant_id = s.variant_id and k.location_id = s.location_id
    join inventory.locations l on l.id = s.location_id
    order by s.variant_id, s.location_id
    for update of s`.execute(db);
  return rows.map(toLevel);
}

export interface VariantOwner {
  productId: string;
  sellerId: string;
  lowStockThreshold: number;
}

/**
 * Locks every sellable level of the given variants, in (variant, location) order, and says in the
 * same statement whether reservation `reservationId` already exists and whom each variant belongs to
 * (what a stock event carries): a reservation then costs two statements in all.
 */
export async function lockSellableLevelsForReservation(
  db: Db,
  variantIds: string[],
  reservationId: string,
): Promise<{ levels: StockLevel[]; owners: Map<string, VariantOwner>; alreadyReserved: boolean }> {
  await writePending(db);
  const owners = new Map<string, VariantOwner>();
  if (variantIds.length === 0) return { levels: [], owners, alreadyReserved: false };
  const { rows } = await sql<any>`
    select s.variant_id, s.location_id, s.on_hand, s.reserved, l.sellable,
           v.product_id, v.seller_id, v.low_stock_threshold,
           exists (select 1 from inventory.reservations where id = ${reservationId}) as already_reserved
    from inventory.stock_levels s
    join inventory.locations l on l.id = s.location_id
    left join inventory.variants v on v.variant_id = s.variant_id
    where ${equalsAny(sql`s.variant_id`, variantIds, 'uuid')} and l.sellable
    order by s.variant_id, s.location_id
    for update of s`.execute(db);
  for (const r of rows) {
    if (r.product_id) owners.set(r.variant_id, { productId: r.product_id, sellerId: r.seller_id, lowStockThreshold: r.low_stock_threshold });
  }
  return { levels: rows.map(toLevel), owners, alreadyReserved: rows[0]?.already_reserved === true };
}

export async function readLevels(db: Db, variantId: string) {
  await writePending(db);
  const { rows } = await sql<any>`
    select s.location_id, l.name, l.sellable, s.on_hand, s.reserved
    from inventory.stock_levels s join inventory.locations l on l.id = s.location_id
    where s.variant_id = ${variantId}
    order by s.location_id`.execute(db);
  return rows.map((r) => ({ locationId: r.location_id as string, name: r.name as string, sellable: r.sellable as boolean, onHand: r.on_hand as number, reserved: r.reserved as number }));
}

export interface ReservationToWrite {
  id: string;
  reference: string;
  expiresAt: Date;
  lines: LocatedQuantity[];
}

/**
 * Writes new levels and the movements that explain them in one statement, with a new reservation and
 * its lines when the movements hold stock for one. Returns the movements' ids. `atCommit`: with the
 * transaction's last statement instead (see writeAtCommit).
 */
export async function writeLevelsAndMovements(
  db: Db,
  levels: StockLevel[],
  movements: Movement[],
  reservation?: ReservationToWrite,
  options: { atCommit?: boolean } = {},
): Promise<string[]> {
  await writePending(db);
  const ids = movements.map(() => newId());
  const insertReservation = reservation && sql`
      insert into inventory.reservations (id, reference, status, expires_at)
      values (${reservation.id}, ${reservation.reference}, 'active', ${reservation.expiresAt})`;
  const reservationLines = reservation && reservation.lines.length > 0
    ? sql`
        insert into inventory.reservation_lines (reservation_id, variant_id, location_id, quantity)
        select ${reservation.id}::text, v.variant_id, v.location_id, v.quantity
        from unnest(${uuidArray(reservation.lines.map((l) => l.variantId))}, ${uuidArray(reservation.lines.map((l) => l.locationId))},
                    ${intArray(reservation.lines.map((l) => l.quantity))}) as v (variant_id, location_id, quantity)`
    : undefined;
  const updateLevels = levels.length > 0
    ? sql`
      update inventory.stock_levels s
      set on_hand = v.on_hand, reserved = v.reserved, updated_at = now()
      from unnest(${uuidArray(levels.map((l) => l.variantId))}, ${uuidArray(levels.map((l) => l.locationId))},
                  ${intArray(levels.map((l) => l.onHand))}, ${intArray(levels.map((l) => l.reserved))})
        as v (variant_id, location_id, on_hand, reserved)
      where s.variant_id = v.variant_id and s.location_id = v.location_id`
    : undefined;
  const insertMovements = sql`
    insert into inventory.movements (id, variant_id, location_id, type, on_hand_delta, reserved_delta, reason, reference, actor_id)
    select * from unnest(
      ${uuidArray(ids)}, ${uuidArray(movements.map((m) => m.variantId))}, ${uuidArray(movements.map((m) => m.locationId))},
      ${textArray(movements.map((m) => m.type))}, ${intArray(movements.map((m) => m.onHandDelta))}, ${intArray(movements.map((m) => m.reservedDelta))},
      ${textArray(movements.map((m) => m.reason))}, ${textArray(movements.map((m) => m.reference))}, ${textArray(movements.map((m) => m.actorId))})`;
  // Parents first (a reservation before its lines), as separate writes or as one statement's CTEs.
  const writes = [insertReservation, reservationLines, updateLevels].filter((w): w is RawBuilder<unknown> => w !== undefined);
  if (options.atCommit) {
    const write = await writeAtCommit(db, () => [...writes, insertMovements]);
    if (!write.written) pendingWrites.set(db, [...(pendingWrites.get(db) ?? []), write]);
    return ids;
  }
  const parts = writes.map((w, i) => sql`${sql.raw(`w${i}`)} as (${w})`);
  await (parts.length > 0 ? sql`with ${sql.join(parts)} ${insertMovements}` : insertMovements).execute(db);
  return ids;
}

export interface MovementRow {
  seq: number;
  id: string;
  variantId: string;
  locationId: string;
  type: MovementType;
  onHandDelta: number;
  reservedDelta: number;
  reason: string;
  reference: string | null;
  actorId: string | null;
  createdAt: Date;
}

export async function listMovements(db: Db, variantId: string, limit: number, beforeSeq?: number): Promise<MovementRow[]> {
  await writePending(db);
  const { rows } = await sql<any>`
    select * from inventory.movements
    where variant_id = ${variantId} ${beforeSeq === undefined ? sql`` : sql`and seq < ${beforeSeq}`}
    order by seq desc limit ${limit}`.execute(db);
  return rows.map((r) => ({
    seq: r.seq,
    id: r.id,
    variantId: r.variant_id,
    locationId: r.location_id,
    type: r.type,
    onHandDelta: r.on_hand_delta,
    reservedDelta: r.reserved_delta,
    reason: r.reason,
    reference: r.reference,
    actorId: r.actor_id,
    createdAt: r.created_at,
  }));
}

export interface SellableTotals {
  variantId: string;
  productId: string;
  sellerId: string;
  lowStockThreshold: number;
  onHand: number;
  reserved: number;
}

/** Totals over sellable locations, one row per known variant (zero when it has no stock yet). */
export async function sellableTotals(db: Db, variantIds: string[]): Promise<SellableTotals[]> {
  await writePending(db);
  if (variantIds.length === 0) return [];
  const { rows } = await sql<any>`
    select v.variant_id, v.product_id, v.seller_id, v.low_stock_threshold,
           coalesce(sum(s.on_hand) filter (where l.sellable), 0)::int as on_hand,
           coalesce(sum(s.reserved) filter (where l.sellable), 0)::int as reserved
    from inventory.variants v
    left join inventory.stock_levels s on s.variant_id = v.variant_id
    left join inventory.locations l on l.id = s.location_id
    where v.variant_id = any(${sql`${variantIds}::uuid[]`})
    group by v.variant_id
    order by v.variant_id`.execute(db);
  return rows.map((r) => ({
    variantId: r.variant_id,
    productId: r.product_id,
    sellerId: r.seller_id,
    lowStockThreshold: r.low_stock_threshold,
    onHand: r.on_hand,
    reserved: r.reserved,
  }));
}

export async function availableByVariant(db: Db, variantIds: string[]): Promise<Map<string, number>> {
  await writePending(db);
  const result = new Map<string, number>();
  if (variantIds.length === 0) return result;
  const { rows } = await sql<any>`
    select s.variant_id, sum(s.on_hand - s.reserved)::int as available
    from inventory.stock_levels s join inventory.locations l on l.id = s.location_id
    where l.sellable and ${equalsAny(sql`s.variant_id`, variantIds, 'uuid')}
    group by s.variant_id`.execute(db);
  for (const r of rows) result.set(r.variant_id, r.available);
  return result;
}

export async function availableByProduct(db: Db, productIds: string[]): Promise<Map<string, number>> {
  await writePending(db);
  const result = new Map<string, number>();
  if (productIds.length === 0) return result;
  const { rows } = await sql<any>`
    select s.variant_id, sum(s.on_hand - s.reserved)::int as available
    from inventory.variants v
    join inventory.stock_levels s on s.variant_id = v.variant_id
    join inventory.locations l on l.id = s.location_id
    where l.sellable and v.product_id = any(${sql`${productIds}::uuid[]`})
    group by s.variant_id`.execute(db);
  for (const r of rows) result.set(r.variant_id, r.available);
  return result;
}

export interface ReservationRow {
  id: string;
  reference: string;
  status: 'active' | 'committed' | 'released' | 'expired';
  expiresAt: Date;
}

export async function findReservation(db: Db, id: string): Promise<ReservationRow | undefined> {
  await writePending(db);
  const { rows } = await sql<any>`select * from inventory.reservations where id = ${id}`.execute(db);
  const r = rows[0];
  return r ? { id: r.id, reference: r.reference, status: r.status, expiresAt: r.expires_at } : undefined;
}

/**
 * Moves an active reservation to its final status and returns it with its lines (in lock order), in
 * one statement. The row lock this takes makes a concurrent commit and release of the same
 * reservation take turns; the loser sees it is no longer active.
 */
export async function closeReservation(
  db: Db,
  id: string,
  status: 'released' | 'expired',
): Promise<(ReservationRow & { lines: LocatedQuantity[] }) | undefined> {
  await writePending(db);
  const { rows } = await sql<any>`
    with closed as (
      update inventory.reservations set status = ${status}, updated_at = now()
      where id = ${id} and status = 'active'
      returning *
    )
    select c.id, c.reference, c.status, c.expires_at, l.variant_id, l.location_id, l.quantity
    from closed c left join inventory.reservation_lines l on l.reservation_id = c.id
    order by l.variant_id, l.location_id`.execute(db);
  const r = rows[0];
  if (!r) return undefined;
  return {
    id: r.id,
    reference: r.reference,
    status: r.status,
    expiresAt: r.expires_at,
    lines: rows.filter((l) => l.variant_id !== null).map((l) => ({ variantId: l.variant_id, locationId: l.location_id, quantity: l.quantity })),
  };
}

/**
 * Sells an active reservation in one statement: marks it committed, takes its units off on hand and
 * reserved, and writes the sale movements. The levels are locked first, in (variant, location) order
 * like every other writer's, before any is changed (an uncorrelated sub-select runs before the update
 * scans). A sale of reserved units cannot fail the level checks (the reservation held them), and
 * leaves `available` as it was, so nothing needs reading back. Undefined when the reservation was not
 * active; otherwise its reference and lines.
 */
export async function sellReservation(
  db: Db,
  id: string,
): Promise<{ reference: string; lines: LocatedQuantity[] } | undefined> {
  await writePending(db);
  const { rows } = await sql<any>`
    with closed as (
      update inventory.reservations set status = 'committed', updated_at = now()
      where id = ${id} and status = 'active'
      returning id, reference
    ), lines as (
      select l.variant_id, l.location_id, l.quantity, c.reference
      from inventory.reservation_lines l join closed c on c.id = l.reservation_id
    ), locked as (
      select s.variant_id from inventory.stock_levels s
      join lines l on l.variant_id = s.variant_id and l.location_id = s.location_id
      order by s.variant_id, s.location_id
      for update of s
    ), sold as (
      update inventory.stock_levels s
      set on_hand = s.on_hand - l.quantity, reserved = s.reserved - l.quantity, updated_at = now()
      from lines l
      where s.variant_id = l.variant_id and s.location_id = l.location_id and (select count(*) from locked) >= 0
    ), moved as (
      insert into inventory.movements (id, variant_id, location_id, type, on_hand_delta, reserved_delta, reason, reference, actor_id)
      select gen_random_uuid(), l.variant_id, l.location_id, 'sale', -l.quantity, -l.quantity, 'sold', l.reference, null
      from lines l
    )
    select c.reference, l.variant_id, l.location_id, l.quantity
    from closed c left join lines l on true
    order by l.variant_id, l.location_id`.execute(db);
  if (rows.length === 0) return undefined;
  return {
    reference: rows[0].reference,
    lines: rows.filter((r) => r.variant_id !== null).map((r) => ({ variantId: r.variant_id, locationId: r.location_id, quantity: r.quantity })),
  };
}

/**
 * sellReservation with the transaction's last statement, for a caller that knows the reservation is
 * active and what it holds (the order that made it, locked, well before it expires): the same three
 * writes, each reading the reservation's lines, its levels locked in the global order first.
 * `notActive` fails the transaction if the reservation was not active after all.
 */
export async function sellReservationAtCommit(db: Db, id: string, reference: string, notActive: () => Error): Promise<void> {
  await writePending(db);
  const write = await writeAtCommit(db, () => [
    {
      statement: sql`update inventory.reservations set status = 'committed', updated_at = now() where id = ${id} and status = 'active'`,
      mustWrite: notActive,
    },
    sql`
      update inventory.stock_levels s
      set on_hand = s.on_hand - l.quantity, reserved = s.reserved - l.quantity, updated_at = now()
      from (
        select l.variant_id, l.location_id, l.quantity
        from inventory.reservation_lines l
        join inventory.stock_levels held on held.variant_id = l.variant_id and held.location_id = l.location_id
        where l.reservation_id = ${id}
        order by l.variant_id, l.location_id
        for update of held
      ) l
      where s.variant_id = l.variant_id and s.location_id = l.location_id`,
    sql`
      insert into inventory.movements (id, variant_id, location_id, type, on_hand_delta, reserved_delta, reason, reference, actor_id)
      select gen_random_uuid(), l.variant_id, l.location_id, 'sale', -l.quantity, -l.quantity, 'sold', ${reference}::text, null
      from inventory.reservation_lines l where l.reservation_id = ${id}`,
  ]);
  if (!write.written) pendingWrites.set(db, [...(pendingWrites.get(db) ?? []), write]);
}

export async function expiredReservationIds(db: Db, limit: number): Promise<string[]> {
  await writePending(db);
  const { rows } = await sql<any>`
    select id from inventory.reservations
    where status = 'active' and expires_at <= now()
    order by expires_at limit ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

/** Ledger invariant check: levels whose on hand or reserved differ from the sum of their movements. */
export async function levelsOutOfBalance(db: Db, variantIds?: string[]) {
  await writePending(db);
  const { rows } = await sql<any>`
    select s.variant_id, s.location_id, s.on_hand, s.reserved,
           coalesce(m.on_hand, 0)::int as ledger_on_hand, coalesce(m.reserved, 0)::int as ledger_reserved
    from inventory.stock_levels s
    left join (
      select variant_id, location_id, sum(on_hand_delta) as on_hand, sum(reserved_delta) as reserved
      from inventory.movements group by variant_id, location_id
    ) m on m.variant_id = s.variant_id and m.location_id = s.location_id
    where (s.on_hand <> coalesce(m.on_hand, 0) or s.reserved <> coalesce(m.reserved, 0))
      ${variantIds ? sql`and s.variant_id = any(${sql`${variantIds}::uuid[]`})` : sql``}`.execute(db);
  return rows;
}
