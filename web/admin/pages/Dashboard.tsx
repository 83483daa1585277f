import { useQuery } from '@tanstack/react-query';
import { Link } from 'react-router';
import type { BazaarApi } from '../../shared/api.ts';
import { useApi, useCan, useSession } from '../../shared/session.tsx';
import type { Product } from '../../shared/types.ts';
import { Card, ErrorNotice, Skeleton, formatDate, useDocumentTitle } from '../../shared/ui.tsx';

/** Counting by paging would cost a request per 100 records; past this we say "100+". */
const COUNT_CAP = 100;

/**
 * Numbers as the existing APIs give them: no analytics module yet, so every figure is a count the
 * signed-in role can already read, and each tile links to where the records are.
 */
export default function Dashboard() {
  useDocumentTitle('Dashboard', 'Bazaar Admin');
  const session = useSession()!;
  const can = useCan();
  const isAdmin = can('catalog:write-any-product');
  const isSeller = session.user.roles.includes('seller');

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Hello, {session.user.name.split(' ')[0]}</h1>
          <p className="muted">{isAdmin ? 'The whole marketplace at a glance.' : isSeller ? 'How your store is doing.' : 'Your work for today.'}</p>
        </div>
      </div>
      <div className="stat-grid">
        {can('catalog:write-own-products') ? <ProductStats sellerId={isAdmin ? undefined : session.user.id} /> : null}
        {can('users:read-any') ? <CountTile label="Users" to="/users" queryKey="users" count={(api) => api.users.list({ limit: COUNT_CAP })} /> : null}
        {can('inventory:read') ? <CountTile label="Stock locations" to="/inventory" queryKey="locations" count={(api) => api.inventory.locations()} /> : null}
        {can('events:manage') ? (
          <CountTile label="Open dead letters" to="/dead-letters" queryKey="dead-letters" count={(api) => api.platform.deadLetters({ limit: COUNT_CAP, status: 'open' })} alertWhenAny />
        ) : null}
        {can('promotions:manage') ? <CountTile label="Coupons" to="/coupons" queryKey="coupons" count={(api) => api.promotions.list({ limit: COUNT_CAP })} /> : null}
      </div>
      <div className="grid-2">
        {can('catalog:write-own-products') ? <StatusBars sellerId={isAdmin ? undefined : session.user.id} /> : null}
        <CategoryBars />
        {can('audit:read') ? <RecentActivity /> : null}
      </div>
    </div>
  );
}

function useManagedProducts(sellerId: string | undefined) {
  const api = useApi();
  return useQuery({
    queryKey: ['dashboard', 'products', sellerId ?? 'all'],
    queryFn: () => api.catalog.products({ limit: COUNT_CAP, status: 'all', sellerId }),
  });
}

function ProductStats({ sellerId }: { sellerId?: string }) {
  const products = useManagedProducts(sellerId);
  const items = products.data?.items ?? [];
  const more = !!products.data?.nextCursor;
  const active = items.filter((p) => p.status === 'active').length;
  const outOfStock = items.filter((p) => p.status === 'active' && p.variants.every((v) => v.available <= 0)).length;
  return (
    <>
      <Tile label={sellerId ? 'Your products' : 'Products'} to="/products" value={products.data ? `${items.length}${more ? '+' : ''}` : undefined} error={products.error} />
      <Tile label="On sale now" to="/products" value={products.data ? `${active}${more ? '+' : ''}` : undefined} error={products.error} />
      <Tile label="Sold out" to="/inventory" value={products.data ? String(outOfStock) : undefined} error={products.error} alert={outOfStock > 0} />
    </>
  );
}

function CountTile({
  label,
  to,
  queryKey,
  count,
  alertWhenAny,
}: {
  label: string;
  to: string;
  queryKey: string;
  count: (api: BazaarApi) => Promise<{ items: unknown[]; nextCursor?: string | null }>;
  alertWhenAny?: boolean;
}) {
  const api = useApi();
  const query = useQuery({ queryKey: ['dashboard', queryKey], queryFn: () => count(api), retry: false });
  const n = query.data?.items.length ?? 0;
  const value = query.data ? `${n}${query.data.nextCursor ? '+' : ''}` : undefined;
  return <Tile label={label} to={to} value={value} error={query.error} alert={alertWhenAny && n > 0} />;
}

