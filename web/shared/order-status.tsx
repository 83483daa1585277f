import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useApi } from './session.tsx';
import type { Order, OrderStatus, ShippingAddress } from './types.ts';
import { Badge, formatDate, Price } from './ui.tsx';

/**
 * One order, kept current while its payment runs: while it is pending, each request waits on the
 * server until the order changes (`waitWhileStatus`), so the page learns of the payment at once
 * without polling.
 */
export function useOrder(id: string, enabled = true) {
  const api = useApi();
  const queryClient = useQueryClient();
  return useQuery({
    queryKey: ['order', id],
    queryFn: ({ signal }) => {
      const seen = queryClient.getQueryData<Order>(['order', id]);
      return api.orders.get(id, seen?.status === 'pending' ? 'pending' : undefined, signal);
    },
    enabled,
    refetchInterval: (query) => (query.state.data?.status === 'pending' ? 250 : false),
  });
}

/** How both apps name and draw an order's status: the badge, and the timeline of its life so far. */

export const STATUS_LABELS: Record<string, string> = {
  pending: 'Awaiting payment',
  paid: 'Paid',
  payment_failed: 'Payment failed',
  cancelled: 'Cancelled',
  shipped: 'Shipped',
  delivered: 'Delivered',
  refunded: 'Refunded',
  processing: 'Partly shipped',
};

export function statusLabel(status: string): string {
  return STATUS_LABELS[status] ?? status.replaceAll('_', ' ');
}

export function StatusBadge({ status }: { status: OrderStatus }) {
  const tone =
    status === 'paid' || status === 'delivered'
      ? 'success'
      : status === 'shipped'
        ? 'info'
        : status === 'pending'
          ? 'warning'
          : status === 'payment_failed'
            ? 'danger'
            : 'neutral';
  return (
    <span data-testid="order-status" data-status={status}>
      <Badge tone={tone}>{statusLabel(status)}</Badge>
    </span>
  );
}

export function orderNumber(order: { id: string; number?: string }): string {
  return order.number ?? order.id.slice(-8).toUpperCase();
}

/** The way an order normally goes; the statuses still ahead of it are drawn greyed out. */
const HAPPY_PATH = ['pending', 'paid', 'shipped', 'delivered'];
const STEP_LABELS: Record<string, string> = {
  pending: 'Order placed',
  paid: 'Payment received',
  processing: 'Partly shipped',
  shipped: 'Shipped',
  delivered: 'Delivered',
  payment_failed: 'Payment failed',
  cancelled: 'Cancelled',
  refunded: 'Refunded',
};
const FINAL = new Set(['delivered', 'cancelled', 'refunded']);
const FAILED = new Set(['payment_failed', 'cancelled', 'refunded']);

/**
 * The order's life so far, one step per status change in its history (with when and why), then the
 * steps of the normal path it has not reached yet.
 */
export function OrderTimeline({ order }: { order: Order }) {
  const history = order.history.length ? order.history : [{ from: null, to: 'pending', at: order.createdAt, reason: null }];
  const done = history.map((h, i) => ({
    key: `${h.to}-${i}`,
    label: STEP_LABELS[h.to] ?? statusLabel(h.to),
    state: FAILED.has(h.to) ? 'failed' : i === history.length - 1 && !FINAL.has(h.to) ? 'current' : 'done',
    at: h.at,
    reason: h.reason,
  }));
  const reachedIndex = Math.max(...history.map((h) => HAPPY_PATH.indexOf(h.to === 'processing' ? 'paid' : h.to)));
  const ahead = FINAL.has(order.status) || order.status === 'payment_failed' ? [] : HAPPY_PATH.slice(reachedIndex + 1);
  return (
    <ol className="timeline" aria-label="Order progress">
      {done.map((step) => (
        <li key={step.key} className={step.state} aria-current={step.state === 'current' ? 'step' : undefined}>
          <strong>{step.label}</strong>
          <span className="small muted"> · {formatDate(step.at, true)}</span>
          {step.reason ? <div className="small muted">{step.reason}</div> : null}
        </li>
      ))}
      {ahead.map((s) => (
        <li key={s} className="todo">
          <span className="muted">{STEP_LABELS[s]}</span>
        </li>
      ))}
    </ol>
  );
}

/** An order's figures, each part shown on its own line as checkout priced it (tax included). */
export function OrderTotals({ order }: { order: Order }) {
  return (
    <dl className="totals">
      <dt>Subtotal</dt>
      <dd>
        <Price money={order.subtotal} />
      </dd>
      {order.discount.amount > 0 ? (
        <>
          <dt>Discount{order.couponCode ? ` (${order.couponCode})` : ''}</dt>
          <dd className="discount">
            −<Price money={order.discount} />
          </dd>
        </>
      ) : null}
      <dt>Shipping</dt>
      <dd>{order.shipping.amount === 0 ? 'Free' : <Price money={order.shipping} />}</dd>
      {order.tax ? (
        <>
          <dt>Tax</dt>
          <dd>
            <Price money={order.tax} />
          </dd>
        </>
      ) : null}
      <dt className="total">Total</dt>
      <dd className="total">
        <Price money={order.total} />
      </dd>
    </dl>
  );
}

export function AddressLines({ address }: { address: ShippingAddress }) {
  return (
    <address className="address">
      {address.name}
      <br />
      {address.line1}
      {address.line2 ? (
        <>
          <br />
          {address.line2}
        </>
      ) : null}
      <br />
      {address.postalCode} {address.city}
      <br />
      {address.country}
    </address>
  );
}

export const paymentMethodLabel = (method: Order['payment']['method']) =>
  method === 'card' ? 'Card' : method === 'cod' ? 'Cash on delivery' : 'Store credit';
