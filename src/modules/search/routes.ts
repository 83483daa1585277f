import { Type, type Static } from '@sinclair/typebox';
import { LRUCache } from 'lru-cache';
import { badRequest } from '../../kernel/http/problem.ts';
import { errorResponses, ListQuery, MoneyRef } from '../../kernel/http/schemas.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { createPopularSearches } from './popular-searches.ts';
import { SORTS, type SearchIndex, type SearchParams, type SearchResult } from './search-index.ts';
import { canonicalQuery, normalizeText, resultCacheKey } from './service.ts';

/** Results are cached this long at most; any change to the index invalidates them sooner (generation). */
const RESULT_TTL_MS = 10_000;
/**
 * How long one instance trusts the generation it last read. Bounds how stale a cached answer can be
 * after a change (on top of the relay's delivery), while sparing a database read on every cache hit.
 */
const GENERATION_TTL_MS = 200;
/** Long enough for any real query; a 10k-character "query" is refused rather than tokenized. */
const MAX_QUERY_LENGTH = 200;


const ProductSummary = Type.Object({
  id: Type.String(),
  name: Type.String(),
  brand: Type.Union([Type.String(), Type.Null()]),
  price: MoneyRef,
  rating: Type.Object({ average: Type.Number(), count: Type.Integer() }),
  image: Type.Optional(Type.String()),
  categoryId: Type.String(),
  sellerId: Type.String(),
  available: Type.Integer({ description: 'Sellable units across the variants' }),
  inStock: Type.Boolean(),
});

const FacetValue = Type.Object({ value: Type.String(), count: Type.Integer(), label: Type.Optional(Type.String()) });
const PriceFacetValue = Type.Object({
  value: Type.String({ description: "'0-2500' is [0, 2500) in minor units; the last bucket is '100000+'" }),
  count: Type.Integer(),
  minPrice: Type.Integer({ description: 'Send as minPrice to select exactly this bucket' }),
  maxPrice: Type.Optional(Type.Integer({ description: 'Send as maxPrice (inclusive) to select exactly this bucket' })),
});

const SearchResponse = Type.Object({
  items: Type.Array(ProductSummary),
  total: Type.Integer(),
  facets: Type.Object({
    category: Type.Array(FacetValue, { description: 'Children of the selected category, or the top level' }),
    brand: Type.Array(FacetValue),
    price: Type.Array(PriceFacetValue),
  }),
  nextCursor: Type.Union([Type.String(), Type.Null()]),
  corrections: Type.Optional(
    Type.Record(Type.String(), Type.Array(Type.String()), { description: 'Unknown words of q and the known words also searched for' }),
  ),
});

const SearchQuery = Type.Object({
  q: Type.Optional(Type.String({ maxLength: MAX_QUERY_LENGTH, description: 'Free text; typos are tolerated' })),
  categoryId: Type.Optional(Type.String({ maxLength: 100, description: 'Matches the category and its descendants' })),
  brand: Type.Optional(
    Type.Array(Type.String({ maxLength: 200 }), { maxItems: 20, description: 'Repeat it, or separate brands with commas' }),
  ),
  minPrice: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12, description: 'Minor units, inclusive, on the lowest variant price' })),
  maxPrice: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12, description: 'Minor units, inclusive' })),
  minRating: Type.Optional(Type.Number({ minimum: 0, maximum: 5 })),
  inStock: Type.Optional(Type.Boolean()),
  sort: Type.Union(SORTS.map((s) => Type.Literal(s)), { default: 'relevance' }),
  ...ListQuery,
});

const SuggestQuery = Type.Object({
  prefix: Type.String({ minLength: 1, maxLength: 100 }),
  limit: Type.Integer({ minimum: 1, maximum: 20, default: 8 }),
});

const SuggestResponse = Type.Object({
  suggestions: Type.Array(Type.Object({ text: Type.String(), productId: Type.Optional(Type.String()) })),
});