function Tile({ label, to, value, error, alert }: { label: string; to: string; value?: string; error?: unknown; alert?: boolean }) {
  return (
    <Link to={to} className={alert ? 'stat stat-link stat-alert' : 'stat stat-link'}>
      <div className="stat-value" data-testid={`stat-${label}`}>
        {value ?? (error ? '—' : <span className="skeleton" style={{ display: 'block', width: 48, height: 28 }} />)}
      </div>
      <div className="stat-label">{label}</div>
    </Link>
  );
}

function Bars({ rows }: { rows: { label: string; value: number }[] }) {
  const max = Math.max(1, ...rows.map((r) => r.value));
  return (
    <div className="bars">
      {rows.map((row) => (
        <div key={row.label} className="bar-row">
          <span className="bar-label">{row.label}</span>
          <span className="bar" role="img" aria-label={`${row.label}: ${row.value}`}>
            <span style={{ width: `${(row.value / max) * 100}%` }} />
          </span>
          <span className="bar-value">{row.value}</span>
        </div>
      ))}
    </div>
  );
}

function StatusBars({ sellerId }: { sellerId?: string }) {
  const products = useManagedProducts(sellerId);
  const count = (status: Product['status']) => (products.data?.items ?? []).filter((p) => p.status === status).length;
  return (
    <Card title="Products by status">
      {products.isPending ? <Skeleton lines={3} /> : null}
      {products.isError ? <ErrorNotice error={products.error} /> : null}
      {products.data ? (
        <Bars
          rows={[
            { label: 'Active', value: count('active') },
            { label: 'Draft', value: count('draft') },
            { label: 'Archived', value: count('archived') },
          ]}
        />
      ) : null}
    </Card>
  );
}

/** Storefront products per top-level category, from the search facets (one request). */
function CategoryBars() {
  const api = useApi();
  const search = useQuery({ queryKey: ['dashboard', 'facets'], queryFn: () => api.search.query({ limit: 1 }), retry: false });
  const categories = useQuery({ queryKey: ['categories'], queryFn: () => api.catalog.categories(), staleTime: 300_000 });
  const names = new Map((categories.data?.items ?? []).map((c) => [c.id, c.name]));
  const rows = (search.data?.facets.category ?? [])
    .map((f) => ({ label: f.label ?? names.get(f.value) ?? f.value, value: f.count }))
    .sort((a, b) => b.value - a.value)
    .slice(0, 8);
  return (
    <Card title={`On the storefront${search.data ? ` · ${search.data.total} product${search.data.total === 1 ? '' : 's'}` : ''}`}>
      {search.isPending ? <Skeleton lines={4} /> : null}
      {search.isError ? <ErrorNotice error={search.error} what="Search" /> : null}
      {search.data && rows.length === 0 ? <p className="muted">No products on sale yet.</p> : null}
      {rows.length ? <Bars rows={rows} /> : null}
    </Card>
  );
}

function RecentActivity() {
  const api = useApi();
  const log = useQuery({ queryKey: ['dashboard', 'audit'], queryFn: () => api.platform.auditLog({ limit: 6 }) });
  return (
    <Card title="Recent activity" actions={<Link to="/audit-log">Audit log</Link>}>
      {log.isPending ? <Skeleton lines={4} /> : null}
      {log.isError ? <ErrorNotice error={log.error} /> : null}
      {log.data?.items.length === 0 ? <p className="muted">Nothing yet.</p> : null}
      <ul className="activity">
        {log.data?.items.map((entry) => (
          <li key={entry.id}>
            <span className="mono">{entry.action}</span>
            <span className="small muted">
              {entry.targetType} · {formatDate(entry.at, true)}
            </span>
          </li>
        ))}
      </ul>
    </Card>
  );
}
