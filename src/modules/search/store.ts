import { sql, type RawBuilder } from 'kysely';
import { CUSTOM_PLAN, type Db } from '../../kernel/db/database.ts';
import {
  chooseCompletion,
  chooseCorrections,
  decodeSearchCursor,
  effectiveSort,
  encodeSearchCursor,
  likePrefix,
  maxEditsFor,
  PRICE_BUCKET_BOUNDS,
  priceBucket,
  queryWords,
  TYPO_FALLBACK_BELOW,
  type CursorKey,
} from './service.ts';
import type {
  FacetValue,
  PriceFacetValue,
  ProductSummary,
  SearchDocument,
  SearchIndex,
  SearchParams,
  SearchResult,
  SearchSort,
  Suggestion,
} from './search-index.ts';

/**
 * The search read model on PostgreSQL (or PGlite): schema `search`. See docs/search.md for the query
 * shapes and their plans.
 */

/**
 * English stemming lets "phones" find "phone" and "running" find "run"; product names are English in
 * the storefront, and the words a stemmer mangles (brands, model numbers) are stemmed the same way on
 * both sides, so they still match. The same configuration builds the stored vector (migrations.ts).
 */
const TEXT_CONFIG = sql.raw(`'english'::regconfig`);

/**
 * Weights {D, C, B, A}: name (A) dwarfs brand (B), which dwarfs description (C). A description that
 * repeats a word many times still sums to less than one hit in the name (ts_rank's repeat bonus
 * converges), so a name match always ranks first.
 */
const RANK_WEIGHTS = sql.raw(`'{0.01, 0.02, 0.1, 1.0}'::float4[]`);

const MAX_CATEGORY_FACETS = 50;
const MAX_BRAND_FACETS = 50;
/** How many nearest words by trigram distance are checked by edit distance for one unknown word. */
const CORRECTION_CANDIDATES = 20;
/** Type-ahead ranks at most this many names that merely contain the prefix. */
const SUGGEST_CANDIDATES = 200;
/** A query must have been searched this often before it is suggested to others. */
const POPULAR_MIN_COUNT = 2;

