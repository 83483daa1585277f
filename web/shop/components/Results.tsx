import { keepPreviousData, useInfiniteQuery } from '@tanstack/react-query';
import { useEffect, useState, type FormEvent } from 'react';
import { useSearchParams } from 'react-router';
import { formatMoney, moneyInputValue, parseMoneyInput } from '../../shared/money.ts';
import { useApi } from '../../shared/session.tsx';
import type { FacetValue } from '../../shared/types.ts';
import { Button, EmptyState, ErrorNotice, SelectField, TextField } from '../../shared/ui.tsx';
import { flatten, useCategories } from '../catalog.ts';
import { ProductGrid, ProductGridSkeleton } from './ProductCard.tsx';

const CURRENCY = 'USD';
const PAGE_SIZE = 24;

const SORTS = [
  ['relevance', 'Best match'],
  ['price_asc', 'Price: low to high'],
  ['price_desc', 'Price: high to low'],
  ['rating', 'Customer rating'],
  ['newest', 'Newest'],
] as const;

/** Filters kept in the query string, so every result page can be bookmarked, shared and reloaded. */
const FILTER_KEYS = ['q', 'category', 'brand', 'minPrice', 'maxPrice', 'minRating', 'sort'] as const;

/**
 * Search results with facet filters and sorting. On a category page the category is fixed by the
 * route; everything else comes from the URL.
 */
export function Results({ categoryId, title }: { categoryId?: string; title?: string }) {
  const api = useApi();
  const [params, setParams] = useSearchParams();
  const categories = useCategories();
  const q = params.get('q') ?? '';
  const filters = {
    q: q || undefined,
    categoryId: categoryId ?? params.get('category') ?? undefined,
    brand: params.getAll('brand'),
    minPrice: params.get('minPrice') ?? undefined,
    maxPrice: params.get('maxPrice') ?? undefined,
    minRating: params.get('minRating') ?? undefined,
    sort: params.get('sort') ?? (q ? 'relevance' : 'newest'),
  };

  const results = useInfiniteQuery({
    queryKey: ['search', filters],
    queryFn: ({ pageParam, signal }) => api.search.query({ ...filters, limit: PAGE_SIZE, cursor: pageParam }, signal),
    initialPageParam: undefined as string | undefined,
    getNextPageParam: (last) => last.nextCursor ?? undefined,
    placeholderData: keepPreviousData,
  });

  function update(changes: FilterChanges) {
    const next = new URLSearchParams(params);
    for (const [key, value] of Object.entries(changes)) {
      next.delete(key);
      for (const v of Array.isArray(value) ? value : [value]) if (v) next.append(key, v);
    }
    setParams(next);
  }

  const first = results.data?.pages[0];
  const items = results.data?.pages.flatMap((p) => p.items) ?? [];
  const facets = first?.facets ?? {};
  const categoryNames = new Map(flatten(categories.data?.items).map((c) => [c.id, c.name]));
  const active = activeFilters(params, categoryNames, !!categoryId);
  const heading = title ?? (q ? `Results for “${q}”` : 'All products');
  const corrected = correctedQuery(q, first?.corrections);

  return (
    <div className="results-layout">
      <div className="results-head">
        <div>
          <h1>{heading}</h1>
          <p className="muted" aria-live="polite">
            {first ? `${first.total} ${first.total === 1 ? 'product' : 'products'}` : results.isPending ? 'Searching…' : ''}
            {corrected ? (
              <>
                {' '}
                · showing results for <strong data-testid="corrected-query">{corrected}</strong>
              </>
            ) : null}
          </p>
        </div>
        <SelectField label="Sort by" value={filters.sort} onChange={(e) => update({ sort: e.target.value })} className="sort-field">
          {SORTS.filter(([value]) => value !== 'relevance' || q).map(([value, label]) => (
            <option key={value} value={value}>
              {label}
            </option>
          ))}
        </SelectField>
      </div>

      {active.length > 0 ? (
        <div className="chips" aria-label="Active filters">
          {active.map(({ key, label, rest }) => (
            <button key={`${key}:${label}`} type="button" className="chip" onClick={() => update({ [key]: rest ?? null })} aria-label={`Remove filter ${label}`}>
              {label} <span aria-hidden="true">×</span>
            </button>
          ))}
          <button type="button" className="chip chip-clear" onClick={() => update(Object.fromEntries(active.map((a) => [a.key, null])) as FilterChanges)}>
            Clear all
          </button>
        </div>
      ) : null}

      <div className="results-body">
        <Facets
          facets={facets}
          categoryNames={categoryNames}
          showCategory={!categoryId}
          params={params}
          onChange={update}
        />
        <section className="results-main" aria-label="Products" aria-busy={results.isFetching}>
          {results.isError ? <ErrorNotice error={results.error} what="Search" /> : null}
          {results.isPending ? <ProductGridSkeleton /> : null}
          {first && items.length === 0 ? (
            <EmptyState title="Nothing matches yet">Try fewer words, check the spelling, or remove a filter.</EmptyState>
          ) : null}
          {items.length > 0 ? <ProductGrid items={items} eagerCount={4} /> : null}
          {results.hasNextPage ? (
            <div className="load-more">
              <Button variant="secondary" busy={results.isFetchingNextPage} onClick={() => results.fetchNextPage()}>
                Show more
              </Button>
            </div>
          ) : null}
        </section>
      </div>
    </div>
  );
}

