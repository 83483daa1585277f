import { LRUCache } from 'lru-cache';
import { cacheTtl, type Cache } from './cache.ts';

/**
 * The in-process cache. Values are kept as JSON, like Redis keeps them, so that switching REDIS_URL
 * on changes nothing a caller can see: a Date comes back as a string on both, and mutating what
 * `get` returned never changes what the next `get` returns.
 */
export function createMemoryCache(maxEntries = 10_000): Cache {
  const lru = new LRUCache<string, { json: string }>({ max: maxEntries, ttlAutopurge: false });
  return {
    async get<T>(key: string) {
      const entry = lru.get(key);
      return entry === undefined ? undefined : (JSON.parse(entry.json) as T);
    },
    async set(key, value, ttlMs) {
      if (value === undefined) {
        lru.delete(key);
        return;
      }
      lru.set(key, { json: JSON.stringify(value) }, { ttl: cacheTtl(ttlMs) });
    },
    async delete(key) {
      lru.delete(key);
    },
    async deletePrefix(prefix) {
      // Collect first: deleting while walking the LRU's list would skip entries.
      const doomed = [...lru.keys()].filter((key) => key.startsWith(prefix));
      for (const key of doomed) lru.delete(key);
    },
    async increment(key, by, ttlMs) {
      if (!Number.isInteger(by)) throw new Error(`Cache increment must be an integer, got ${by}`);
      const existing = lru.get(key);
      if (existing === undefined) {
        lru.set(key, { json: JSON.stringify(by) }, { ttl: cacheTtl(ttlMs) });
        return by;
      }
      const current: unknown = JSON.parse(existing.json);
      if (!Number.isInteger(current)) throw new Error(`Cache key ${key} does not hold a counter`);
      const next = (current as number) + by;
      // Mutating the entry in place keeps its original expiry, as INCRBY does in Redis.
      existing.json = JSON.stringify(next);
      return next;
    },
    async ping() {},
    async close() {
      lru.clear();
    },
  };
}