export const postgresSearchIndex: SearchIndex = {
  async upsert(tx, doc) {
    await lockProduct(tx, doc.productId);
    const applied = await sql<{ product_id: string }>`
      with stock as (
        select coalesce(sum(greatest(v.available, 0)), 0)::int as total
        from search.variant_stock v where v.variant_id = any(${doc.variantIds}::text[])
      )
      insert into search.documents as d (
        product_id, seller_id, name, brand, brand_key, description, category_id, category_path, variant_ids,
        min_price, max_price, currency, image_url, status, seller_active, visible, total_available, in_stock,
        created_at, source_updated_at, indexed_at)
      select ${doc.productId}, ${doc.sellerId}, ${doc.name}, ${doc.brand}, ${doc.brand?.toLowerCase() ?? null},
        ${doc.description}, ${doc.categoryId}, ${doc.categoryPath}::text[], ${doc.variantIds}::text[],
        ${doc.minPrice}, ${doc.maxPrice}, ${doc.currency}, ${doc.imageUrl}, ${doc.status}, ${doc.sellerActive},
        ${doc.visible}, stock.total, stock.total > 0,
        date_trunc('milliseconds', ${doc.createdAt}::timestamptz), ${doc.sourceUpdatedAt}::timestamptz, now()
      from stock
      on conflict (product_id) do update set
        seller_id = excluded.seller_id, name = excluded.name, brand = excluded.brand, brand_key = excluded.brand_key,
        description = excluded.description, category_id = excluded.category_id, category_path = excluded.category_path,
        variant_ids = excluded.variant_ids, min_price = excluded.min_price, max_price = excluded.max_price,
        currency = excluded.currency, image_url = excluded.image_url, status = excluded.status,
        seller_active = excluded.seller_active, visible = excluded.visible,
        total_available = excluded.total_available, in_stock = excluded.in_stock,
        source_updated_at = excluded.source_updated_at, indexed_at = excluded.indexed_at
      where d.source_updated_at <= excluded.source_updated_at
      returning product_id`.execute(tx);
    if (applied.rows.length === 0) return false;
    if (doc.visible && doc.terms.length > 0) {
      // Sorted, so two consumers adding overlapping words take the unique-index locks in one order.
      const terms = [...doc.terms].sort();
      await sql`insert into search.terms (term) select unnest(${terms}::text[]) on conflict do nothing`.execute(tx);
    }
    await bumpGeneration(tx);
    return true;
  },

  async remove(tx, productId) {
    await lockProduct(tx, productId);
    await sql`delete from search.variant_stock where product_id = ${productId}`.execute(tx);
    const removed = await sql`delete from search.documents where product_id = ${productId} returning product_id`.execute(tx);
    if (removed.rows.length === 0) return false;
    await bumpGeneration(tx);
    return true;
  },

  async setVariantStocks(tx, changes) {
    // The last word on each variant (changes come in delivery order): an upsert may touch a row once.
    const latest = new Map(changes.map((c) => [c.variantId, c]));
    const stocks = [...latest.values()];
    await lockProducts(tx, stocks.map((s) => s.productId));
    // One statement after the locks: the sibling parts read the snapshot from before the upsert, so a
    // total sums the variants not in this batch from the table and those in it from the input.
    const bumped = await sql`
      with input as (
        select * from unnest(${stocks.map((s) => s.variantId)}::text[], ${stocks.map((s) => s.productId)}::text[],
                             ${stocks.map((s) => s.available)}::int[]) as i (variant_id, product_id, available)
      ), upserted as (
        insert into search.variant_stock (variant_id, product_id, available, updated_at)
        select variant_id, product_id, available, now() from input
        on conflict (variant_id) do update
          set product_id = excluded.product_id, available = excluded.available, updated_at = excluded.updated_at
        returning variant_id
      ), totals as (
        -- Each of the document's variants counted once, at its figure in this batch or else the table's.
        -- Joined by variant id, the sum reads only the product's variants (not a scan of the whole
        -- table per change) and the statement keeps a generic plan instead of being planned on every run.
        select d.product_id, coalesce(sum(greatest(coalesce(i.available, v.available), 0)), 0)::int as total
        from search.documents d
        left join lateral (select distinct unnest(d.variant_ids)) as listed (variant_id) on true
        left join input i on i.variant_id = listed.variant_id
        left join search.variant_stock v on v.variant_id = listed.variant_id
        where d.product_id in (select product_id from input)
        group by d.product_id
      ), changed as (
        update search.documents d set total_available = t.total, in_stock = t.total > 0
        from totals t
        where d.product_id = t.product_id and d.total_available <> t.total
        returning d.visible
      )
      select nextval('search.generation')
      where exists (select 1 from changed where visible) and exists (select 1 from upserted)`.execute(tx);
    return bumped.rows.length > 0;
  },

  async setRating(tx, productId, rating) {
    const changed = await sql`
      update search.documents set rating_average = round(${rating.average}::numeric, 2), rating_count = ${rating.count}
      where product_id = ${productId}
        and (rating_average, rating_count) is distinct from (round(${rating.average}::numeric, 2), ${rating.count}::int)
      returning product_id`.execute(tx);
    if (changed.rows.length === 0) return false;
    await bumpGeneration(tx);
    return true;
  },

  async upsertCategory(tx, category) {
    const result = await sql<{ old_path: string[] | null }>`
      with old as (select path from search.categories where id = ${category.id})
      insert into search.categories (id, name, slug, parent_id, path)
      values (${category.id}, ${category.name}, ${category.slug}, ${category.parentId}, ${category.path}::text[])
      on conflict (id) do update
        set name = excluded.name, slug = excluded.slug, parent_id = excluded.parent_id, path = excluded.path
      returning (select path from old) as old_path`.execute(tx);
    const oldPath = result.rows[0]?.old_path;
    if (oldPath && !samePath(oldPath, category.path)) {
      // A moved category moves its products: their paths start with the category's new ancestry.
      await sql`
        update search.documents
        set category_path = ${category.path}::text[] || category_path[array_position(category_path, ${category.id}::text) + 1:]
        where category_path @> array[${category.id}::text]`.execute(tx);
    }
    // Labels of facet values may have changed, and cached results carry them.
    await bumpGeneration(tx);
    return true;
  },

  async removeCategory(tx, categoryId) {
    await sql`delete from search.categories where id = ${categoryId}`.execute(tx);
    await bumpGeneration(tx);
    return true;
  },

  async query(db, params) {
    const sort = effectiveSort(params);
    const after = decodeSearchCursor(params.cursor, sort);
    if (!params.text) return runSearch(db, params, sort, undefined, after);
    const exact = await runSearch(db, params, sort, sql`websearch_to_tsquery(${TEXT_CONFIG}, ${params.text})`, after);
    if (exact.total >= TYPO_FALLBACK_BELOW) return exact;

    // Few exact matches: mend unknown words with their nearest known ones, and search again with each
    // word OR its corrections. The widened query still runs on the same index, filters and facets.
    const words = queryWords(params.text);
    const corrections = await findCorrections(db, words);
    if (corrections.size === 0) return exact;
    const widened = sql.join(
      words.map((word) => {
        const alternatives = [word, ...(corrections.get(word) ?? [])];
        return sql`(${sql.join(alternatives.map((w) => sql`plainto_tsquery(${TEXT_CONFIG}, ${w})`), sql` || `)})`;
      }),
      sql` && `,
    );
    return { ...(await runSearch(db, params, sort, widened, after)), corrections: Object.fromEntries(corrections) };
  },

  async suggest(db, prefix, limit) {
    const lowered = prefix.toLowerCase();
    const found = await suggestFor(db, lowered, limit);
    if (found.length > 0) return found;
    // Nothing starts with what was typed: perhaps its last word is misspelt ("wirless ch").
    const words = lowered.split(' ');
    const mended = await findCompletion(db, words[words.length - 1]!);
    return mended ? suggestFor(db, [...words.slice(0, -1), mended].join(' '), limit) : [];
  },

  async recordSearches(db, counts) {
    if (counts.size === 0) return;
    // Sorted, so instances flushing at the same moment lock rows in one order and cannot deadlock.
    const queries = [...counts.keys()].sort();
    await sql`
      insert into search.queries (query, count, last_searched_at)
      select t.query, t.count, now() from unnest(${queries}::text[], ${queries.map((q) => counts.get(q)!)}::int[]) as t(query, count)
      on conflict (query) do update
        set count = search.queries.count + excluded.count, last_searched_at = excluded.last_searched_at`.execute(db);
  },

  async generation(db) {
    const { rows } = await sql<{ generation: string }>`
      select s.epoch || ':' || g.last_value as generation from search.state s, search.generation g where s.id = 1`.execute(db);
    return rows[0]?.generation ?? 'none';
  },

  async touch(db) {
    await bumpGeneration(db);
  },
};