type FilterChanges = Partial<Record<(typeof FILTER_KEYS)[number], string | string[] | null>>;

/** "iphnoe case" + { iphnoe: ['iphone'] } -> "iphone case"; undefined when nothing was corrected. */
function correctedQuery(q: string, corrections: Record<string, string[]> | undefined): string | undefined {
  if (!q || !corrections || Object.keys(corrections).length === 0) return undefined;
  const lowered = Object.fromEntries(Object.entries(corrections).map(([k, v]) => [k.toLowerCase(), v]));
  const text = q
    .split(/\s+/)
    .map((word) => lowered[word.toLowerCase()]?.[0] ?? word)
    .join(' ');
  return text.toLowerCase() === q.toLowerCase() ? undefined : text;
}

function activeFilters(params: URLSearchParams, categoryNames: Map<string, string>, categoryFixed: boolean) {
  const out: { key: (typeof FILTER_KEYS)[number]; label: string; rest?: string[] }[] = [];
  const category = params.get('category');
  if (category && !categoryFixed) out.push({ key: 'category', label: categoryNames.get(category) ?? 'Category' });
  const brands = params.getAll('brand');
  for (const brand of brands) out.push({ key: 'brand', label: brand, rest: brands.filter((b) => b !== brand) });
  const min = params.get('minPrice');
  if (min) out.push({ key: 'minPrice', label: `From ${formatMoney({ amount: Number(min), currency: CURRENCY })}` });
  const max = params.get('maxPrice');
  if (max) out.push({ key: 'maxPrice', label: `Up to ${formatMoney({ amount: Number(max), currency: CURRENCY })}` });
  const rating = params.get('minRating');
  if (rating) out.push({ key: 'minRating', label: `${rating}★ & up` });
  return out;
}

function Facets({
  facets,
  categoryNames,
  showCategory,
  params,
  onChange,
}: {
  facets: Record<string, FacetValue[] | undefined>;
  categoryNames: Map<string, string>;
  showCategory: boolean;
  params: URLSearchParams;
  onChange: (changes: FilterChanges) => void;
}) {
  const [wide, setWide] = useState(() => typeof window === 'undefined' || window.matchMedia('(min-width: 900px)').matches);
  useEffect(() => {
    const query = window.matchMedia('(min-width: 900px)');
    const listen = () => setWide(query.matches);
    query.addEventListener('change', listen);
    return () => query.removeEventListener('change', listen);
  }, []);

  const category = params.get('category');
  const brands = params.getAll('brand');
  const brandSelected = (value: string) => brands.some((b) => b.toLowerCase() === value.toLowerCase());
  return (
    // Open on wide screens; a tap-to-open panel on phones so results come first.
    <details className="facets" open={wide || undefined}>
      <summary className="facets-toggle">Filters</summary>
      <div className="facets-body">
        {showCategory && facets.category?.length ? (
          <FacetGroup title="Category">
            {facets.category.map((f) => (
              <FacetOption
                key={f.value}
                name="category"
                label={f.label ?? categoryNames.get(f.value) ?? f.value}
                count={f.count}
                checked={category === f.value}
                onToggle={(on) => onChange({ category: on ? f.value : null })}
              />
            ))}
          </FacetGroup>
        ) : null}
        {facets.brand?.length ? (
          <FacetGroup title="Brand">
            {facets.brand.map((f) => (
              <FacetOption
                key={f.value}
                name="brand"
                label={f.label ?? f.value}
                count={f.count}
                checked={brandSelected(f.value)}
                onToggle={(on) => onChange({ brand: on ? [...brands, f.value] : brands.filter((b) => b.toLowerCase() !== f.value.toLowerCase()) })}
              />
            ))}
          </FacetGroup>
        ) : null}
        <PriceFilter buckets={facets.price} params={params} onChange={onChange} />
        <FacetGroup title="Customer rating">
          {[4, 3, 2].map((stars) => (
            <FacetOption
              key={stars}
              name="minRating"
              label={`${stars}★ & up`}
              checked={params.get('minRating') === String(stars)}
              onToggle={(on) => onChange({ minRating: on ? String(stars) : null })}
            />
          ))}
        </FacetGroup>
      </div>
    </details>
  );
}

