import type { Db } from '../../kernel/db/database.ts';

/**
 * The read model behind the search API. The built-in implementation is PostgreSQL (store.ts); a
 * deployment that outgrows it can implement this interface over OpenSearch or similar without
 * touching routes or handlers (docs/search.md, "Plugging in another engine").
 *
 * Writes take the consuming transaction: for a SQL index the effect commits together with the
 * event's inbox row, so a redelivered event changes nothing twice. An external engine ignores `tx`
 * and relies on idempotent writes keyed by product id and ordered by `sourceUpdatedAt` instead.
 * Reads take the database they may read from (a replica is fine: search tolerates lag).
 */
export interface SearchIndex {
  /** Each write says whether a shopper could now see a different result (then call `touch` after commit). */
  upsert(tx: Db, doc: SearchDocument): Promise<boolean>;
  remove(tx: Db, productId: string): Promise<boolean>;
  /** Stock changes, in the order they happened (the last for a variant wins), in one statement. */
  setVariantStocks(tx: Db, stocks: VariantStock[]): Promise<boolean>;
  setRating(tx: Db, productId: string, rating: Rating): Promise<boolean>;
  upsertCategory(tx: Db, category: IndexedCategory): Promise<boolean>;
  removeCategory(tx: Db, categoryId: string): Promise<boolean>;

  query(db: Db, params: SearchParams): Promise<SearchResult>;
  suggest(db: Db, prefix: string, limit: number): Promise<Suggestion[]>;
  /** Adds to the counts of queries shoppers ran that found something (they feed suggest). */
  recordSearches(db: Db, counts: ReadonlyMap<string, number>): Promise<void>;
  /** Changes whenever a shopper could see a different result: the result cache keys on it. */
  generation(db: Db): Promise<string>;
  /** Moves the generation on; run once a write that changed something has committed. */
  touch(db: Db): Promise<void>;
}

/** One product as search sees it; stock and rating arrive separately and are kept by the index. */
export interface SearchDocument {
  productId: string;
  sellerId: string;
  name: string;
  brand: string | null;
  description: string;
  categoryId: string;
  categoryPath: string[];
  variantIds: string[];
  minPrice: number;
  maxPrice: number;
  currency: string;
  imageUrl: string | null;
  status: string;
  sellerActive: boolean;
  /** Only visible documents are ever returned. */
  visible: boolean;
  createdAt: string;
  /** The snapshot's own time: an older snapshot arriving late never overwrites a newer one. */
  sourceUpdatedAt: string;
  /** Words typo correction may suggest (lowercased, de-duplicated). */
  terms: string[];
}

export interface VariantStock {
  variantId: string;
  productId: string;
  available: number;
}

export interface Rating {
  average: number;
  count: number;
}

export interface IndexedCategory {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  path: string[];
}

export const SORTS = ['relevance', 'price_asc', 'price_desc', 'rating', 'newest'] as const;
export type SearchSort = (typeof SORTS)[number];

export interface SearchParams {
  /** Normalized free text (see service.ts); absent for browsing. */
  text?: string;
  categoryId?: string;
  /** Lowercased brand names; a document matches any of them. */
  brands: string[];
  minPrice?: number;
  maxPrice?: number;
  minRating?: number;
  inStock?: boolean;
  sort: SearchSort;
  limit: number;
  /** Opaque, issued by the same index in a previous result's nextCursor. */
  cursor?: string;
}

export interface Money {
  amount: number;
  currency: string;
}

export interface ProductSummary {
  id: string;
  name: string;
  brand: string | null;
  price: Money;
  rating: Rating;
  image?: string;
  categoryId: string;
  sellerId: string;
  available: number;
  inStock: boolean;
}

export interface FacetValue {
  value: string;
  count: number;
  label?: string;
}

export interface PriceFacetValue extends FacetValue {
  /** The filter values that select exactly this bucket (inclusive, minor units). */
  minPrice: number;
  maxPrice?: number;
}

export interface SearchResult {
  items: ProductSummary[];
  total: number;
  facets: { category: FacetValue[]; brand: FacetValue[]; price: PriceFacetValue[] };
  nextCursor: string | null;
  /** Words the index substituted for ones it did not know (typo tolerance), when it did. */
  corrections?: Record<string, string[]>;
}

export interface Suggestion {
  text: string;
  productId?: string;
}