/**
 * Serializes the writers of one product's document. The relay delivers different aggregates in
 * parallel, and stock events are keyed by variant: without this, two variants' stock changes (or a
 * stock change racing the product's creation) each sum the variants they can see and the last commit
 * wins with a total that misses the other. Every statement after the lock sees what the holder
 * committed. The lock also covers a product whose document does not exist yet, which a row lock cannot.
 */
async function lockProduct(tx: Db, productId: string): Promise<void> {
  await sql`select pg_advisory_xact_lock(hashtextextended(${`search.document:${productId}`}, 0))`.execute(tx);
}

/** Several products' locks (lockProduct) in one statement, in sorted order so that two batches cannot deadlock. */
async function lockProducts(tx: Db, productIds: string[]): Promise<void> {
  const keys = [...new Set(productIds)].sort().map((id) => `search.document:${id}`);
  await sql`
    select pg_advisory_xact_lock(hashtextextended(k, 0))
    from unnest(${keys}::text[]) with ordinality as l (k, n) order by n`.execute(tx);
}

/**
 * Inside the writing transaction, so a committed change has moved the generation even if the process
 * dies right after: a reader that took the new generation in the moment before the commit may cache
 * an answer without the change, which the after-commit bump (generation.ts) supersedes.
 */
async function bumpGeneration(db: Db): Promise<void> {
  await sql`select nextval('search.generation')`.execute(db);
}

function samePath(a: string[], b: string[]): boolean {
  return a.length === b.length && a.every((id, i) => id === b[i]);
}

type TsQuery = RawBuilder<unknown>;

/** Everything a result must satisfy, shared by the page and the facets so their counts agree. */
function filtersOf(params: SearchParams, query: TsQuery | undefined): RawBuilder<unknown> {
  const parts: RawBuilder<unknown>[] = [sql`d.visible`];
  if (query) parts.push(sql`d.search_vector @@ tsq.query`);
  if (params.categoryId) parts.push(sql`d.category_path @> array[${params.categoryId}::text]`);
  if (params.brands.length > 0) parts.push(sql`d.brand_key = any(${params.brands}::text[])`);
  if (params.minPrice !== undefined) parts.push(sql`d.min_price >= ${params.minPrice}::bigint`);
  if (params.maxPrice !== undefined) parts.push(sql`d.min_price <= ${params.maxPrice}::bigint`);
  if (params.minRating !== undefined) parts.push(sql`d.rating_average >= ${params.minRating}::numeric`);
  if (params.inStock) parts.push(sql`d.in_stock`);
  return sql.join(parts, sql` and `);
}

