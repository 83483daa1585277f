import { LRUCache } from 'lru-cache';
import type { Cache } from './cache.ts';

interface Counter {
  value: number;
}

export function createMemoryCache(maxEntries = 10_000): Cache {
  const lru = new LRUCache<string, { value: unknown } | Counter>({ max: maxEntries, ttlAutopurge: false });
  return {
    async get<T>(key: string) {
      return lru.get(key)?.value as T | undefined;
    },
    async set(key, value, ttlMs) {
      lru.set(key, { value }, { ttl: ttlMs });
    },
    async delete(key) {
      lru.delete(key);
    },
    async deletePrefix(prefix) {
      for (const key of lru.keys()) if (key.startsWith(prefix)) lru.delete(key);
    },
    async increment(key, by, ttlMs) {
      const existing = lru.get(key) as Counter | undefined;
      if (existing && typeof existing.value === 'number') {
        existing.value += by;
        return existing.value;
      }
      lru.set(key, { value: by }, { ttl: ttlMs });
      return by;
    },
    async ping() {},
    async close() {
      lru.clear();
    },
  };
}
