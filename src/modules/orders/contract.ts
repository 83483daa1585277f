import type { Db } from '../../kernel/db/database.ts';

/**
 * The public face of orders: the order events (each carries a full snapshot, so notifications,
 * invoicing, analytics and shipping never call back), and the port payments uses to look an order up
 * and to hold its stock again for a retried payment.
 */

export interface Money {
  amount: number;
  currency: string;
}

export type OrderStatus =
  | 'pending'
  | 'payment_failed'
  | 'paid'
  | 'processing'
  | 'shipped'
  | 'delivered'
  | 'cancelled'
  | 'refunded';

export const OrderEvents = {
  OrderPlaced: 'orders.order.placed',
  OrderPaid: 'orders.order.paid',
  OrderPaymentFailed: 'orders.order.payment_failed',
  OrderCancelled: 'orders.order.cancelled',
  OrderShipped: 'orders.order.shipped',
  OrderDelivered: 'orders.order.delivered',
  OrderRefunded: 'orders.order.refunded',
} as const;

export interface OrderLineSnapshot {
  lineId: string;
  groupId: string;
  productId: string;
  variantId: string;
  sellerId: string;
  name: string;
  sku: string;
  quantity: number;
  unitPrice: Money;
  /** Coupon discount allocated to this line. */
  discount: Money;
  /** unitPrice × quantity − discount. */
  lineTotal: Money;
}

export interface FulfilmentGroupSnapshot {
  groupId: string;
  sellerId: string;
  status: string;
  subtotal: Money;
  discount: Money;
  shipping: Money;
  tax: Money;
  total: Money;
  trackingNumber: string | null;
  carrier: string | null;
}

export interface ShippingAddress {
  name: string;
  line1: string;
  line2?: string;
  city: string;
  region?: string;
  postalCode: string;
  country: string;
  phone?: string;
}

/** Payload of every orders.order.* event: the order as it is after the change, and why it changed. */
export interface OrderChanged {
  orderId: string;
  userId: string;
  status: OrderStatus;
  previousStatus: OrderStatus | null;
  lines: OrderLineSnapshot[];
  groups: FulfilmentGroupSnapshot[];
  subtotal: Money;
  discount: Money;
  shipping: Money;
  tax: Money;
  total: Money;
  currency: string;
  couponCode: string | null;
  shippingAddress: ShippingAddress;
  payment: { paymentId: string | null; method: 'card' | 'cod' | 'store_credit' };
  placedAt: string;
  actorId: string | null;
  reason: string | null;
  /** For shipped/delivered of one seller's part: the group that changed. */
  groupId?: string;
}

export const ORDERS_PORT = 'orders.orders';

export interface OrderForPayment {
  orderId: string;
  userId: string;
  status: OrderStatus;
  total: Money;
  groups: { groupId: string; sellerId: string; total: Money }[];
}

/** Port `orders.orders`. */
export interface OrdersPort {
  getOrderForPayment(orderId: string, tx?: Db): Promise<OrderForPayment | null>;
  /**
   * A customer retries a failed payment: holds the order's stock again (it was released when the
   * payment failed) and makes `paymentId`, paid by `method`, the order's current payment, inside the caller's transaction. Throws
   * OrderNotPayableError, or InsufficientStockError (inventory's) when the stock is gone meanwhile.
   */
  holdStockForPaymentRetry(tx: Db, input: { orderId: string; userId: string; paymentId: string; method: 'card' | 'cod' | 'store_credit' }): Promise<OrderForPayment>;
}

export class OrderNotPayableError extends Error {
  constructor(
    readonly reason: 'not-found' | 'not-retryable' | 'payment-in-progress',
    message: string,
  ) {
    super(message);
  }
}

export type { Db };