/** The query is computed once per statement, not per row. */
function sourceOf(query: TsQuery | undefined): RawBuilder<unknown> {
  return query ? sql`search.documents d cross join (select ${query} as query) tsq` : sql`search.documents d`;
}

const scoreOf = sql`ts_rank(${RANK_WEIGHTS}, d.search_vector, tsq.query)::float8`;

interface ItemJson {
  id: string;
  name: string;
  brand: string | null;
  price: number;
  currency: string;
  ratingAverage: number;
  ratingCount: number;
  image: string | null;
  categoryId: string;
  sellerId: string;
  available: number;
  inStock: boolean;
  createdAt: string;
  score: number | null;
}

interface FacetJson {
  byCategory: number;
  byBrand: number;
  byPrice: number;
  category: string | null;
  label: string | null;
  brandKey: string | null;
  brand: string | null;
  bucket: number | null;
  count: number;
}

/**
 * One statement, one round trip: the page, the total and every facet.
 *
 * `matched` is the filtered set, narrow (ids, sort keys, facet keys). With text it is materialized, so
 * the GIN lookup and ts_rank run once for the page and the facets alike. Without text it is inlined,
 * so the page walks the index of its sort order and stops after limit + 1 rows (the extra row says
 * whether there is a next page) while the facets scan the filtered set. Grouping sets aggregate by
 * category, brand and price bucket side by side in one pass; the empty set gives the total. Only the
 * page's rows are joined back for what a summary shows.
 */
async function runSearch(
  db: Db,
  params: SearchParams,
  sort: SearchSort,
  query: TsQuery | undefined,
  after: CursorKey | undefined,
): Promise<SearchResult> {
  const ranked = sort === 'relevance' && query !== undefined;
  const { order, keyset } = orderingOf(sort, after);
  // The facet shows the next level down: children of the selected category, or the top level.
  const categoryLevel = params.categoryId
    ? sql`d.category_path[array_position(d.category_path, ${params.categoryId}::text) + 1]`
    : sql`d.category_path[1]`;
  const bounds = sql.raw(`array[${PRICE_BUCKET_BOUNDS.join(',')}]::bigint[]`);
  const { rows } = await sql<{ items: ItemJson[] | null; facets: FacetJson[] }>`${CUSTOM_PLAN}
    with matched as ${query ? sql`materialized` : sql`not materialized`} (
      select d.product_id, d.min_price, d.created_at, d.rating_average, d.rating_count,
             ${ranked ? scoreOf : sql`null::float8`} as score,
             ${categoryLevel} as category, d.brand_key, d.brand, width_bucket(d.min_price, ${bounds}) as bucket
      from ${sourceOf(query)}
      where ${filtersOf(params, query)}
    ), page as (
      select m.* from matched m
      ${keyset ? sql`where ${keyset}` : sql``}
      order by ${order}
      limit ${params.limit + 1}
    ), facets as (
      select grouping(category) as "byCategory", grouping(brand_key) as "byBrand", grouping(bucket) as "byPrice",
             category, brand_key as "brandKey", max(brand) as brand, bucket, count(*)::int as count
      -- The fence hides the facet expressions from the planner, which would otherwise guess one group
      -- per row, sort the whole set (spilling to disk at 100k) instead of hashing a few hundred groups.
      from (select * from matched offset 0) m
      group by grouping sets ((category), (brand_key), (bucket), ())
    )
    select
      (select json_agg(json_build_object(
                'id', d.product_id, 'name', d.name, 'brand', d.brand, 'price', d.min_price, 'currency', d.currency,
                'ratingAverage', d.rating_average, 'ratingCount', d.rating_count, 'image', d.image_url,
                'categoryId', d.category_id, 'sellerId', d.seller_id, 'available', d.total_available,
                'inStock', d.in_stock, 'createdAt', d.created_at, 'score', m.score)
              order by ${order})
       from page m join search.documents d on d.product_id = m.product_id) as items,
      (select json_agg(json_build_object(
                'byCategory', f."byCategory", 'byBrand', f."byBrand", 'byPrice', f."byPrice", 'category', f.category,
                'label', c.name, 'brandKey', f."brandKey", 'brand', f.brand, 'bucket', f.bucket, 'count', f.count))
       from facets f left join search.categories c on c.id = f.category) as facets`.execute(db);

  const found = rows[0]?.items ?? [];
  const page = found.slice(0, params.limit);
  const last = page[page.length - 1];
  return {
    items: page.map(toSummary),
    nextCursor: found.length > params.limit && last ? encodeSearchCursor(cursorKeyOf(sort, last)) : null,
    ...facetsOf(rows[0]?.facets ?? []),
  };
}