function FacetGroup({ title, children }: { title: string; children: React.ReactNode }) {
  return (
    <fieldset className="facet-group">
      <legend>{title}</legend>
      <div className="facet-options">{children}</div>
    </fieldset>
  );
}

function FacetOption({ name, label, count, checked, onToggle }: { name: string; label: string; count?: number; checked: boolean; onToggle: (on: boolean) => void }) {
  return (
    <label className="facet-option">
      <input type="checkbox" name={name} checked={checked} onChange={(e) => onToggle(e.target.checked)} />
      <span className="facet-label">{label}</span>
      {count !== undefined ? <span className="facet-count">{count}</span> : null}
    </label>
  );
}

/** A price bucket's bounds in minor units, from `{ minPrice, maxPrice }` or a `"1000-5000"` / `"5000+"` value. */
function bucketBounds(f: FacetValue): { min?: number; max?: number } {
  if (f.minPrice !== undefined || f.maxPrice !== undefined) return { min: f.minPrice ?? undefined, max: f.maxPrice ?? undefined };
  const match = /^(\d+)?\s*(?:-|\.\.|–|to)\s*(\d+)?$/.exec(f.value) ?? /^(\d+)\+$/.exec(f.value);
  if (!match) return {};
  return { min: match[1] ? Number(match[1]) : undefined, max: match[2] ? Number(match[2]) : undefined };
}

function bucketLabel(f: FacetValue): string {
  if (f.label) return f.label;
  // The value names the bucket's edges ('2500-5000'); maxPrice is one below the upper edge.
  const named = bucketBounds({ value: f.value, count: f.count });
  const { min, max } = named.min !== undefined || named.max !== undefined ? named : bucketBounds(f);
  const money = (n: number) => formatMoney({ amount: n, currency: CURRENCY }).replace(/\.00$/, '');
  if (!min && max !== undefined) return `Under ${money(max)}`;
  if (min !== undefined && max !== undefined) return `${money(min)} – ${money(max)}`;
  if (min !== undefined) return `${money(min)} and up`;
  if (max !== undefined) return `Under ${money(max)}`;
  return f.value;
}

function PriceFilter({ buckets, params, onChange }: { buckets?: FacetValue[]; params: URLSearchParams; onChange: (changes: FilterChanges) => void }) {
  const minParam = params.get('minPrice');
  const maxParam = params.get('maxPrice');
  const [min, setMin] = useState(minParam ? moneyInputValue(Number(minParam), CURRENCY) : '');
  const [max, setMax] = useState(maxParam ? moneyInputValue(Number(maxParam), CURRENCY) : '');
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    setMin(minParam ? moneyInputValue(Number(minParam), CURRENCY) : '');
    setMax(maxParam ? moneyInputValue(Number(maxParam), CURRENCY) : '');
  }, [minParam, maxParam]);

  function apply(event: FormEvent) {
    event.preventDefault();
    const lo = min.trim() ? parseMoneyInput(min, CURRENCY) : null;
    const hi = max.trim() ? parseMoneyInput(max, CURRENCY) : null;
    if ((min.trim() && lo === null) || (max.trim() && hi === null)) return setError('Enter prices like 25 or 19.99');
    if (lo !== null && hi !== null && lo > hi) return setError('The lowest price is above the highest');
    setError(null);
    onChange({ minPrice: lo === null ? null : String(lo), maxPrice: hi === null ? null : String(hi) });
  }

  const usable = (buckets ?? []).filter((b) => {
    const { min: lo, max: hi } = bucketBounds(b);
    return b.count > 0 && (lo !== undefined || hi !== undefined);
  });
  return (
    <fieldset className="facet-group">
      <legend>Price</legend>
      {usable.length ? (
        <div className="facet-options">
          {usable.map((b) => {
            const { min: lo, max: hi } = bucketBounds(b);
            const checked = (minParam ?? '') === (lo === undefined ? '' : String(lo)) && (maxParam ?? '') === (hi === undefined ? '' : String(hi));
            return (
              <FacetOption
                key={b.value}
                name="price"
                label={bucketLabel(b)}
                count={b.count}
                checked={checked}
                onToggle={(on) =>
                  onChange(on ? { minPrice: lo === undefined ? null : String(lo), maxPrice: hi === undefined ? null : String(hi) } : { minPrice: null, maxPrice: null })
                }
              />
            );
          })}
        </div>
      ) : null}
      <form className="price-range" onSubmit={apply}>
        <TextField label="Min" inputMode="decimal" value={min} onChange={(e) => setMin(e.target.value)} placeholder="0" />
        <TextField label="Max" inputMode="decimal" value={max} onChange={(e) => setMax(e.target.value)} placeholder="Any" />
        <Button type="submit" variant="secondary" size="sm">
          Apply
        </Button>
        {error ? (
          <p className="field-error" role="alert">
            {error}
          </p>
        ) : null}
      </form>
    </fieldset>
  );
}
