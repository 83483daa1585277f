/**
 * One cache interface, an in-process LRU by default and Redis when REDIS_URL is set, so that any
 * number of instances behind a load balancer see the same entries.
 */
export interface Cache {
  get<T>(key: string): Promise<T | undefined>;
  set<T>(key: string, value: T, ttlMs: number): Promise<void>;
  delete(key: string): Promise<void>;
  /** Drops every key that starts with `prefix` (used for event-driven invalidation of a family). */
  deletePrefix(prefix: string): Promise<void>;
  /** Atomically adds `by` to a counter that expires `ttlMs` after it was first created; returns the new value. */
  increment(key: string, by: number, ttlMs: number): Promise<number>;
  ping(): Promise<void>;
  close(): Promise<void>;
}