/**
 * Each sort ends in the product id, so the order is total and keyset pages never repeat an item. The
 * expressions name `m`: the filtered set while paging, and the page again when it is serialized.
 */
function orderingOf(sort: SearchSort, after: CursorKey | undefined): { order: RawBuilder<unknown>; keyset?: RawBuilder<unknown> } {
  switch (sort) {
    case 'relevance':
      return {
        order: sql`m.score desc, m.product_id desc`,
        keyset: after?.sort === 'relevance' ? sql`(m.score, m.product_id) < (${after.score}::float8, ${after.id}::text)` : undefined,
      };
    case 'price_asc':
      return {
        order: sql`m.min_price asc, m.product_id asc`,
        keyset: after?.sort === 'price_asc' ? sql`(m.min_price, m.product_id) > (${after.price}::bigint, ${after.id}::text)` : undefined,
      };
    case 'price_desc':
      return {
        order: sql`m.min_price desc, m.product_id desc`,
        keyset: after?.sort === 'price_desc' ? sql`(m.min_price, m.product_id) < (${after.price}::bigint, ${after.id}::text)` : undefined,
      };
    case 'rating':
      return {
        order: sql`m.rating_average desc, m.rating_count desc, m.product_id desc`,
        keyset:
          after?.sort === 'rating'
            ? sql`(m.rating_average, m.rating_count, m.product_id) < (${after.average}::numeric, ${after.count}::int, ${after.id}::text)`
            : undefined,
      };
    case 'newest':
      return {
        order: sql`m.created_at desc, m.product_id desc`,
        keyset:
          after?.sort === 'newest' ? sql`(m.created_at, m.product_id) < (${after.createdAt}::timestamptz, ${after.id}::text)` : undefined,
      };
  }
}

function cursorKeyOf(sort: SearchSort, item: ItemJson): CursorKey {
  switch (sort) {
    case 'relevance':
      return { sort, score: item.score ?? 0, id: item.id };
    case 'price_asc':
    case 'price_desc':
      return { sort, price: item.price, id: item.id };
    case 'rating':
      return { sort, average: item.ratingAverage, count: item.ratingCount, id: item.id };
    case 'newest':
      return { sort, createdAt: new Date(item.createdAt).toISOString(), id: item.id };
  }
}

function toSummary(item: ItemJson): ProductSummary {
  return {
    id: item.id,
    name: item.name,
    brand: item.brand,
    price: { amount: item.price, currency: item.currency },
    rating: { average: item.ratingAverage, count: item.ratingCount },
    ...(item.image ? { image: item.image } : {}),
    categoryId: item.categoryId,
    sellerId: item.sellerId,
    available: item.available,
    inStock: item.inStock,
  };
}

function facetsOf(rows: FacetJson[]): Pick<SearchResult, 'total' | 'facets'> {
  let total = 0;
  const category: FacetValue[] = [];
  const brand: FacetValue[] = [];
  const price: (PriceFacetValue & { index: number })[] = [];
  for (const row of rows) {
    // grouping() is 0 for the columns a row is grouped by, 1 for the others.
    if (row.byCategory === 1 && row.byBrand === 1 && row.byPrice === 1) total = row.count;
    else if (row.byCategory === 0) {
      if (row.category !== null) category.push({ value: row.category, count: row.count, ...(row.label ? { label: row.label } : {}) });
    } else if (row.byBrand === 0) {
      if (row.brandKey !== null) brand.push({ value: row.brand ?? row.brandKey, count: row.count });
    } else if (row.bucket !== null) {
      price.push({ ...priceBucket(row.bucket), count: row.count, index: row.bucket });
    }
  }
  const byCount = (a: FacetValue, b: FacetValue) => b.count - a.count || (a.label ?? a.value).localeCompare(b.label ?? b.value);
  return {
    total,
    facets: {
      category: category.sort(byCount).slice(0, MAX_CATEGORY_FACETS),
      brand: brand.sort(byCount).slice(0, MAX_BRAND_FACETS),
      price: price.sort((a, b) => a.index - b.index).map(({ index: _index, ...bucket }) => bucket),
    },
  };
}

