import { LRUCache } from 'lru-cache';
import { sql, type RawBuilder } from 'kysely';
import { equalsAny, type Db } from '../../kernel/db/database.ts';
import { writeAtCommit, writeLast, type CommitWrite, type DeferredWrite } from '../../kernel/events/outbox.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { perApp } from '../../kernel/per-app.ts';
import type { OrderStatus, ShippingAddress } from './contract.ts';
import type { PaymentMethodKind } from './service.ts';

export type ReservationState = 'held' | 'committed' | 'released' | 'restocked';
export type GroupStatus = 'pending' | 'shipped' | 'delivered' | 'cancelled';

export interface LineRecord {
  id: string;
  groupId: string;
  position: number;
  productId: string;
  variantId: string;
  sellerId: string;
  name: string;
  sku: string;
  options: Record<string, string>;
  quantity: number;
  unitPrice: number;
  discount: number;
  lineTotal: number;
  weightGrams: number | null;
}

export interface GroupRecord {
  id: string;
  sellerId: string;
  position: number;
  status: GroupStatus;
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
  trackingNumber: string | null;
  carrier: string | null;
  shippedAt: Date | null;
  deliveredAt: Date | null;
}

export interface HistoryRecord {
  from: OrderStatus | null;
  to: OrderStatus;
  actorId: string | null;
  reason: string | null;
  groupId: string | null;
  at: Date;
}

export interface OrderRow {
  id: string;
  userId: string;
  status: OrderStatus;
  currency: string;
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
  taxRateBps: number;
  couponId: string | null;
  couponCode: string | null;
  shippingAddress: ShippingAddress;
  paymentMethod: PaymentMethodKind;
  paymentId: string | null;
  paymentStatus: string;
  reservationId: string;
  reservationState: ReservationState;
  reservationCount: number;
  paymentDueAt: Date;
  createdAt: Date;
  updatedAt: Date;
}

export interface OrderRecord extends OrderRow {
  lines: LineRecord[];
  groups: GroupRecord[];
  history: HistoryRecord[];
}

