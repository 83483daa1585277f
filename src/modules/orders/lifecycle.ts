import type { Db } from '../../kernel/db/database.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import {
  InsufficientStockError,
  ReservationNotActiveError,
  STOCK_PORT,
  type StockPort,
} from '../inventory/contract.ts';
import type { PaymentChanged, RefundChanged } from '../payments/contract.ts';
import { PROMOTIONS_PORT, type PromotionsPort } from '../promotions/contract.ts';
import { OrderEvents, type OrderChanged, type OrderStatus } from './contract.ts';
import { assertTransition } from './service.ts';
import * as store from './store.ts';
import { notifyWhenCommitted } from './watch.ts';
import type { GroupRecord, OrderRecord } from './store.ts';

/**
 * Applying the lifecycle to stored orders: every status change goes through `changeStatus` (the
 * transition table's check, a history row, the event), and the stock and coupon effects of each
 * change live next to it. Callers hold the order's row lock (store.lockOrder).
 */

export interface Change {
  actorId: string | null;
  reason: string;
  groupId?: string | null;
}

const EVENT_OF: Partial<Record<OrderStatus, string>> = {
  paid: OrderEvents.OrderPaid,
  payment_failed: OrderEvents.OrderPaymentFailed,
  cancelled: OrderEvents.OrderCancelled,
  refunded: OrderEvents.OrderRefunded,
};

const money = (amount: number, currency: string) => ({ amount, currency });

export function orderSnapshot(order: OrderRecord, previousStatus: OrderStatus | null, change: Change): OrderChanged {
  const c = order.currency;
  return {
    orderId: order.id,
    userId: order.userId,
    status: order.status,
    previousStatus,
    lines: order.lines.map((l) => ({
      lineId: l.id,
      groupId: l.groupId,
      productId: l.productId,
      variantId: l.variantId,
      sellerId: l.sellerId,
      name: l.name,
      sku: l.sku,
      quantity: l.quantity,
      unitPrice: money(l.unitPrice, c),
      discount: money(l.discount, c),
      lineTotal: money(l.lineTotal, c),
    })),
    groups: order.groups.map((g) => ({
      groupId: g.id,
      sellerId: g.sellerId,
      status: g.status,
      subtotal: money(g.subtotal, c),
      discount: money(g.discount, c),
      shipping: money(g.shipping, c),
      tax: money(g.tax, c),
      total: money(g.total, c),
      trackingNumber: g.trackingNumber,
      carrier: g.carrier,
    })),
    subtotal: money(order.subtotal, c),
    discount: money(order.discount, c),
    shipping: money(order.shipping, c),
    tax: money(order.tax, c),
    total: money(order.total, c),
    currency: c,
    couponCode: order.couponCode,
    shippingAddress: order.shippingAddress,
    payment: { paymentId: order.paymentId, method: order.paymentMethod },
    placedAt: order.createdAt.toISOString(),
    actorId: change.actorId,
    reason: change.reason,
    ...(change.groupId ? { groupId: change.groupId } : {}),
  };
}

export async function publishOrderEvent(ctx: ModuleContext, tx: Db, type: string, order: OrderRecord, previous: OrderStatus | null, change: Change, options: { eager?: boolean } = {}) {
  await ctx.publish(tx, { type, aggregateId: order.id, data: orderSnapshot(order, previous, change), ...options });
}

/** The one way an order's status changes: checked against the table, recorded in history, announced. */
export async function changeStatus(ctx: ModuleContext, tx: Db, order: OrderRecord, to: OrderStatus, change: Change): Promise<void> {
  assertTransition(order, to);
  // Every change of the order in this transaction goes through this record and is written from it,
  // so once committed it is the order as stored: waiters get it without reading it again.
  notifyWhenCommitted(ctx, tx, order);
  const from = order.status;
  const at = new Date();
  order.status = to;
  order.updatedAt = at;
  const entry = { from, to, actorId: change.actorId, reason: change.reason, groupId: change.groupId ?? null, at };
  order.history.push(entry);
  await store.saveOrderStateWithHistory(tx, order, entry);
  const type = EVENT_OF[to];
  if (type) await publishOrderEvent(ctx, tx, type, order, from, change);
}

// ---------------------------------------------------------------- stock

const stockPort = (ctx: ModuleContext) => ctx.ports.get<StockPort>(STOCK_PORT);
/** Far more than any skew between our clock and the database's, which judges a hold's expiry. */
const SURELY_HELD_MARGIN_MS = 60_000;

