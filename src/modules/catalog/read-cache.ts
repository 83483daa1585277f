import { LRUCache } from 'lru-cache';
import type { Cache } from '../../kernel/cache/cache.ts';

/**
 * Serialized anonymous product responses, kept for a second so hot pages are served from memory.
 *
 * Keys carry a catalog generation that lives in the shared cache (Redis when configured, so every
 * instance sees the same number): a write bumps it after its transaction commits, which orphans
 * every body built before it. A reader reads the generation before it reads the database, so a body
 * stored under the newest generation can never predate the write that set it.
 *
 * Bodies stay in this process, not in the shared cache: the URL space (cursors, filters) is open-ended,
 * and a flood of distinct pages must not evict other modules' entries such as rate-limit counters.
 */
export interface ReadCache {
  generation(): Promise<number>;
  get(generation: number, url: string): string | undefined;
  set(generation: number, url: string, body: string): void;
  /** Call after the change is committed (or, for another module's event, once it is visible). */
  bump(): Promise<void>;
}

const GENERATION_KEY = 'catalog:generation';
/** Orphans cached variants (names, prices, purchasable): bumped by catalog writes and sellers' status, not by stock. */
export const VARIANTS_GENERATION_KEY = 'catalog:variants-generation';
const GENERATION_TTL_MS = 30 * 24 * 3600_000;
export const READ_CACHE_TTL_MS = 1000;

export function createReadCache(shared: Cache, ttlMs = READ_CACHE_TTL_MS): ReadCache {
  const bodies = new LRUCache<string, string>({
    max: 5000,
    maxSize: 64 * 1024 * 1024,
    sizeCalculation: (body) => Math.max(1, body.length),
    ttl: ttlMs,
  });
  return {
    async generation() {
      return (await shared.get<number>(GENERATION_KEY)) ?? 0;
    },
    get: (generation, url) => bodies.get(`${generation} ${url}`),
    set: (generation, url, body) => {
      bodies.set(`${generation} ${url}`, body);
    },
    async bump() {
      await bumpCatalogGeneration(shared, { variantsChanged: true });
      bodies.clear();
    },
  };
}

/**
 * Orphans every cached body of every instance sharing `shared` (their keys carry the old number).
 * Event handlers call this with their app's cache; the orphaned bodies lapse within their TTL.
 */
export async function bumpCatalogGeneration(shared: Cache, options: { variantsChanged?: boolean } = {}): Promise<void> {
  await shared.increment(GENERATION_KEY, 1, GENERATION_TTL_MS);
  if (options.variantsChanged) await shared.increment(VARIANTS_GENERATION_KEY, 1, GENERATION_TTL_MS);
}
