import { useInfiniteQuery } from '@tanstack/react-query';
import { Link, Navigate } from 'react-router';
import { isMissingEndpoint } from '../../shared/api.ts';
import { useApi, useSession } from '../../shared/session.tsx';
import { orderNumber, StatusBadge } from '../../shared/order-status.tsx';
import { Button, EmptyState, ErrorNotice, NotAvailable, Price, Skeleton, formatDate, useDocumentTitle } from '../../shared/ui.tsx';

export default function OrdersPage() {
  useDocumentTitle('Your orders', 'Bazaar');
  const session = useSession();
  const api = useApi();
  const orders = useInfiniteQuery({
    queryKey: ['orders', 'mine'],
    queryFn: ({ pageParam }) => api.orders.list({ limit: 20, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    enabled: !!session,
    retry: false,
  });
  if (!session) return <Navigate to="/signin?next=/account/orders" replace />;
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="container page narrow">
      <h1>Your orders</h1>
      {orders.isPending ? <Skeleton lines={6} /> : null}
      {orders.isError ? isMissingEndpoint(orders.error) ? <NotAvailable what="Order history" /> : <ErrorNotice error={orders.error} /> : null}
      {orders.isSuccess && items.length === 0 ? (
        <EmptyState title="No orders yet" action={<Link to="/search" className="btn btn-primary">Start shopping</Link>}>
          When you place an order it shows up here, with its delivery status.
        </EmptyState>
      ) : null}
      {items.length ? (
        <ul className="order-list">
          {items.map((order) => (
            <li key={order.id}>
              <Link to={`/account/orders/${encodeURIComponent(order.id)}`} className="order-row">
                <span>
                  <strong>Order {orderNumber(order)}</strong>
                  <span className="small muted"> · {formatDate(order.createdAt)}</span>
                  <br />
                  <span className="small muted">
                    {order.items.length} item{order.items.length === 1 ? '' : 's'}: {order.items.map((i) => i.name).slice(0, 3).join(', ')}
                    {order.items.length > 3 ? '…' : ''}
                  </span>
                </span>
                <span className="order-row-end">
                  <StatusBadge status={order.status} />
                  <Price money={order.total} />
                </span>
              </Link>
            </li>
          ))}
        </ul>
      ) : null}
      {orders.hasNextPage ? (
        <div className="load-more">
          <Button variant="secondary" busy={orders.isFetchingNextPage} onClick={() => orders.fetchNextPage()}>
            Older orders
          </Button>
        </div>
      ) : null}
    </div>
  );
}
