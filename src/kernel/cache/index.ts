import type { Cache } from './cache.ts';
import { createMemoryCache } from './memory-cache.ts';
import { createRedisCache } from './redis-cache.ts';

export type { Cache };

export function createCache(options: { redisUrl?: string; namespace?: string }): Cache {
  return options.redisUrl ? createRedisCache(options.redisUrl, options.namespace) : createMemoryCache();
}
