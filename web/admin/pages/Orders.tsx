import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { isMissingEndpoint } from '../../shared/api.ts';
import { orderNumber, StatusBadge } from '../../shared/order-status.tsx';
import { useApi, useCan } from '../../shared/session.tsx';
import { Button, EmptyState, ErrorNotice, NotAvailable, Price, SelectField, Skeleton, formatDate, useDocumentTitle } from '../../shared/ui.tsx';

const ALL_STATUSES = ['pending', 'payment_failed', 'paid', 'processing', 'shipped', 'delivered', 'cancelled', 'refunded'];
/** A seller filters by the status of its own parcel. */
const GROUP_STATUSES = ['pending', 'shipped', 'delivered', 'cancelled'];

export default function Orders() {
  useDocumentTitle('Orders', 'Bazaar Admin');
  const api = useApi();
  const can = useCan();
  const everyone = can('orders:read-any');
  const [params, setParams] = useSearchParams();
  const status = params.get('status') ?? '';
  const orders = useInfiniteQuery({
    queryKey: ['admin-orders', everyone, status],
    queryFn: ({ pageParam }) => {
      const query = { limit: 25, cursor: pageParam, status: status || undefined };
      return everyone ? api.orders.listAll(query) : api.orders.listForSeller(query);
    },
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
    retry: false,
  });
  const items = orders.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Orders</h1>
          <p className="muted">{everyone ? 'Every order, newest first.' : 'Orders holding your items; you see your part of each.'}</p>
        </div>
      </div>
      <div className="filters">
        <SelectField
          label="Status"
          value={status}
          onChange={(e) => {
            const next = new URLSearchParams(params);
            if (e.target.value) next.set('status', e.target.value);
            else next.delete('status');
            setParams(next, { replace: true });
          }}
        >
          <option value="">All</option>
          {(everyone ? ALL_STATUSES : GROUP_STATUSES).map((s) => (
            <option key={s} value={s}>
              {s.replaceAll('_', ' ')}
            </option>
          ))}
        </SelectField>
      </div>
      {orders.isPending ? <Skeleton lines={6} /> : null}
      {orders.isError ? isMissingEndpoint(orders.error) ? <NotAvailable what="Order management" /> : <ErrorNotice error={orders.error} /> : null}
      {orders.isSuccess && items.length === 0 ? <EmptyState title="No orders yet" /> : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Order</th>
                <th scope="col">Placed</th>
                <th scope="col">Items</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Total
                </th>
              </tr>
            </thead>
            <tbody>
              {items.map((o) => (
                <tr key={o.id}>
                  <td>
                    <Link to={`/orders/${o.id}`} className="strong-link mono">
                      {orderNumber(o)}
                    </Link>
                  </td>
                  <td className="small">{formatDate(o.createdAt, true)}</td>
                  <td className="small">{o.items.reduce((n, i) => n + i.quantity, 0)}</td>
                  <td>
                    <StatusBadge status={o.status} />
                  </td>
                  <td className="num">
                    <Price money={o.total} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {orders.hasNextPage ? (
        <Button variant="secondary" busy={orders.isFetchingNextPage} onClick={() => orders.fetchNextPage()}>
          Older orders
        </Button>
      ) : null}
    </div>
  );
}
