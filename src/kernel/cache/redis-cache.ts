import { Redis } from 'ioredis';
import { cacheTtl, type Cache } from './cache.ts';

// The expiry is set only when the key has none, i.e. when INCRBY just created it: later increments
// leave the window where it was, and a counter that once sits at `by` again is not given a new life.
const INCREMENT = `
local v = redis.call('INCRBY', KEYS[1], ARGV[1])
if redis.call('PTTL', KEYS[1]) < 0 then redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return v`;

/** SCAN's MATCH is a glob: a literal prefix must not let `*`, `?` or `[` in a key act as wildcards. */
const globLiteral = (text: string) => text.replace(/[*?[\]\\]/g, '\\$&');

/** Values are JSON. `namespace` keeps several deployments (or test files) on one Redis apart. */
export function createRedisCache(url: string, namespace = 'bazaar:'): Cache {
  const redis = new Redis(url, { keyPrefix: namespace, maxRetriesPerRequest: 2, enableOfflineQueue: true, lazyConnect: false });
  redis.on('error', () => {
    // ioredis reconnects by itself; a failing command rejects and the caller decides.
  });
  // Commands wait for the first connection (start-up), but once Redis has been reached, a command
  // sent while it is away fails at once: queued behind reconnect attempts it took 0.3 s, then 1.7 s,
  // then 10 s to fail, and every request touching the cache waited that long.
  redis.once('ready', () => {
    redis.options.enableOfflineQueue = false;
  });
  return {
    async get<T>(key: string) {
      const raw = await redis.get(key);
      return raw === null ? undefined : (JSON.parse(raw) as T);
    },
    async set(key, value, ttlMs) {
      if (value === undefined) {
        await redis.del(key);
        return;
      }
      await redis.set(key, JSON.stringify(value), 'PX', cacheTtl(ttlMs));
    },
    async delete(key) {
      await redis.del(key);
    },
    async deletePrefix(prefix) {
      // SCAN matches on the full key, prefix included; DEL re-adds the prefix itself.
      let cursor = '0';
      do {
        const [next, keys] = await redis.scan(cursor, 'MATCH', `${globLiteral(namespace + prefix)}*`, 'COUNT', 500);
        cursor = next;
        if (keys.length > 0) await redis.del(...keys.map((k) => k.slice(namespace.length)));
      } while (cursor !== '0');
    },
    async increment(key, by, ttlMs) {
      return Number(await redis.eval(INCREMENT, 1, key, by, cacheTtl(ttlMs)));
    },
    async ping() {
      await redis.ping();
    },
    async close() {
      await redis.quit().catch(() => redis.disconnect());
    },
  };
}