function toOrderRow(r: Record<string, any>): OrderRow {
  return {
    id: r.id,
    userId: r.user_id,
    status: r.status,
    currency: r.currency,
    subtotal: r.subtotal,
    discount: r.discount,
    shipping: r.shipping,
    tax: r.tax,
    total: r.total,
    taxRateBps: r.tax_rate_bps,
    couponId: r.coupon_id,
    couponCode: r.coupon_code,
    shippingAddress: r.shipping_address,
    paymentMethod: r.payment_method,
    paymentId: r.payment_id,
    paymentStatus: r.payment_status,
    reservationId: r.reservation_id,
    reservationState: r.reservation_state,
    reservationCount: r.reservation_count,
    paymentDueAt: new Date(r.payment_due_at),
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}

const toLine = (r: Record<string, any>): LineRecord => ({
  id: r.id,
  groupId: r.group_id,
  position: r.position,
  productId: r.product_id,
  variantId: r.variant_id,
  sellerId: r.seller_id,
  name: r.name,
  sku: r.sku,
  options: r.options ?? {},
  quantity: r.quantity,
  unitPrice: r.unit_price,
  discount: r.discount,
  lineTotal: r.line_total,
  weightGrams: r.weight_grams,
});

const toGroup = (r: Record<string, any>): GroupRecord => ({
  id: r.id,
  sellerId: r.seller_id,
  position: r.position,
  status: r.status,
  subtotal: r.subtotal,
  discount: r.discount,
  shipping: r.shipping,
  tax: r.tax,
  total: r.total,
  trackingNumber: r.tracking_number,
  carrier: r.carrier,
  shippedAt: r.shipped_at ? new Date(r.shipped_at) : null,
  deliveredAt: r.delivered_at ? new Date(r.delivered_at) : null,
});

const toHistory = (r: Record<string, any>): HistoryRecord => ({
  from: r.from_status,
  to: r.to_status,
  actorId: r.actor_id,
  reason: r.reason,
  groupId: r.group_id,
  at: new Date(r.at),
});

/**
 * Orders with their lines, groups and history in one statement for any number of orders: order pages
 * are polled (a buyer waiting for "paid"), so a read is one round trip, not four.
 */
export async function loadOrders(db: Db, orderIds: string[], lock = false): Promise<OrderRecord[]> {
  if (orderIds.length === 0) return [];
  await writePendingStates(db, orderIds);
  const { rows } = await sql<Record<string, any>>`
    select o.*,
      coalesce((select json_agg(l order by l.position) from orders.order_lines l where l.order_id = o.id), '[]') as lines_json,
      coalesce((select json_agg(g order by g.position) from orders.fulfilment_groups g where g.order_id = o.id), '[]') as groups_json,
      coalesce((select json_agg(h order by h.seq) from orders.status_history h where h.order_id = o.id), '[]') as history_json
    from orders.orders o where ${equalsAny(sql`o.id`, orderIds, 'uuid')}
    ${lock ? sql`for update of o` : sql``}`.execute(db);
  const parsed = (value: unknown): Record<string, any>[] => (typeof value === 'string' ? JSON.parse(value) : value) as Record<string, any>[];
  const byId = new Map(
    rows.map((r) => [
      r.id as string,
      {
        ...toOrderRow(r),
        lines: parsed(r.lines_json).map(toLine),
        groups: parsed(r.groups_json).map(toGroup),
        history: parsed(r.history_json).map(toHistory),
      } as OrderRecord,
    ]),
  );
  return orderIds.map((id) => byId.get(id)).filter((o): o is OrderRecord => !!o);
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids come from URLs; anything that is not a uuid names no order. */
export const isOrderId = (id: string) => UUID.test(id);

export async function loadOrder(db: Db, orderId: string): Promise<OrderRecord | undefined> {
  if (!isOrderId(orderId)) return undefined;
  return (await loadOrders(db, [orderId]))[0];
}

/**
 * Locks the order row for the rest of the transaction, then loads it: every status change goes
 * through here, so two changes of one order (a payment event and a cancellation) run one after the other.
 */
export async function lockOrder(tx: Db, orderId: string): Promise<OrderRecord | undefined> {
  if (!isOrderId(orderId)) return undefined;
  // Locked and read in one statement: the order row is locked before its lines, groups and history are read.
  return (await loadOrders(tx, [orderId], true))[0];
}

/**
 * The order with its groups, lines and first history, written with the checkout's last statement
 * (nothing in the checkout reads them back): its transaction makes fewer round trips.
 */
export async function insertOrderLast(tx: Db, order: OrderRecord): Promise<void> {
  const groups = order.groups.map(
    (g) => sql`(${g.id}::uuid, ${order.id}::uuid, ${g.sellerId}::text, ${g.position}::int, ${g.status}, ${g.subtotal}::bigint,
                ${g.discount}::bigint, ${g.shipping}::bigint, ${g.tax}::bigint, ${g.total}::bigint)`,
  );
  const lines = order.lines.map(
    (l) => sql`(${l.id}::uuid, ${order.id}::uuid, ${l.groupId}::uuid, ${l.position}::int, ${l.productId}::text, ${l.variantId}::text,
                ${l.sellerId}::text, ${l.name}, ${l.sku}, ${JSON.stringify(l.options)}::jsonb, ${l.quantity}::int, ${l.unitPrice}::bigint,
                ${l.discount}::bigint, ${l.lineTotal}::bigint, ${l.weightGrams}::int)`,
  );
  const history = order.history.map(
    (h) => sql`(${order.id}::uuid, ${h.from}::text, ${h.to}::text, ${h.actorId}::text, ${h.reason}::text, ${h.groupId}::uuid, ${h.at}::timestamptz)`,
  );
  // Parents first: run one by one (a transaction the kernel does not own), each row's references exist.
  const writes: CommitWrite[] = [
    {
      statement: sql`
        insert into orders.orders (id, user_id, status, currency, subtotal, discount, shipping, tax, total, tax_rate_bps,
          coupon_id, coupon_code, shipping_address, payment_method, payment_id, payment_status, reservation_id,
          reservation_state, reservation_count, payment_due_at, created_at, updated_at)
        values (${order.id}, ${order.userId}, ${order.status}, ${order.currency}, ${order.subtotal}, ${order.discount},
          ${order.shipping}, ${order.tax}, ${order.total}, ${order.taxRateBps}, ${order.couponId}, ${order.couponCode},
          ${JSON.stringify(order.shippingAddress)}::jsonb, ${order.paymentMethod}, ${order.paymentId}, ${order.paymentStatus},
          ${order.reservationId}, ${order.reservationState}, ${order.reservationCount}, ${order.paymentDueAt},
          ${order.createdAt}, ${order.updatedAt})`,
    },
  ];
  const children: [RawBuilder<unknown>, RawBuilder<unknown>[]][] = [
    [sql`insert into orders.fulfilment_groups (id, order_id, seller_id, position, status, subtotal, discount, shipping, tax, total)`, groups],
    [
      sql`insert into orders.order_lines (id, order_id, group_id, position, product_id, variant_id, seller_id, name, sku, options,
            quantity, unit_price, discount, line_total, weight_grams)`,
      lines,
    ],
    [sql`insert into orders.status_history (order_id, from_status, to_status, actor_id, reason, group_id, at)`, history],
  ];
  for (const [into, rows] of children) if (rows.length > 0) writes.push({ statement: sql`${into} values ${sql.join(rows)}` });
  await writeLast(tx, writes);
}

/** The order row's mutable fields (status, payment and stock bookkeeping), as one SET list. */
function stateAssignments(order: OrderRow) {
  return sql`
      status = ${order.status},
      payment_method = ${order.paymentMethod},
      payment_id = ${order.paymentId},
      payment_status = ${order.paymentStatus},
      reservation_id = ${order.reservationId},
      reservation_state = ${order.reservationState},
      reservation_count = ${order.reservationCount},
      payment_due_at = ${order.paymentDueAt},
      updated_at = ${order.updatedAt}`;
}

/**
 * An order's state and new history entries, left for its transaction's last statement: nothing after
 * a status change reads them back (its waiters and events take the record in memory), so a payment's
 * "paid" costs no statement of its own. Changed again in the same transaction, the order keeps one
 * pending write, of its state as of the commit; reading it in the transaction writes it first.
 */
interface StateAtCommit {
  order: OrderRow;
  history: HistoryRecord[];
  write: DeferredWrite;
}
const statesAtCommit = new WeakMap<Db, Map<string, StateAtCommit>>();

function historyInsert(orderId: string, entries: HistoryRecord[]) {
  const rows = entries.map((h) => sql`(${orderId}::uuid, ${h.from}::text, ${h.to}::text, ${h.actorId}::text, ${h.reason}::text, ${h.groupId}::uuid, ${h.at}::timestamptz)`);
  return sql`insert into orders.status_history (order_id, from_status, to_status, actor_id, reason, group_id, at) values ${sql.join(rows)}`;
}

const stateUpdate = (order: OrderRow) => sql`update orders.orders set ${stateAssignments(order)} where id = ${order.id}`;

const pendingState = (tx: Db, orderId: string) => {
  const state = statesAtCommit.get(tx)?.get(orderId);
  return state && !state.write.written ? state : undefined;
};

/** Writes what is pending for these orders in `tx` now, before `tx` reads them. */
async function writePendingStates(tx: Db, orderIds: string[]): Promise<void> {
  for (const id of orderIds) await pendingState(tx, id)?.write.writeNow();
}

/** A status change: the history entry and the order row's new state, written as the transaction commits. */
export async function saveOrderStateWithHistory(tx: Db, order: OrderRow, h: HistoryRecord): Promise<void> {
  const pending = pendingState(tx, order.id);
  if (pending) {
    pending.order = order;
    pending.history.push(h);
    return;
  }
  const state = { order, history: [h] } as StateAtCommit;
  state.write = await writeAtCommit(tx, () => [historyInsert(state.order.id, state.history), stateUpdate(state.order)]);
  if (state.write.written) return;
  const states = statesAtCommit.get(tx) ?? new Map<string, StateAtCommit>();
  statesAtCommit.set(tx, states);
  states.set(order.id, state);
}

/** Writes the order row's mutable fields back (status, payment and stock bookkeeping). */
export async function saveOrderState(tx: Db, order: OrderRow): Promise<void> {
  const pending = pendingState(tx, order.id);
  if (pending) {
    pending.order = order;
    return;
  }
  await stateUpdate(order).execute(tx);
}

export async function saveGroup(tx: Db, orderId: string, g: GroupRecord): Promise<void> {
  await sql`
    update orders.fulfilment_groups set status = ${g.status}, tracking_number = ${g.trackingNumber}, carrier = ${g.carrier},
      shipped_at = ${g.shippedAt}, delivered_at = ${g.deliveredAt}
    where id = ${g.id} and order_id = ${orderId}`.execute(tx);
}

export interface OrderPageQuery {
  userId?: string;
  status?: OrderStatus;
  /** Id of the last order of the previous page (ids are UUID v7: newest first is id descending). */
  before?: string;
  limit: number;
}

export async function listOrderIds(db: Db, q: OrderPageQuery): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from orders.orders
    where true
      ${q.userId ? sql`and user_id = ${q.userId}` : sql``}
      ${q.status ? sql`and status = ${q.status}` : sql``}
      ${q.before ? sql`and id < ${q.before}` : sql``}
    order by id desc limit ${q.limit}`.execute(db);
  return rows.map((r) => r.id);
}

/** A seller's groups, newest order first. */
export async function listSellerOrderIds(db: Db, q: { sellerId: string; status?: string; before?: string; limit: number }): Promise<string[]> {
  const { rows } = await sql<{ order_id: string }>`
    select order_id from orders.fulfilment_groups
    where seller_id = ${q.sellerId}
      ${q.status ? sql`and status = ${q.status}` : sql``}
      ${q.before ? sql`and order_id < ${q.before}` : sql``}
    order by order_id desc limit ${q.limit}`.execute(db);
  return rows.map((r) => r.order_id);
}

/** Unpaid orders past their payment deadline (the expiry job's work list). */
export async function overdueOrderIds(db: Db, limit: number): Promise<string[]> {
  const { rows } = await sql<{ id: string }>`
    select id from orders.orders
    where status in ('pending', 'payment_failed') and payment_due_at < now()
    order by payment_due_at limit ${limit}`.execute(db);
  return rows.map((r) => r.id);
}

/**
 * Tax rates as last read, for a second: every checkout needs one and they change rarely. A rate set
 * through this app is dropped at once (`recentTaxRates(ctx).delete`); another instance's change is
 * seen within the second.
 */
export const recentTaxRates = perApp(() => new LRUCache<string, number>({ max: 500, ttl: 1000 }));

export async function findTaxRateCached(ctx: ModuleContext, country: string): Promise<number> {
  const cache = recentTaxRates(ctx);
  const known = cache.get(country);
  if (known !== undefined) return known;
  const rate = await findTaxRate(ctx.db, country);
  cache.set(country, rate);
  return rate;
}

export async function findTaxRate(db: Db, country: string): Promise<number> {
  const { rows } = await sql<{ rate_bps: number }>`select rate_bps from orders.tax_rates where country = ${country}`.execute(db);
  return rows[0]?.rate_bps ?? 0;
}

export interface TaxRateRecord {
  country: string;
  rateBps: number;
  updatedAt: Date;
}

export async function upsertTaxRate(tx: Db, country: string, rateBps: number, actorId: string): Promise<TaxRateRecord> {
  const { rows } = await sql<Record<string, any>>`
    insert into orders.tax_rates (country, rate_bps, updated_by) values (${country}, ${rateBps}, ${actorId})
    on conflict (country) do update set rate_bps = excluded.rate_bps, updated_at = now(), updated_by = excluded.updated_by
    returning *`.execute(tx);
  const r = rows[0]!;
  return { country: r.country, rateBps: r.rate_bps, updatedAt: new Date(r.updated_at) };
}

export async function listTaxRates(db: Db): Promise<TaxRateRecord[]> {
  const { rows } = await sql<Record<string, any>>`select * from orders.tax_rates order by country`.execute(db);
  return rows.map((r) => ({ country: r.country, rateBps: r.rate_bps, updatedAt: new Date(r.updated_at) }));
}
