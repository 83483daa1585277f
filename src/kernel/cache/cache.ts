/**
 * One cache interface, an in-process LRU by default and Redis when REDIS_URL is set, so that any
 * number of instances behind a load balancer see the same entries. Values travel as JSON on both.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  /** Storing `undefined` removes the key, since `get` could not tell it from a missing one. */
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every key that starts with `prefix` (used for event-driven invalidation of a family). */
  deletePrefix(prefix: string): Promise<void>;
  /**
   * Atomically adds the integer `by` to a counter that expires `ttlMs` after it was first created
   * (later increments do not extend it); returns the new value.
   */
  increment(key: string, by: number, ttlMs: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

/** A TTL of 0 means "forever" to lru-cache and is an error to Redis; both get at least 1 ms. */
export function cacheTtl(ttlMs: number): number {
  return Math.max(1, Math.round(ttlMs));
}
