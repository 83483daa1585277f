import { Type } from '@sinclair/typebox';
import type { OrderRecord } from './store.ts';

/** The HTTP shapes of orders: one schema per shape, serving validation, serialisation and OpenAPI. */

const MoneySchema = Type.Object({ amount: Type.Integer(), currency: Type.String() });
const Status = Type.Union(
  ['pending', 'payment_failed', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded'].map((s) => Type.Literal(s)),
);
const Timestamp = Type.String({ format: 'date-time' });
const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const ShippingAddressSchema = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    line1: Type.String({ minLength: 1, maxLength: 200 }),
    line2: Type.Optional(Type.String({ maxLength: 200 })),
    city: Type.String({ minLength: 1, maxLength: 100 }),
    region: Type.Optional(Type.String({ maxLength: 100 })),
    postalCode: Type.String({ minLength: 1, maxLength: 20, pattern: '^[A-Za-z0-9 -]+$' }),
    country: Type.String({ pattern: '^[A-Z]{2}$', description: 'ISO 3166-1 alpha-2' }),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{4,25}$' })),
  },
  { additionalProperties: false },
);

export const OrderItem = Type.Object({
  id: Type.String(),
  groupId: Type.String(),
  productId: Type.String(),
  variantId: Type.String(),
  sellerId: Type.String(),
  name: Type.String(),
  sku: Type.String(),
  options: Type.Record(Type.String(), Type.String()),
  quantity: Type.Integer(),
  unitPrice: MoneySchema,
  discount: MoneySchema,
  lineTotal: MoneySchema,
});

export const FulfilmentGroup = Type.Object({
  id: Type.String(),
  sellerId: Type.String(),
  status: Type.Union(['pending', 'shipped', 'delivered', 'cancelled'].map((s) => Type.Literal(s))),
  itemIds: Type.Array(Type.String()),
  subtotal: MoneySchema,
  discount: MoneySchema,
  shipping: MoneySchema,
  tax: MoneySchema,
  total: MoneySchema,
  trackingNumber: Nullable(Type.String()),
  carrier: Nullable(Type.String()),
  shippedAt: Nullable(Timestamp),
  deliveredAt: Nullable(Timestamp),
});

export const HistoryEntry = Type.Object({
  from: Type.Union([Status, Type.Null()]),
  to: Status,
  at: Timestamp,
  actorId: Nullable(Type.String()),
  reason: Nullable(Type.String()),
  groupId: Nullable(Type.String()),
});

export const Order = Type.Object({
  id: Type.String(),
  userId: Type.String(),
  status: Status,
  items: Type.Array(OrderItem),
  groups: Type.Array(FulfilmentGroup),
  subtotal: MoneySchema,
  discount: MoneySchema,
  shipping: MoneySchema,
  tax: MoneySchema,
  total: MoneySchema,
  currency: Type.String(),
  taxRateBps: Type.Integer({ description: 'Tax rate of the shipping country, in basis points (1 % = 100)' }),
  couponCode: Nullable(Type.String()),
  shippingAddress: ShippingAddressSchema,
  payment: Type.Object({
    id: Nullable(Type.String()),
    method: Type.Union([Type.Literal('card'), Type.Literal('cod'), Type.Literal('store_credit')]),
    status: Type.String(),
  }),
  /** Until when the order's stock is held for its payment (pending and payment_failed orders). */
  paymentDueAt: Nullable(Timestamp),
  history: Type.Array(HistoryEntry),
  /** Set when a seller looks: the figures above are that seller's group only. */
  sellerView: Type.Boolean(),
  createdAt: Timestamp,
  updatedAt: Timestamp,
});

const money = (amount: number, currency: string) => ({ amount, currency });
const iso = (d: Date | null) => (d ? d.toISOString() : null);

/** The order as its owner, an admin or support sees it; with `sellerId`, only that seller's part. */
export function orderView(order: OrderRecord, sellerId?: string) {
  const c = order.currency;
  const groups = sellerId ? order.groups.filter((g) => g.sellerId === sellerId) : order.groups;
  const items = sellerId ? order.lines.filter((l) => l.sellerId === sellerId) : order.lines;
  const figures = sellerId
    ? {
        subtotal: groups.reduce((a, g) => a + g.subtotal, 0),
        discount: groups.reduce((a, g) => a + g.discount, 0),
        shipping: groups.reduce((a, g) => a + g.shipping, 0),
        tax: groups.reduce((a, g) => a + g.tax, 0),
        total: groups.reduce((a, g) => a + g.total, 0),
      }
    : order;
  const unpaid = order.status === 'pending' || order.status === 'payment_failed';
  return {
    id: order.id,
    userId: order.userId,
    status: order.status,
    items: items.map((l) => ({
      id: l.id,
      groupId: l.groupId,
      productId: l.productId,
      variantId: l.variantId,
      sellerId: l.sellerId,
      name: l.name,
      sku: l.sku,
      options: l.options,
      quantity: l.quantity,
      unitPrice: money(l.unitPrice, c),
      discount: money(l.discount, c),
      lineTotal: money(l.lineTotal, c),
    })),
    groups: groups.map((g) => ({
      id: g.id,
      sellerId: g.sellerId,
      status: g.status,
      itemIds: order.lines.filter((l) => l.groupId === g.id).map((l) => l.id),
      subtotal: money(g.subtotal, c),
      discount: money(g.discount, c),
      shipping: money(g.shipping, c),
      tax: money(g.tax, c),
      total: money(g.total, c),
      trackingNumber: g.trackingNumber,
      carrier: g.carrier,
      shippedAt: iso(g.shippedAt),
      deliveredAt: iso(g.deliveredAt),
    })),
    subtotal: money(figures.subtotal, c),
    discount: money(figures.discount, c),
    shipping: money(figures.shipping, c),
    tax: money(figures.tax, c),
    total: money(figures.total, c),
    currency: c,
    taxRateBps: order.taxRateBps,
    couponCode: order.couponCode,
    shippingAddress: order.shippingAddress,
    payment: { id: order.paymentId, method: order.paymentMethod, status: order.paymentStatus },
    paymentDueAt: unpaid ? order.paymentDueAt.toISOString() : null,
    // A seller sees the order-wide transitions and its own group's, not another seller's (who shipped what, and who they are).
    history: (sellerId ? order.history.filter((h) => h.groupId === null || groups.some((g) => g.id === h.groupId)) : order.history).map((h) => ({
      from: h.from,
      to: h.to,
      at: h.at.toISOString(),
      actorId: h.actorId,
      reason: h.reason,
      groupId: h.groupId,
    })),
    sellerView: !!sellerId,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
  };
}