export function reservationLines(order: OrderRecord, groups?: GroupRecord[]) {
  const groupIds = groups ? new Set(groups.map((g) => g.id)) : undefined;
  return order.lines.filter((l) => !groupIds || groupIds.has(l.groupId)).map((l) => ({ variantId: l.variantId, quantity: l.quantity }));
}

export function paymentDeadline(ctx: ModuleContext, from = new Date()): Date {
  return new Date(from.getTime() + ctx.config.ORDER_PAYMENT_TIMEOUT_MINUTES * 60_000);
}

/** Holds the order's stock again under a new reservation (a retried or late payment). Throws InsufficientStockError. */
export async function holdStockAgain(ctx: ModuleContext, tx: Db, order: OrderRecord): Promise<void> {
  const reservationId = `${order.id}:${order.reservationCount + 1}`;
  const expiresAt = paymentDeadline(ctx);
  await stockPort(ctx).reserve(tx, { reservationId, lines: reservationLines(order), expiresAt, reference: order.id });
  order.reservationId = reservationId;
  order.reservationCount += 1;
  order.reservationState = 'held';
  order.paymentDueAt = expiresAt;
}

/**
 * Turns the order's hold into a sale. A hold that lapsed meanwhile (the payment arrived after
 * inventory's expiry job released it) is taken again if the stock is still there; 'unavailable' if not.
 */
export async function commitStock(ctx: ModuleContext, tx: Db, order: OrderRecord): Promise<'committed' | 'unavailable'> {
  if (order.reservationState === 'committed') return 'committed';
  if (order.reservationState === 'held') {
    // The order is locked, so nothing of ours releases its hold meanwhile, and inventory's expiry job
    // releases only holds past their expiry (the payment deadline): well before it, the hold is surely
    // active, and its sale can go with the transaction's last statement.
    const surelyHeld = order.paymentDueAt.getTime() - Date.now() > SURELY_HELD_MARGIN_MS;
    try {
      await stockPort(ctx).commitReservation(tx, order.reservationId, surelyHeld ? { reference: order.id, lines: reservationLines(order) } : undefined);
      order.reservationState = 'committed';
      return 'committed';
    } catch (error) {
      if (!(error instanceof ReservationNotActiveError)) throw error;
    }
  }
  try {
    await holdStockAgain(ctx, tx, order);
  } catch (error) {
    if (error instanceof InsufficientStockError) {
      order.reservationState = 'released';
      return 'unavailable';
    }
    throw error;
  }
  await stockPort(ctx).commitReservation(tx, order.reservationId);
  order.reservationState = 'committed';
  return 'committed';
}

export async function releaseStock(ctx: ModuleContext, tx: Db, order: OrderRecord, reason: string): Promise<void> {
  if (order.reservationState !== 'held') return;
  // Idempotent in inventory: a hold its own expiry job already released is left as it is.
  await stockPort(ctx).releaseReservation(tx, order.reservationId, reason);
  order.reservationState = 'released';
}

/** Gives the order's stock back: a hold is released, sold units of unshipped groups go back on hand. */
export async function returnStock(ctx: ModuleContext, tx: Db, order: OrderRecord, reason: string): Promise<void> {
  if (order.reservationState === 'held') return releaseStock(ctx, tx, order, reason);
  if (order.reservationState !== 'committed') return;
  const unshipped = order.groups.filter((g) => g.status === 'pending');
  const lines = reservationLines(order, unshipped);
  if (lines.length > 0) await stockPort(ctx).restock(tx, lines, reason, order.id);
  order.reservationState = 'restocked';
}

async function releaseCoupon(ctx: ModuleContext, tx: Db, order: OrderRecord): Promise<void> {
  if (!order.couponId) return;
  await ctx.ports.get<PromotionsPort>(PROMOTIONS_PORT).release(tx, order.id);
}

async function closeOpenGroups(tx: Db, order: OrderRecord, statuses: GroupRecord['status'][]): Promise<void> {
  for (const group of order.groups) {
    if (!statuses.includes(group.status)) continue;
    group.status = 'cancelled';
    await store.saveGroup(tx, order.id, group);
  }
}

/**
 * Cancels an order: its stock goes back, its coupon use is given back, and payments (on the
 * cancelled event) voids a payment not yet made and refunds a captured one.
 */
