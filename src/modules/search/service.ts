import { createHash } from 'node:crypto';
import { decodeCursor, encodeCursor } from '../../kernel/http/schemas.ts';
import { badRequest } from '../../kernel/http/problem.ts';
import type { ProductSnapshot } from '../catalog/contract.ts';
import type { SearchDocument, SearchParams, SearchSort } from './search-index.ts';

/** The rules of search, free of SQL and HTTP: what is visible, what a query means, how typos are mended. */

/** A product is shown only while it is active, its seller is active, and it has something to buy. */
export function isVisible(product: Pick<ProductSnapshot, 'status' | 'sellerActive' | 'variants'>): boolean {
  return product.status === 'active' && product.sellerActive && product.variants.length > 0;
}

export function documentFromSnapshot(product: ProductSnapshot): SearchDocument {
  const prices = product.variants.map((v) => v.price);
  const cheapest = prices.reduce<(typeof prices)[number] | undefined>((min, p) => (!min || p.amount < min.amount ? p : min), undefined);
  const brand = product.brand?.trim() || null;
  return {
    productId: product.id,
    sellerId: product.sellerId,
    name: product.name,
    brand,
    description: product.description ?? '',
    categoryId: product.categoryId,
    categoryPath: product.categoryPath.length > 0 ? product.categoryPath : [product.categoryId],
    variantIds: product.variants.map((v) => v.id),
    minPrice: cheapest?.amount ?? 0,
    maxPrice: prices.reduce((max, p) => Math.max(max, p.amount), 0),
    currency: cheapest?.currency ?? 'USD',
    imageUrl: product.images[0]?.url ?? null,
    status: product.status,
    sellerActive: product.sellerActive,
    visible: isVisible(product),
    createdAt: product.createdAt,
    sourceUpdatedAt: product.updatedAt,
    terms: vocabularyOf([product.name, brand ?? '', product.description ?? '']),
  };
}

// Control characters carry no meaning in a query, and PostgreSQL refuses NUL in text outright.
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex
const HAS_CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** Free text as typed, made safe to hand to the database; undefined when nothing is left. */
export function normalizeText(raw: string | undefined): string | undefined {
  if (raw === undefined) return undefined;
  const text = raw.replace(CONTROL, ' ').replace(/\s+/g, ' ').trim();
  return text.length > 0 ? text : undefined;
}

const WORD = /[\p{L}\p{N}]+/gu;
const MAX_QUERY_WORDS = 8;

/** The words of a query, lowercased, in order, without repeats. Operators and punctuation fall away. */
export function queryWords(text: string): string[] {
  const words = (text.toLowerCase().match(WORD) ?? []).filter((w) => w.length <= 40);
  return [...new Set(words)].slice(0, MAX_QUERY_WORDS);
}

/** How a query is remembered for "popular searches": its words only, so punctuation tricks collapse. */
export function canonicalQuery(text: string): string | undefined {
  const canonical = queryWords(text).join(' ');
  return canonical.length >= 2 && canonical.length <= 100 ? canonical : undefined;
}

const MAX_TERMS_PER_DOCUMENT = 200;

/** Words worth correcting a typo towards: long enough to misspell, not bare numbers (model numbers are exact). */
export function vocabularyOf(texts: string[]): string[] {
  const terms = new Set<string>();
  for (const text of texts) {
    for (const word of text.toLowerCase().match(WORD) ?? []) {
      if (word.length < 3 || word.length > 30 || /^\d+$/.test(word)) continue;
      terms.add(word);
      if (terms.size >= MAX_TERMS_PER_DOCUMENT) return [...terms];
    }
  }
  return [...terms];
}

/** Below this many exact matches, unknown words are mended with their nearest known words. */
export const TYPO_FALLBACK_BELOW = 3;
export const MAX_CORRECTIONS_PER_WORD = 3;

/** A typo the size of the word: none for short words (too many neighbours), one for mid, two for long. */
export function maxEditsFor(word: string): number {
  if (word.length < 4 || /^\d+$/.test(word)) return 0;
  return word.length <= 5 ? 1 : 2;
}

/**
 * Optimal string alignment distance: insertions, deletions, substitutions and swaps of neighbours
 * each cost one, so "iphnoe" is one edit from "iphone" (trigram similarity alone rates them 0.27).
 */
export function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) => Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1);
      d[i]![j] = best;
    }
  }
  return d[a.length]![b.length]!;
}

/** From the nearest known words by trigrams, those within the word's edit budget and closest to it. */
export function chooseCorrections(word: string, candidates: string[]): string[] {
  const budget = maxEditsFor(word);
  if (budget === 0) return [];
  const near = candidates
    .filter((c) => c !== word)
    .map((c) => ({ c, distance: editDistance(word, c) }))
    .filter(({ distance }) => distance <= budget);
  // Only the closest: "iphnoe" is one edit from "iphone" and two from "phone"; the shopper meant one thing.
  const closest = Math.min(...near.map((n) => n.distance));
  return near
    .filter(({ distance }) => distance === closest)
    .map(({ c }) => c)
    .sort()
    .slice(0, MAX_CORRECTIONS_PER_WORD);
}

