import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState } from 'react';
import { Link, Navigate, useParams, useSearchParams } from 'react-router';
import { ApiError, describeError, newIdempotencyKey } from '../../shared/api.ts';
import { AddressLines, OrderTimeline, OrderTotals, orderNumber, paymentMethodLabel, StatusBadge, useOrder } from '../../shared/order-status.tsx';
import { useApi, useSession } from '../../shared/session.tsx';
import type { Order } from '../../shared/types.ts';
import { Button, Card, EmptyState, ErrorNotice, Notice, Price, Skeleton, formatDate, useDocumentTitle } from '../../shared/ui.tsx';
import { productPath } from '../catalog.ts';
import { TEST_CARDS } from './Checkout.tsx';

const DECLINE_MESSAGES: Record<string, string> = {
  card_declined: 'Your card was declined by the bank.',
  insufficient_funds: 'Your card was declined: insufficient funds.',
};

export default function OrderPage() {
  const { id = '' } = useParams();
  const [params] = useSearchParams();
  const session = useSession();
  const order = useOrder(id, !!session);
  useDocumentTitle(order.data ? `Order ${orderNumber(order.data)}` : 'Order', 'Bazaar');

  if (!session) return <Navigate to={`/signin?next=${encodeURIComponent(`/account/orders/${id}`)}`} replace />;
  if (order.isPending) return <div className="container page narrow"><Skeleton lines={8} /></div>;
  if (order.isError) {
    return (
      <div className="container page narrow">
        {order.error instanceof ApiError && order.error.status === 404 && !order.error.missingEndpoint ? (
          <EmptyState title="We could not find that order" action={<Link to="/account/orders">Your orders</Link>} />
        ) : (
          <ErrorNotice error={order.error} what="Orders" />
        )}
      </div>
    );
  }
  return <OrderView order={order.data} justPlaced={params.has('placed')} />;
}

function OrderView({ order, justPlaced }: { order: Order; justPlaced: boolean }) {
  const api = useApi();
  const client = useQueryClient();
  const cancel = useMutation({
    mutationFn: () => api.orders.cancel(order.id),
    onSuccess: (next) => client.setQueryData(['order', order.id], next),
  });
  // The gateway's reason for a decline lives on the payment, not the order.
  const payments = useQuery({
    queryKey: ['payments', order.id],
    queryFn: () => api.payments.list({ orderId: order.id }),
    enabled: order.status === 'payment_failed',
    retry: false,
  });
  const failed = payments.data?.items.find((p) => p.status === 'failed');
  const failure = failed?.declineCode ?? null;
  const failureText = failed?.failureMessage ?? null;
  const cancellable = order.status === 'pending' || order.status === 'paid' || order.status === 'payment_failed';

  return (
    <div className="container page narrow stack">
      <div className="row row-between">
        <div>
          <p className="small muted">
            <Link to="/account/orders">Your orders</Link> /
          </p>
          <h1>Order {orderNumber(order)}</h1>
          <p className="muted">Placed {formatDate(order.createdAt, true)}</p>
        </div>
        <StatusBadge status={order.status} />
      </div>

      {justPlaced && order.status === 'pending' ? (
        <Notice tone="info" title="Thank you! Your order is placed.">
          We are confirming your payment…
        </Notice>
      ) : null}
      {justPlaced && (order.status === 'paid' || order.status === 'shipped') ? (
        <Notice tone="success" title="Thank you! Your order is confirmed.">
          Payment received. We will email you when it ships.
        </Notice>
      ) : null}
      {order.status === 'payment_failed' ? (
        <Notice tone="error" title="Payment failed">
          {DECLINE_MESSAGES[failure ?? ''] ?? failureText ?? (failure ? `Your payment was declined (${failure.replaceAll('_', ' ')}).` : 'Your card was declined.')} Nothing was
          charged. Try another card below.
        </Notice>
      ) : null}

      <Card title="Progress">
        <OrderTimeline order={order} />
      </Card>

      {order.status === 'payment_failed' ? <RetryPayment order={order} /> : null}

      <Card title="Items">
        <ul className="summary-lines">
          {order.items.map((item, i) => (
            <li key={item.id ?? i}>
              <span>
                {item.quantity} × <Link to={productPath(item.productId)}>{item.name}</Link>
              </span>
              <Price money={item.lineTotal} />
            </li>
          ))}
        </ul>
        <OrderTotals order={order} />
      </Card>

      <div className="grid-2">
        {order.shippingAddress ? (
          <Card title="Delivery address">
            <AddressLines address={order.shippingAddress} />
          </Card>
        ) : null}
        {order.payment ? (
          <Card title="Payment">
            <p>{paymentMethodLabel(order.payment.method)}</p>
            {order.payment.status ? <p className="small muted">Status: {order.payment.status.replaceAll('_', ' ')}</p> : null}
          </Card>
        ) : null}
      </div>

      {cancellable ? (
        <div>
          <Button variant="danger" busy={cancel.isPending} onClick={() => window.confirm('Cancel this order?') && cancel.mutate()}>
            Cancel order
          </Button>
          {cancel.isError ? <Notice tone="error">{describeError(cancel.error)}</Notice> : null}
        </div>
      ) : null}
    </div>
  );
}

function RetryPayment({ order }: { order: Order }) {
  const api = useApi();
  const client = useQueryClient();
  const [card, setCard] = useState<string>(TEST_CARDS[0].token);
  const key = useRef<{ card: string; key: string } | null>(null);
  const pay = useMutation({
    mutationFn: () => {
      if (key.current?.card !== card) key.current = { card, key: newIdempotencyKey() };
      return api.payments.pay(order.id, { method: 'card', token: card }, key.current.key);
    },
    onSuccess: () => client.invalidateQueries({ queryKey: ['order', order.id] }),
  });
  return (
    <Card title="Try another card">
      <div className="form">
        <div className="field">
          <label htmlFor="retry-card">Card</label>
          <select id="retry-card" className="input" value={card} onChange={(e) => setCard(e.target.value)}>
            {TEST_CARDS.map((c) => (
              <option key={c.token} value={c.token}>
                {c.label}
              </option>
            ))}
          </select>
        </div>
        <Button busy={pay.isPending} onClick={() => pay.mutate()}>
          Pay <Price money={order.total} />
        </Button>
        {pay.isError ? <ErrorNotice error={pay.error} what="Paying again" /> : null}
      </div>
    </Card>
  );
}