export async function cancel(ctx: ModuleContext, tx: Db, order: OrderRecord, change: Change): Promise<void> {
  await returnStock(ctx, tx, order, `order cancelled: ${change.reason}`);
  await releaseCoupon(ctx, tx, order);
  await closeOpenGroups(tx, order, ['pending', 'shipped']);
  await changeStatus(ctx, tx, order, 'cancelled', change);
}

// ---------------------------------------------------------------- payment outcomes

const system = (reason: string): Change => ({ actorId: null, reason });

/** payments.payment.captured: the order is paid (its stock sold), or, if it was cancelled meanwhile, left cancelled (payments refunds). */
export async function recordPaymentCaptured(ctx: ModuleContext, tx: Db, event: PaymentChanged): Promise<void> {
  const order = await store.lockOrder(tx, event.orderId);
  if (!order) return;
  order.paymentId = event.paymentId;
  order.paymentStatus = 'captured';
  if (order.status !== 'pending' && order.status !== 'payment_failed') {
    await store.saveOrderState(tx, order);
    return;
  }
  if ((await commitStock(ctx, tx, order)) === 'unavailable') {
    await cancel(ctx, tx, order, system('the stock was no longer available when the payment arrived; the payment is refunded'));
    return;
  }
  await changeStatus(ctx, tx, order, 'paid', system(`payment ${event.paymentId} captured`));
}

/** payments.payment.authorized: a cash-on-delivery order is accepted and goes to fulfilment unpaid. */
export async function recordPaymentAuthorized(ctx: ModuleContext, tx: Db, event: PaymentChanged): Promise<void> {
  const order = await store.lockOrder(tx, event.orderId);
  if (!order || order.status !== 'pending') return;
  order.paymentStatus = 'pending';
  if ((await commitStock(ctx, tx, order)) === 'unavailable') {
    await cancel(ctx, tx, order, system('the stock was no longer available'));
    return;
  }
  await changeStatus(ctx, tx, order, 'processing', system('cash on delivery: payment is collected at the door'));
}

/** payments.payment.failed: the stock goes back; the customer may retry until the payment deadline. */
export async function recordPaymentFailed(ctx: ModuleContext, tx: Db, event: PaymentChanged): Promise<void> {
  const order = await store.lockOrder(tx, event.orderId);
  // A failure of an earlier attempt than the order's current payment changes nothing.
  if (!order || order.paymentId !== event.paymentId) return;
  if (order.status !== 'pending' && order.status !== 'payment_failed') return;
  order.paymentStatus = 'failed';
  await releaseStock(ctx, tx, order, 'payment failed');
  await changeStatus(ctx, tx, order, 'payment_failed', system(`payment failed: ${event.declineCode ?? 'unknown reason'}`));
}

/** payments.refund.succeeded: a full refund ends the order as refunded (unshipped stock goes back). */
export async function recordRefund(ctx: ModuleContext, tx: Db, event: RefundChanged): Promise<void> {
  const order = await store.lockOrder(tx, event.orderId);
  // A refund of an earlier, abandoned attempt (a charge that landed too late) leaves the order alone.
  if (!order || order.paymentId !== event.paymentId) return;
  order.paymentStatus = event.fullyRefunded ? 'refunded' : 'partially_refunded';
  const open: OrderStatus[] = ['paid', 'processing', 'shipped', 'delivered'];
  if (!event.fullyRefunded || !open.includes(order.status)) {
    await store.saveOrderState(tx, order);
    return;
  }
  await returnStock(ctx, tx, order, 'order refunded before shipment');
  await closeOpenGroups(tx, order, ['pending']);
  await changeStatus(ctx, tx, order, 'refunded', { actorId: null, reason: `refunded in full: ${event.reason}` });
}

// ---------------------------------------------------------------- expiry

/** Cancels one unpaid order whose payment deadline passed (the expiry job, one transaction each). */
export async function expireUnpaidOrder(ctx: ModuleContext, tx: Db, orderId: string): Promise<boolean> {
  const order = await store.lockOrder(tx, orderId);
  if (!order || (order.status !== 'pending' && order.status !== 'payment_failed')) return false;
  if (order.paymentDueAt.getTime() > Date.now()) return false;
  const minutes = ctx.config.ORDER_PAYMENT_TIMEOUT_MINUTES;
  await cancel(ctx, tx, order, system(`no payment within ${minutes} minute${minutes === 1 ? '' : 's'}`));
  return true;
}
