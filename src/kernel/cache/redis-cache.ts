import { Redis } from 'ioredis';
import type { Cache } from './cache.ts';

const INCREMENT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if v == tonumber(ARGV[1]) then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

/** Values are JSON. `namespace` keeps several deployments (or test files) on one Redis apart. */
export function createRedisCache(url: string, namespace = 'bazaar:'): Cache {
  const redis = new Redis(url, { keyPrefix: namespace, maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', () => {
    // ioredis reconnects by itself; a failing command rejects and the caller decides.
  });
  return {
    async get<T>(key: string) {
      const raw = await redis.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async set(key, value, ttlMs) {
      await redis.set(key, JSON.stringify(value), 'PX', Math.max(1, Math.round(ttlMs)));
    },
    async delete(key) {
      await redis.del(key);
    },
    async deletePrefix(prefix) {
      // SCAN matches on the full key, prefix included; DEL re-adds the prefix itself.
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${namespace}${prefix}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(namespace.length)));
      } while (cursor !== '0');
    },
    async increment(key, by, ttlMs) {
      return Number(await redis.eval(INCREMENT, 1, key, by, Math.max(1, Math.round(ttlMs))));
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
