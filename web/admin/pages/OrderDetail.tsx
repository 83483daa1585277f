import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useRef, useState, type FormEvent } from 'react';
import { Link, useParams } from 'react-router';
import { describeError, isMissingEndpoint, newIdempotencyKey } from '../../shared/api.ts';
import { formatMoney, parseMoneyInput } from '../../shared/money.ts';
import { AddressLines, OrderTimeline, OrderTotals, orderNumber, paymentMethodLabel, StatusBadge, useOrder } from '../../shared/order-status.tsx';
import { useApi, useCan, useSession } from '../../shared/session.tsx';
import type { FulfilmentGroup, Money, Order, Payment } from '../../shared/types.ts';
import { Badge, Button, Card, ErrorNotice, Notice, Price, Skeleton, TextField, formatDate, useDocumentTitle } from '../../shared/ui.tsx';

export default function OrderDetail() {
  const { id = '' } = useParams();
  const order = useOrder(id);
  useDocumentTitle(order.data ? `Order ${orderNumber(order.data)}` : 'Order', 'Bazaar Admin');
  if (order.isPending) return <Skeleton lines={10} />;
  if (order.isError) return <ErrorNotice error={order.error} what="Orders" />;
  return <OrderView order={order.data} />;
}

function OrderView({ order }: { order: Order }) {
  const api = useApi();
  const can = useCan();
  const session = useSession()!;
  const client = useQueryClient();
  const [notice, setNotice] = useState<string | null>(null);
  const changed = (next: Order, text: string) => {
    client.setQueryData(['order', order.id], next);
    void client.invalidateQueries({ queryKey: ['admin-orders'] });
    void client.invalidateQueries({ queryKey: ['payments', order.id] });
    setNotice(text);
  };
  const cancel = useMutation({ mutationFn: (reason: string) => api.orders.cancel(order.id, reason), onSuccess: (o) => changed(o, 'Order cancelled.') });
  const deliver = useMutation({ mutationFn: (groupId: string) => api.orders.deliver(order.id, groupId), onSuccess: (o) => changed(o, 'Marked delivered.') });
  const admin = can('orders:manage');
  const cancellable = admin && ['pending', 'payment_failed', 'paid', 'processing', 'shipped'].includes(order.status);
  const groups = order.groups ?? [];

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <p className="small muted">
            <Link to="/orders">Orders</Link> /
          </p>
          <h1>Order {orderNumber(order)}</h1>
          <p className="muted">
            Placed {formatDate(order.createdAt, true)} · <span className="mono small">{order.id}</span>
          </p>
        </div>
        <StatusBadge status={order.status} />
      </div>
      {order.sellerView ? <Notice tone="info">You see your part of this order: your items, your parcel and its figures.</Notice> : null}
      {notice ? <Notice tone="success">{notice}</Notice> : null}

      <div className="detail-layout">
        <div className="stack">
          <Card title="Items">
            <div className="table-wrap">
              <table className="table">
                <thead>
                  <tr>
                    <th scope="col">Item</th>
                    <th scope="col" className="num">
                      Qty
                    </th>
                    <th scope="col" className="num">
                      Price
                    </th>
                    <th scope="col" className="num">
                      Total
                    </th>
                  </tr>
                </thead>
                <tbody>
                  {order.items.map((item) => (
                    <tr key={item.id}>
                      <td>
                        {item.name}
                        <div className="small muted mono">{item.sku}</div>
                      </td>
                      <td className="num">{item.quantity}</td>
                      <td className="num">
                        <Price money={item.unitPrice} />
                      </td>
                      <td className="num">
                        <Price money={item.lineTotal} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
            <OrderTotals order={order} />
          </Card>

          <Card title="Parcels">
            {groups.length === 0 ? <p className="muted">No parcels.</p> : null}
            <ul className="parcels">
              {groups.map((g, i) => (
                <Parcel
                  key={g.id}
                  group={g}
                  index={i}
                  order={order}
                  mayShip={can('orders:ship') && (admin || g.sellerId === session.user.id) && ['paid', 'processing'].includes(order.status)}
                  mayDeliver={can('orders:deliver') && g.status === 'shipped'}
                  onShipped={(o) => changed(o, 'Marked shipped.')}
                  onDeliver={() => deliver.mutate(g.id)}
                  delivering={deliver.isPending && deliver.variables === g.id}
                />
              ))}
            </ul>
            {deliver.isError ? <Notice tone="error">{describeError(deliver.error)}</Notice> : null}
          </Card>

          {can('payments:read-any') ? <Payments order={order} mayRefund={can('payments:refund')} onRefunded={() => setNotice('Refund requested.')} /> : null}
        </div>

        <aside className="stack">
          <Card title="Status">
            <OrderTimeline order={order} />
          </Card>
          <Card title="Ship to">
            <AddressLines address={order.shippingAddress} />
          </Card>
          <Card title="Payment">
            <p>
              {paymentMethodLabel(order.payment.method)} · <Badge>{order.payment.status}</Badge>
            </p>
          </Card>
          {cancellable ? <CancelForm busy={cancel.isPending} onCancel={(reason) => cancel.mutate(reason)} error={cancel.error} /> : null}
        </aside>
      </div>
    </div>
  );
}

function Parcel({
  group,
  index,
  order,
  mayShip,
  mayDeliver,
  onShipped,
  onDeliver,
  delivering,
}: {
  group: FulfilmentGroup;
  index: number;
  order: Order;
  mayShip: boolean;
  mayDeliver: boolean;
  onShipped: (o: Order) => void;
  onDeliver: () => void;
  delivering: boolean;
}) {
  const api = useApi();
  const [tracking, setTracking] = useState('');
  const [carrier, setCarrier] = useState('');
  const ship = useMutation({
    mutationFn: () => api.orders.ship(order.id, { trackingNumber: tracking.trim(), ...(carrier.trim() ? { carrier: carrier.trim() } : {}), groupId: group.id }),
    onSuccess: onShipped,
  });
  const items = order.items.filter((i) => group.itemIds.includes(i.id));
  return (
    <li className="parcel">
      <div className="row row-between">
        <strong>Parcel {index + 1}</strong>
        <Badge tone={group.status === 'shipped' ? 'info' : group.status === 'delivered' ? 'success' : group.status === 'cancelled' ? 'neutral' : 'warning'}>{group.status}</Badge>
      </div>
      <p className="small muted">
        {items.map((i) => `${i.quantity} × ${i.name}`).join(', ')}
        {group.trackingNumber ? ` · ${group.carrier ?? 'Tracking'} ${group.trackingNumber}` : ''}
        {group.shippedAt ? ` · shipped ${formatDate(group.shippedAt)}` : ''}
      </p>
      {mayShip && group.status === 'pending' ? (
        <form
          className="inline-form"
          onSubmit={(e: FormEvent) => {
            e.preventDefault();
            if (tracking.trim()) ship.mutate();
          }}
        >
          <TextField label="Tracking number" value={tracking} onChange={(e) => setTracking(e.target.value)} maxLength={100} />
          <TextField label="Carrier" value={carrier} onChange={(e) => setCarrier(e.target.value)} maxLength={100} placeholder="optional" />
          <Button type="submit" busy={ship.isPending} disabled={!tracking.trim()}>
            Mark shipped
          </Button>
        </form>
      ) : null}
      {ship.isError ? <Notice tone="error">{describeError(ship.error)}</Notice> : null}
      {mayDeliver ? (
        <Button variant="secondary" size="sm" busy={delivering} onClick={onDeliver}>
          Mark delivered
        </Button>
      ) : null}
    </li>
  );
}

function Payments({ order, mayRefund, onRefunded }: { order: Order; mayRefund: boolean; onRefunded: () => void }) {
  const api = useApi();
  const payments = useQuery({ queryKey: ['payments', order.id], queryFn: () => api.payments.list({ orderId: order.id }), retry: false });
  return (
    <Card title="Payments">
      {payments.isPending ? <Skeleton lines={2} /> : null}
      {payments.isError ? isMissingEndpoint(payments.error) ? <p className="muted">Payment details are not available yet.</p> : <ErrorNotice error={payments.error} /> : null}
      {payments.data?.items.length === 0 ? <p className="muted">No payments.</p> : null}
      <ul className="payments">
        {payments.data?.items.map((p) => (
          <li key={p.id}>
            <div className="row row-between">
              <span>
                {p.method === 'card' ? `Card${p.card?.last4 ? ` •••• ${p.card.last4}` : ''}` : p.method === 'cod' ? 'Cash on delivery' : 'Store credit'} · <Badge tone={p.status === 'captured' ? 'success' : p.status === 'failed' ? 'danger' : 'neutral'}>{p.status}</Badge>
                {p.declineCode ? <span className="small muted"> ({p.declineCode.replaceAll('_', ' ')})</span> : null}
              </span>
              <span>
                <Price money={p.amount} />
                {p.refunded.amount > 0 ? <span className="small muted"> · refunded {formatMoney(p.refunded)}</span> : null}
              </span>
            </div>
            {mayRefund && p.status === 'captured' && p.refunded.amount < p.amount.amount ? <RefundForm payment={p} onRefunded={onRefunded} /> : null}
          </li>
        ))}
      </ul>
    </Card>
  );
}

function RefundForm({ payment, onRefunded }: { payment: Payment; onRefunded: () => void }) {
  const api = useApi();
  const client = useQueryClient();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const key = useRef<{ body: string; key: string } | null>(null);
  const refund = useMutation({
    mutationFn: (body: { amount?: Money; reason: string }) => {
      const text = JSON.stringify(body);
      if (key.current?.body !== text) key.current = { body: text, key: newIdempotencyKey() };
      return api.payments.refund(payment.id, body, key.current.key);
    },
    onSuccess: () => {
      setAmount('');
      setReason('');
      onRefunded();
      // The refund settles through events; look again shortly.
      setTimeout(() => {
        void client.invalidateQueries({ queryKey: ['payments', payment.orderId] });
        void client.invalidateQueries({ queryKey: ['order', payment.orderId] });
      }, 800);
    },
  });
  const left = payment.amount.amount - payment.refunded.amount;
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const minor = amount.trim() ? parseMoneyInput(amount, payment.amount.currency) : undefined;
    if (minor === null || (minor !== undefined && (minor < 1 || minor > left))) return setError(`An amount up to ${formatMoney({ amount: left, currency: payment.amount.currency })}, or empty for all of it`);
    if (!reason.trim()) return setError('Give a reason; the customer sees it');
    setError(null);
    refund.mutate({ ...(minor !== undefined ? { amount: { amount: minor, currency: payment.amount.currency } } : {}), reason: reason.trim() });
  };
  return (
    <form className="inline-form refund-form" onSubmit={submit} noValidate>
      <TextField label="Refund amount" hint={`Empty refunds all ${formatMoney({ amount: left, currency: payment.amount.currency })}`} inputMode="decimal" value={amount} onChange={(e) => setAmount(e.target.value)} />
      <TextField label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
      <Button type="submit" variant="danger" busy={refund.isPending}>
        Refund
      </Button>
      {error ? <p className="field-error" role="alert">{error}</p> : null}
      {refund.isError ? <ErrorNotice error={refund.error} what="Refunds" /> : null}
    </form>
  );
}

function CancelForm({ busy, onCancel, error }: { busy: boolean; onCancel: (reason: string) => void; error: unknown }) {
  const [reason, setReason] = useState('');
  return (
    <Card title="Cancel order">
      <form
        className="form"
        onSubmit={(e) => {
          e.preventDefault();
          if (window.confirm('Cancel this order? Stock goes back and a captured payment is refunded.')) onCancel(reason.trim() || 'cancelled by an admin');
        }}
      >
        <TextField label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} placeholder="Customer asked by phone" />
        <Button type="submit" variant="danger" busy={busy}>
          Cancel order
        </Button>
        {error ? <Notice tone="error">{describeError(error)}</Notice> : null}
      </form>
    </Card>
  );
}