/** Unknown words of the query, each with the known words it may have been meant as. */
async function findCorrections(db: Db, words: string[]): Promise<Map<string, string[]>> {
  const correctable = words.filter((w) => maxEditsFor(w) > 0);
  if (correctable.length === 0) return new Map();
  // Nearest neighbours by trigram distance come from the GiST index (no similarity threshold to tune);
  // edit distance then decides which of them are plausible typos.
  const { rows } = await sql<{ word: string; known: boolean; nearest: string[] }>`${CUSTOM_PLAN}
    select w.word,
           exists (select 1 from search.terms t where t.term = w.word) as known,
           array(select t.term from search.terms t order by t.term <-> w.word limit ${CORRECTION_CANDIDATES}) as nearest
    from unnest(${correctable}::text[]) as w(word)`.execute(db);
  const corrections = new Map<string, string[]>();
  for (const row of rows) {
    if (row.known) continue;
    const chosen = chooseCorrections(row.word, row.nearest);
    if (chosen.length > 0) corrections.set(row.word, chosen);
  }
  return corrections;
}

async function suggestFor(db: Db, lowered: string, limit: number): Promise<Suggestion[]> {
  const starts = likePrefix(lowered);
  // Three small statements, each served by its own index and cut off by its own limit; together they
  // cost a few index probes whatever the prefix, where one ranked statement would sort every match.
  const popular = sql<{ text: string }>`
    select q.query as text from search.queries q
    where q.query like ${starts} and q.count >= ${POPULAR_MIN_COUNT}
      -- A search that found something once may find nothing now (the product was deleted).
      and exists (select 1 from search.documents d
                  where d.visible and d.search_vector @@ websearch_to_tsquery(${TEXT_CONFIG}, q.query))
    order by q.count desc, q.query
    limit ${limit}`.execute(db);
  // Names that start with the prefix, in name order straight off the prefix index (C collation).
  const startingWith = sql<{ text: string; product_id: string }>`
    select d.name as text, d.product_id from search.documents d
    where d.visible and lower(d.name) collate "C" like ${starts}
    order by lower(d.name) collate "C", d.product_id
    limit ${limit * 2}`.execute(db);
  // Names with any word starting with the prefix, found through the trigram index (which needs three
  // characters). The first word is included because the index cannot tell it apart: excluding it would
  // recheck every such row only to drop it. Candidates are capped before ranking, so a common prefix
  // never sorts thousands of rows.
  const containing =
    lowered.length >= 3
      ? sql<{ text: string; product_id: string }>`
          select c.name as text, c.product_id from (
            select d.name, d.product_id, d.rating_count from search.documents d
            where d.visible and (d.name ilike ${starts} or d.name ilike ${`% ${starts}`})
            limit ${SUGGEST_CANDIDATES}
          ) c
          order by c.rating_count desc, c.product_id
          limit ${limit * 2}`.execute(db)
      : Promise.resolve({ rows: [] as { text: string; product_id: string }[] });
  const [queries, names, words] = await Promise.all([popular, startingWith, containing]);
  return mergeSuggestions(
    queries.rows.map((r) => r.text),
    [...names.rows, ...words.rows].map((r) => ({ text: r.text, productId: r.product_id })),
    limit,
  );
}

/** The known word a partly typed, misspelt word most likely begins, if any is close enough. */
async function findCompletion(db: Db, typed: string): Promise<string | undefined> {
  if (maxEditsFor(typed) === 0) return undefined;
  const { rows } = await sql<{ term: string }>`
    select t.term from search.terms t order by t.term <-> ${typed} limit ${CORRECTION_CANDIDATES}`.execute(db);
  return chooseCompletion(typed, rows.map((r) => r.term));
}

/**
 * Popular searches first (up to half the list unless products run short), then product names. Products
 * of one name (several sellers' listings) appear once: a shopper cannot tell the entries apart.
 */
function mergeSuggestions(popular: string[], products: { text: string; productId: string }[], limit: number): Suggestion[] {
  const seenNames = new Set<string>();
  const distinct: Suggestion[] = [];
  for (const product of products) {
    const key = product.text.toLowerCase();
    if (seenNames.has(key)) continue;
    seenNames.add(key);
    distinct.push(product);
  }
  const fromPopular = popular.slice(0, Math.max(Math.ceil(limit / 2), limit - distinct.length)).map((text) => ({ text }));
  return [...fromPopular, ...distinct].slice(0, limit);
}