export function registerSearchRoutes(app: HttpApp, ctx: ModuleContext, index: SearchIndex) {
  const popular = createPopularSearches({ index, db: ctx.db, logger: ctx.logger });
  const hot = createHotQueryFilter();
  let generation: { value: string; readAt: number } | undefined;
  async function currentGeneration(): Promise<string> {
    if (!generation || Date.now() - generation.readAt > GENERATION_TTL_MS) {
      generation = { value: await index.generation(ctx.db), readAt: Date.now() };
    }
    return generation.value;
  }

  /** The cache only saves work: when it fails (Redis down), search answers from the database. */
  async function cached<T>(operation: () => Promise<T>): Promise<T | undefined> {
    try {
      return await operation();
    } catch (error) {
      ctx.logger.warn({ err: error }, 'search result cache unavailable; answering from the database');
      return undefined;
    }
  }

  app.get(
    '/search',
    {
      schema: {
        tags: ['search'],
        summary: 'Search products: full text with typo tolerance, filters, facets, sorts',
        querystring: SearchQuery,
        response: { 200: SearchResponse, ...errorResponses(400) },
      },
    },
    async (request) => {
      const params = searchParamsOf(request.query);
      const key = resultCacheKey(await currentGeneration(), params);
      let result = await cached(() => ctx.cache.get<SearchResult>(key));
      if (!result) {
        result = await index.query(ctx.db, params);
        const answer = result;
        if (hot.admit(key)) await cached(() => ctx.cache.set(key, answer, RESULT_TTL_MS));
      }
      // Only first pages that found something as typed: a mended typo is not worth suggesting to others.
      const remembered =
        params.text && !params.cursor && result.total > 0 && !result.corrections ? canonicalQuery(params.text) : undefined;
      if (remembered) popular.record(remembered);
      // Not awaited: once a second some search would otherwise carry the counts' write in its latency.
      // Suggest, which reads the counts, still waits for a due flush.
      void popular.flushIfDue();
      return result;
    },
  );

  app.get(
    '/suggest',
    {
      schema: {
        tags: ['search'],
        summary: 'Type-ahead: popular searches and product names starting with the prefix',
        querystring: SuggestQuery,
        response: { 200: SuggestResponse, ...errorResponses(400) },
      },
    },
    async (request) => {
      await popular.flushIfDue();
      const prefix = normalizeText(request.query.prefix);
      if (!prefix) return { suggestions: [] };
      return { suggestions: await index.suggest(ctx.db, prefix, request.query.limit) };
    },
  );
}

/**
 * Only hot queries go into the shared cache: a result is stored the second time its key is asked for
 * within the TTL. Caching every distinct query would fill the cache other modules share (rate-limit
 * counters live there too) with answers nobody asks for twice.
 */
function createHotQueryFilter() {
  const seenOnce = new LRUCache<string, true>({ max: 5000, ttl: RESULT_TTL_MS });
  return {
    admit(key: string): boolean {
      if (seenOnce.has(key)) return true;
      seenOnce.set(key, true);
      return false;
    },
  };
}

type SearchQueryString = Static<typeof SearchQuery>;

function searchParamsOf(query: SearchQueryString): SearchParams {
  if (query.minPrice !== undefined && query.maxPrice !== undefined && query.minPrice > query.maxPrice) {
    throw badRequest('minPrice is above maxPrice', [{ path: 'querystring:/minPrice', message: 'must not be above maxPrice' }]);
  }
  const brands = [
    ...new Set(
      (query.brand ?? [])
        .flatMap((b) => b.split(','))
        .map((b) => normalizeText(b)?.toLowerCase())
        .filter((b): b is string => !!b),
    ),
  ];
  return {
    text: normalizeText(query.q),
    categoryId: normalizeText(query.categoryId),
    brands,
    minPrice: query.minPrice,
    maxPrice: query.maxPrice,
    minRating: query.minRating,
    inStock: query.inStock,
    sort: query.sort,
    limit: query.limit,
    cursor: query.cursor || undefined,
  };
}
