import { keepPreviousData, useInfiniteQuery, useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { ApiError, describeError } from '../../shared/api.ts';
import { useApi, useCan, useSession } from '../../shared/session.tsx';
import type { Location, Product, StockLevel, Variant } from '../../shared/types.ts';
import { Badge, Button, Card, EmptyState, ErrorNotice, Notice, SelectField, Skeleton, TextField, formatDate, useDebounced, useDocumentTitle } from '../../shared/ui.tsx';

const MOVEMENT_LABELS: Record<string, string> = {
  adjustment: 'Adjustment',
  transfer_in: 'Transfer in',
  transfer_out: 'Transfer out',
  initial: 'Initial stock',
  reservation: 'Reserved',
  release: 'Released',
  sale: 'Sold',
  restock: 'Restocked',
};

export default function Inventory() {
  useDocumentTitle('Inventory', 'Bazaar Admin');
  const [params, setParams] = useSearchParams();
  const productId = params.get('product');
  const variantId = params.get('variant');
  const select = (product: string | null, variant: string | null) => {
    const next = new URLSearchParams();
    if (product) next.set('product', product);
    if (variant) next.set('variant', variant);
    setParams(next);
  };
  return (
    <div className="stack">
      <div className="page-head">
        <div>
          <h1>Inventory</h1>
          <p className="muted">Stock per location, adjustments, transfers and the movement history of every variant.</p>
        </div>
      </div>
      <div className="inventory-layout">
        <ProductPicker selected={productId} onSelect={(id) => select(id, null)} />
        <div className="stack">
          {productId ? <ProductStock productId={productId} variantId={variantId} onVariant={(v) => select(productId, v)} /> : <EmptyState title="Choose a product">Pick a product on the left to see and change its stock.</EmptyState>}
          <Locations />
        </div>
      </div>
    </div>
  );
}

function ProductPicker({ selected, onSelect }: { selected: string | null; onSelect: (id: string) => void }) {
  const api = useApi();
  const can = useCan();
  const session = useSession()!;
  const [q, setQ] = useState('');
  const search = useDebounced(q.trim(), 250);
  const managesAll = can('catalog:write-any-product');
  const isSeller = !managesAll && can('catalog:write-own-products');
  const products = useInfiniteQuery({
    queryKey: ['inventory-products', search, managesAll, isSeller],
    queryFn: ({ pageParam }) =>
      api.catalog.products({
        q: search || undefined,
        limit: 20,
        cursor: pageParam,
        // Sellers and admins see drafts too; warehouse staff see what is on the storefront.
        ...(managesAll ? { status: 'all' } : isSeller ? { status: 'all', sellerId: session.user.id } : {}),
      }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });
  const items = products.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card title="Products" className="picker">
      <TextField label="Find a product" type="search" value={q} onChange={(e) => setQ(e.target.value)} placeholder="Name" />
      {products.isError ? <ErrorNotice error={products.error} /> : null}
      {products.isPending ? <Skeleton lines={5} /> : null}
      <ul className="picker-list">
        {items.map((p) => {
          const stock = p.variants.reduce((n, v) => n + v.available, 0);
          return (
            <li key={p.id}>
              <button type="button" className={p.id === selected ? 'picker-item active' : 'picker-item'} aria-pressed={p.id === selected} onClick={() => onSelect(p.id)}>
                <span>{p.name}</span>
                <span className={stock === 0 ? 'small danger-text' : 'small muted'}>{stock} available</span>
              </button>
            </li>
          );
        })}
      </ul>
      {products.hasNextPage ? (
        <Button variant="ghost" size="sm" busy={products.isFetchingNextPage} onClick={() => products.fetchNextPage()}>
          More
        </Button>
      ) : null}
    </Card>
  );
}

function variantLabel(v: Variant): string {
  const options = Object.values(v.options ?? {}).join(' / ');
  return options ? `${v.sku} · ${options}` : v.sku;
}

function ProductStock({ productId, variantId, onVariant }: { productId: string; variantId: string | null; onVariant: (id: string) => void }) {
  const api = useApi();
  const product = useQuery({ queryKey: ['product', productId], queryFn: () => api.catalog.product(productId) });
  if (product.isPending) return <Skeleton lines={6} />;
  if (product.isError) return <ErrorNotice error={product.error} />;
  const variant = product.data.variants.find((v) => v.id === variantId) ?? product.data.variants[0];
  return (
    <>
      <Card title={product.data.name}>
        {product.data.variants.length > 1 ? (
          <SelectField label="Variant" value={variant?.id} onChange={(e) => onVariant(e.target.value)}>
            {product.data.variants.map((v) => (
              <option key={v.id} value={v.id}>
                {variantLabel(v)}
              </option>
            ))}
          </SelectField>
        ) : (
          <p className="muted">SKU {variant ? variantLabel(variant) : '—'}</p>
        )}
      </Card>
      {variant ? <VariantStock key={variant.id} product={product.data} variant={variant} /> : null}
    </>
  );
}

function useLocations() {
  const api = useApi();
  return useQuery({ queryKey: ['locations'], queryFn: () => api.inventory.locations(), staleTime: 60_000 });
}

function VariantStock({ product, variant }: { product: Product; variant: Variant }) {
  const api = useApi();
  const client = useQueryClient();
  const stock = useQuery({ queryKey: ['stock', variant.id], queryFn: () => api.inventory.stock(variant.id) });
  const locations = useLocations();
  const [notice, setNotice] = useState<string | null>(null);
  const changed = (level: StockLevel, text: string) => {
    client.setQueryData(['stock', variant.id], level);
    void client.invalidateQueries({ queryKey: ['movements', variant.id] });
    void client.invalidateQueries({ queryKey: ['product', product.id] });
    void client.invalidateQueries({ queryKey: ['inventory-products'] });
    setNotice(text);
  };

  if (stock.isPending) return <Skeleton lines={5} />;
  if (stock.isError) return <ErrorNotice error={stock.error} />;
  const level = stock.data;
  const low = level.lowStockThreshold !== undefined && level.available <= level.lowStockThreshold;
  return (
    <>
      <Card title="Stock">
        <div className="stat-grid compact">
          <div className="stat">
            <div className="stat-value" data-testid="stock-available">
              {level.available}
            </div>
            <div className="stat-label">Available {low ? <Badge tone="warning">low</Badge> : null}</div>
          </div>
          <div className="stat">
            <div className="stat-value">{level.onHand}</div>
            <div className="stat-label">On hand (sellable)</div>
          </div>
          <div className="stat">
            <div className="stat-value">{level.reserved}</div>
            <div className="stat-label">Reserved for orders</div>
          </div>
        </div>
        {notice ? <Notice tone="success">{notice}</Notice> : null}
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Location</th>
                <th scope="col" className="num">
                  On hand
                </th>
                <th scope="col" className="num">
                  Reserved
                </th>
                <th scope="col" className="num">
                  Available
                </th>
              </tr>
            </thead>
            <tbody>
              {level.locations.map((l) => (
                <tr key={l.locationId}>
                  <td>
                    {l.name} {l.sellable === false ? <Badge>not sold online</Badge> : null}
                  </td>
                  <td className="num">{l.onHand}</td>
                  <td className="num">{l.reserved}</td>
                  <td className="num">{l.available}</td>
                </tr>
              ))}
              {level.locations.length === 0 ? (
                <tr>
                  <td colSpan={4} className="muted">
                    No stock anywhere yet.
                  </td>
                </tr>
              ) : null}
            </tbody>
          </table>
        </div>
      </Card>
      <div className="grid-2">
        <AdjustForm variant={variant} locations={locations.data?.items ?? []} onDone={changed} />
        <TransferForm variant={variant} level={level} locations={locations.data?.items ?? []} onDone={changed} />
      </div>
      <ThresholdForm variant={variant} level={level} onDone={changed} />
      <Movements variant={variant} locations={locations.data?.items ?? []} />
    </>
  );
}

function stockError(error: unknown): string {
  if (error instanceof ApiError && error.kind === 'insufficient-stock') return 'Not enough stock at that location for this change.';
  return describeError(error);
}

function AdjustForm({ variant, locations, onDone }: { variant: Variant; locations: Location[]; onDone: (level: StockLevel, text: string) => void }) {
  const api = useApi();
  const [locationId, setLocationId] = useState('');
  const [delta, setDelta] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const adjust = useMutation({
    mutationFn: () => api.inventory.adjust({ variantId: variant.id, delta: Number(delta), reason: reason.trim(), ...(locationId ? { locationId } : {}) }),
    onSuccess: (level) => {
      onDone(level, `Stock ${Number(delta) > 0 ? 'added' : 'removed'}: ${delta}.`);
      setDelta('');
      setReason('');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!/^[+-]?\d+$/.test(delta.trim()) || Number(delta) === 0) return setError('A whole number other than 0, e.g. 5 or -2');
    if (!reason.trim()) return setError('Say why, e.g. “stock count” or “damaged”');
    setError(null);
    adjust.mutate();
  };
  return (
    <Card title="Adjust stock">
      <form className="form" onSubmit={submit} noValidate>
        <SelectField label="Location" value={locationId} onChange={(e) => setLocationId(e.target.value)}>
          <option value="">Default warehouse</option>
          {locations.map((l) => (
            <option key={l.id} value={l.id}>
              {l.name}
            </option>
          ))}
        </SelectField>
        <TextField label="Change" hint="Positive adds stock, negative removes it" inputMode="numeric" value={delta} onChange={(e) => setDelta(e.target.value)} placeholder="+10" />
        <TextField label="Reason" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} placeholder="Stock count" />
        {error ? <p className="field-error" role="alert">{error}</p> : null}
        {adjust.isError ? <Notice tone="error">{stockError(adjust.error)}</Notice> : null}
        <Button type="submit" busy={adjust.isPending}>
          Apply adjustment
        </Button>
      </form>
    </Card>
  );
}

function TransferForm({ variant, level, locations, onDone }: { variant: Variant; level: StockLevel; locations: Location[]; onDone: (level: StockLevel, text: string) => void }) {
  const api = useApi();
  const [from, setFrom] = useState(level.locations.find((l) => l.onHand > 0)?.locationId ?? '');
  const [to, setTo] = useState('');
  const [quantity, setQuantity] = useState('');
  const [reason, setReason] = useState('');
  const [error, setError] = useState<string | null>(null);
  const transfer = useMutation({
    mutationFn: () => api.inventory.transfer({ variantId: variant.id, fromLocationId: from, toLocationId: to, quantity: Number(quantity), ...(reason.trim() ? { reason: reason.trim() } : {}) }),
    onSuccess: (next) => {
      onDone(next, `Moved ${quantity}.`);
      setQuantity('');
      setReason('');
    },
  });
  const submit = (event: FormEvent) => {
    event.preventDefault();
    if (!from || !to) return setError('Choose both locations');
    if (from === to) return setError('Choose two different locations');
    if (!/^\d+$/.test(quantity.trim()) || Number(quantity) < 1) return setError('A quantity of at least 1');
    setError(null);
    transfer.mutate();
  };
  if (locations.length < 2) {
    return (
      <Card title="Transfer">
        <p className="muted">Transfers need at least two locations.</p>
      </Card>
    );
  }
  return (
    <Card title="Transfer between locations">
      <form className="form" onSubmit={submit} noValidate>
        <div className="form-row">
          <SelectField label="From" value={from} onChange={(e) => setFrom(e.target.value)}>
            <option value="">Choose…</option>
            {locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </SelectField>
          <SelectField label="To" value={to} onChange={(e) => setTo(e.target.value)}>
            <option value="">Choose…</option>
            {locations.map((l) => (
              <option key={l.id} value={l.id}>
                {l.name}
              </option>
            ))}
          </SelectField>
        </div>
        <TextField label="Quantity" inputMode="numeric" value={quantity} onChange={(e) => setQuantity(e.target.value)} />
        <TextField label="Reason (optional)" value={reason} onChange={(e) => setReason(e.target.value)} maxLength={500} />
        {error ? <p className="field-error" role="alert">{error}</p> : null}
        {transfer.isError ? <Notice tone="error">{stockError(transfer.error)}</Notice> : null}
        <Button type="submit" busy={transfer.isPending}>
          Transfer
        </Button>
      </form>
    </Card>
  );
}

function ThresholdForm({ variant, level, onDone }: { variant: Variant; level: StockLevel; onDone: (level: StockLevel, text: string) => void }) {
  const api = useApi();
  const [value, setValue] = useState(String(level.lowStockThreshold ?? ''));
  const save = useMutation({
    mutationFn: () => api.inventory.setLowStockThreshold(variant.id, Number(value)),
    onSuccess: (next) => onDone(next, `Low-stock alert set at ${value}.`),
  });
  if (level.lowStockThreshold === undefined) return null;
  return (
    <Card title="Low-stock alert">
      <form
        className="inline-form"
        onSubmit={(e) => {
          e.preventDefault();
          if (/^\d+$/.test(value.trim())) save.mutate();
        }}
      >
        <TextField label="Alert when available falls to" inputMode="numeric" value={value} onChange={(e) => setValue(e.target.value)} />
        <Button type="submit" variant="secondary" busy={save.isPending}>
          Save
        </Button>
      </form>
      {save.isError ? <Notice tone="error">{describeError(save.error)}</Notice> : null}
    </Card>
  );
}

function Movements({ variant, locations }: { variant: Variant; locations: Location[] }) {
  const api = useApi();
  const names = new Map(locations.map((l) => [l.id, l.name]));
  const movements = useInfiniteQuery({
    queryKey: ['movements', variant.id],
    queryFn: ({ pageParam }) => api.inventory.movements(variant.id, { limit: 20, cursor: pageParam }),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
  });
  const items = movements.data?.pages.flatMap((p) => p.items) ?? [];
  return (
    <Card title="Movement history">
      {movements.isError ? <ErrorNotice error={movements.error} /> : null}
      {movements.isPending ? <Skeleton lines={4} /> : null}
      {movements.isSuccess && items.length === 0 ? <p className="muted">No movements yet.</p> : null}
      {items.length ? (
        <div className="table-wrap">
          <table className="table">
            <thead>
              <tr>
                <th scope="col">When</th>
                <th scope="col">What</th>
                <th scope="col">Location</th>
                <th scope="col" className="num">
                  On hand
                </th>
                <th scope="col" className="num">
                  Reserved
                </th>
                <th scope="col">Reason</th>
              </tr>
            </thead>
            <tbody>
              {items.map((m) => (
                <tr key={m.id}>
                  <td className="small">{formatDate(m.createdAt, true)}</td>
                  <td>{MOVEMENT_LABELS[m.type] ?? m.type}</td>
                  <td>{names.get(m.locationId) ?? m.locationId.slice(-6)}</td>
                  <td className={`num ${m.onHandDelta > 0 ? 'plus' : m.onHandDelta < 0 ? 'minus' : ''}`}>{signed(m.onHandDelta)}</td>
                  <td className="num">{signed(m.reservedDelta)}</td>
                  <td className="small">{m.reason}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      ) : null}
      {movements.hasNextPage ? (
        <Button variant="ghost" size="sm" busy={movements.isFetchingNextPage} onClick={() => movements.fetchNextPage()}>
          Older movements
        </Button>
      ) : null}
    </Card>
  );
}

function signed(n: number): string {
  return n > 0 ? `+${n}` : n === 0 ? '0' : String(n);
}

function Locations() {
  const api = useApi();
  const can = useCan();
  const client = useQueryClient();
  const locations = useLocations();
  const [name, setName] = useState('');
  const [type, setType] = useState<'warehouse' | 'store'>('warehouse');
  const create = useMutation({
    mutationFn: () => api.inventory.createLocation({ name: name.trim(), type }),
    onSuccess: () => {
      setName('');
      void client.invalidateQueries({ queryKey: ['locations'] });
    },
  });
  return (
    <Card title="Locations">
      {locations.isError ? <ErrorNotice error={locations.error} /> : null}
      <ul className="location-list">
        {locations.data?.items.map((l) => (
          <li key={l.id}>
            <strong>{l.name}</strong> <Badge tone={l.type === 'warehouse' ? 'info' : 'neutral'}>{l.type}</Badge>{' '}
            {l.sellable ? <span className="small muted">sold online</span> : <span className="small muted">not sold online</span>}
          </li>
        ))}
      </ul>
      {can('inventory:manage-locations') ? (
        <form
          className="inline-form"
          onSubmit={(e) => {
            e.preventDefault();
            if (name.trim()) create.mutate();
          }}
        >
          <TextField label="New location" value={name} onChange={(e) => setName(e.target.value)} maxLength={200} />
          <SelectField label="Type" value={type} onChange={(e) => setType(e.target.value as 'warehouse' | 'store')}>
            <option value="warehouse">Warehouse</option>
            <option value="store">Store</option>
          </SelectField>
          <Button type="submit" variant="secondary" busy={create.isPending}>
            Add
          </Button>
          {create.isError ? <Notice tone="error">{describeError(create.error)}</Notice> : null}
        </form>
      ) : null}
    </Card>
  );
}
