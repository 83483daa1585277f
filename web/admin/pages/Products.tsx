import { keepPreviousData, useInfiniteQuery, useQuery } from '@tanstack/react-query';
import { Link, useSearchParams } from 'react-router';
import { useApi, useCan, useSession } from '../../shared/session.tsx';
import type { Product, ProductStatus } from '../../shared/types.ts';
import { Badge, Button, EmptyState, ErrorNotice, ImageBox, Price, SelectField, Skeleton, TextField, formatDate, useDebounced, useDocumentTitle } from '../../shared/ui.tsx';

export function StatusTag({ status }: { status: ProductStatus | string }) {
  return <Badge tone={status === 'active' ? 'success' : status === 'draft' ? 'warning' : 'neutral'}>{status}</Badge>;
}

export function priceRange(product: Product) {
  const prices = product.variants.map((v) => v.price).sort((a, b) => a.amount - b.amount);
  const low = prices[0];
  const high = prices[prices.length - 1];
  if (!low) return null;
  return high && high.amount !== low.amount ? (
    <>
      <Price money={low} /> – <Price money={high} />
    </>
  ) : (
    <Price money={low} />
  );
}

export default function Products() {
  useDocumentTitle('Products', 'Bazaar Admin');
  const api = useApi();
  const session = useSession()!;
  const can = useCan();
  const anySeller = can('catalog:write-any-product');
  const [params, setParams] = useSearchParams();
  const q = params.get('q') ?? '';
  const status = params.get('status') ?? 'all';
  const category = params.get('category') ?? '';
  const search = useDebounced(q.trim(), 250);
  const categories = useQuery({ queryKey: ['categories'], queryFn: () => api.catalog.categories(), staleTime: 300_000 });

  const products = useInfiniteQuery({
    queryKey: ['admin-products', search, status, category, anySeller],
    queryFn: ({ pageParam }) =>
      api.catalog.products({
        q: search || undefined,
        status,
        categoryId: category || undefined,
        // A seller lists its own products (drafts included); an admin lists everyone's.
        sellerId: anySeller ? undefined : session.user.id,
        limit: 25,
        cursor: pageParam,
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });

  const set = (key: string, value: string) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const items = products.data?.pages.flatMap((p) => p.items) ?? [];
  const categoryNames = new Map<string, string>();
  const walk = (nodes: NonNullable<typeof categories.data>['items'], depth: number, out: { id: string; label: string }[]) => {
    for (const node of nodes) {
      categoryNames.set(node.id, node.name);
      out.push({ id: node.id, label: `${'— '.repeat(depth)}${node.name}` });
      walk(node.children ?? [], depth + 1, out);
    }
    return out;
  };
  const categoryOptions = walk(categories.data?.items ?? [], 0, []);

  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Products</h1>
          <p className="muted">{anySeller ? 'Every seller’s products.' : 'Your products, drafts included.'}</p>
        </div>
        <Link to="/products/new" className="btn btn-primary">
          New product
        </Link>
      </div>
      <div className="filters">
        <TextField label="Search by name" type="search" value={q} onChange={(e) => set('q', e.target.value)} placeholder="e.g. kettle" />
        <SelectField label="Status" value={status} onChange={(e) => set('status', e.target.value === 'all' ? '' : e.target.value)}>
          <option value="all">All</option>
          <option value="active">Active</option>
          <option value="draft">Draft</option>
          <option value="archived">Archived</option>
        </SelectField>
        <SelectField label="Category" value={category} onChange={(e) => set('category', e.target.value)}>
          <option value="">All categories</option>
          {categoryOptions.map((c) => (
            <option key={c.id} value={c.id}>
              {c.label}
            </option>
          ))}
        </SelectField>
      </div>
      {products.isError ? <ErrorNotice error={products.error} /> : null}
      {products.isPending ? <Skeleton lines={6} /> : null}
      {products.isSuccess && items.length === 0 ? (
        <EmptyState title={q || status !== 'all' ? 'No products match' : 'No products yet'} action={<Link to="/products/new" className="btn btn-primary">Create your first product</Link>} />
      ) : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">
                  <span className="visually-hidden">Image</span>
                </th>
                <th scope="col">Product</th>
                <th scope="col">Status</th>
                <th scope="col" className="num">
                  Price
                </th>
                <th scope="col" className="num">
                  Stock
                </th>
                <th scope="col">Updated</th>
              </tr>
            </thead>
            <tbody>
              {items.map((p) => {
                const stock = p.variants.reduce((n, v) => n + v.available, 0);
                return (
                  <tr key={p.id}>
                    <td className="thumb-cell">
                      <ImageBox src={p.images?.[0]?.urls?.small ?? p.images?.[0]?.url} alt="" name={p.name} />
                    </td>
                    <td>
                      <Link to={`/products/${p.id}`} className="strong-link">
                        {p.name}
                      </Link>
                      <div className="small muted">
                        {p.variants.length} variant{p.variants.length === 1 ? '' : 's'}
                        {categoryNames.get(p.categoryId) ? ` · ${categoryNames.get(p.categoryId)}` : ''}
                        {p.brand ? ` · ${p.brand}` : ''}
                      </div>
                    </td>
                    <td>
                      <StatusTag status={p.status} />
                    </td>
                    <td className="num">{priceRange(p)}</td>
                    <td className="num">{stock === 0 ? <Badge tone="danger">0</Badge> : stock}</td>
                    <td className="small muted">{formatDate(p.updatedAt)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      ) : null}
      {products.hasNextPage ? (
        <Button variant="secondary" busy={products.isFetchingNextPage} onClick={() => products.fetchNextPage()}>
          Load more
        </Button>
      ) : null}
    </div>
  );
}