/**
 * For type-ahead: the known word whose beginning is closest to a partly typed word ("wirl" begins
 * "wireless" but for one letter). Compares against the candidate's prefixes of about the typed length.
 */
export function chooseCompletion(typed: string, candidates: string[]): string | undefined {
  const budget = Math.min(maxEditsFor(typed), 1);
  let best: { term: string; distance: number } | undefined;
  for (const term of candidates) {
    if (term.length < typed.length - 1) continue;
    let distance = Number.POSITIVE_INFINITY;
    for (let length = typed.length - 1; length <= Math.min(term.length, typed.length + 1); length++) {
      distance = Math.min(distance, editDistance(typed, term.slice(0, length)));
    }
    if (distance <= budget && (!best || distance < best.distance || (distance === best.distance && term < best.term))) {
      best = { term, distance };
    }
  }
  return best?.term;
}

/**
 * Price facet buckets on the shown (lowest) price, in minor units: [0, 2500), [2500, 5000), ...
 * Prices are integers, so each bucket maps exactly onto an inclusive minPrice..maxPrice filter.
 */
export const PRICE_BUCKET_BOUNDS = [2500, 5000, 10_000, 25_000, 50_000, 100_000] as const;

export function priceBucket(index: number): { value: string; minPrice: number; maxPrice?: number } {
  const from = index === 0 ? 0 : PRICE_BUCKET_BOUNDS[index - 1]!;
  const to = PRICE_BUCKET_BOUNDS[index];
  return to === undefined ? { value: `${from}+`, minPrice: from } : { value: `${from}-${to}`, minPrice: from, maxPrice: to - 1 };
}

/** Relevance means nothing without text: browsing falls back to newest first. */
export function effectiveSort(params: Pick<SearchParams, 'text' | 'sort'>): SearchSort {
  return params.sort === 'relevance' && !params.text ? 'newest' : params.sort;
}

/** Keyset cursor: the sort it was issued for, then the sort key of the last item returned. */
export type CursorKey =
  | { sort: 'relevance'; score: number; id: string }
  | { sort: 'price_asc' | 'price_desc'; price: number; id: string }
  | { sort: 'rating'; average: number; count: number; id: string }
  | { sort: 'newest'; createdAt: string; id: string };

export function encodeSearchCursor(key: CursorKey): string {
  switch (key.sort) {
    case 'relevance':
      return encodeCursor([key.sort, key.score, key.id]);
    case 'price_asc':
    case 'price_desc':
      return encodeCursor([key.sort, key.price, key.id]);
    case 'rating':
      return encodeCursor([key.sort, key.average, key.count, key.id]);
    case 'newest':
      return encodeCursor([key.sort, key.createdAt, key.id]);
  }
}

const invalidCursor = () =>
  badRequest('The cursor is not valid', [{ path: 'querystring:/cursor', message: 'is not a cursor issued for this sort' }]);

export function decodeSearchCursor(cursor: string | undefined, sort: SearchSort): CursorKey | undefined {
  if (!cursor) return undefined;
  const values = decodeCursor(cursor, sort === 'rating' ? 4 : 3)!;
  const [tag, ...rest] = values;
  const id = rest[rest.length - 1];
  if (tag !== sort || typeof id !== 'string' || id.length > 100 || HAS_CONTROL.test(id)) throw invalidCursor();
  const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
  switch (sort) {
    case 'relevance':
      if (!finite(rest[0])) throw invalidCursor();
      return { sort, score: rest[0], id };
    case 'price_asc':
    case 'price_desc':
      if (!finite(rest[0]) || !Number.isSafeInteger(rest[0])) throw invalidCursor();
      return { sort, price: rest[0], id };
    case 'rating':
      if (!finite(rest[0]) || !finite(rest[1])) throw invalidCursor();
      return { sort, average: rest[0], count: rest[1], id };
    case 'newest': {
      const at = rest[0];
      if (typeof at !== 'string' || !/^\d{4}-\d\d-\d\dT[\d:.]+Z$/.test(at) || Number.isNaN(Date.parse(at))) throw invalidCursor();
      return { sort, createdAt: at, id };
    }
  }
}

/** The result-cache key: the index generation plus everything that shapes the answer. */
export function resultCacheKey(generation: string, params: SearchParams): string {
  const shape = JSON.stringify([
    params.text ?? null,
    params.categoryId ?? null,
    [...params.brands].sort(),
    params.minPrice ?? null,
    params.maxPrice ?? null,
    params.minRating ?? null,
    params.inStock ?? null,
    params.sort,
    params.limit,
    params.cursor ?? null,
  ]);
  return `search:results:${generation}:${createHash('sha1').update(shape).digest('base64url')}`;
}

/** Escapes LIKE wildcards so a typed % or _ matches itself. */
export function likePrefix(prefix: string): string {
  return `${prefix.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}
