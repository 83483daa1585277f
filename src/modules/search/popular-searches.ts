import type { Logger } from 'pino';
import type { Db } from '../../kernel/db/database.ts';
import type { SearchIndex } from './search-index.ts';

const FLUSH_EVERY_MS = 1000;
const MAX_BUFFERED_QUERIES = 1000;

/**
 * Counts the searches that found something, for "popular searches" in suggest. Counting in memory and
 * writing once a second keeps a write off the path of every search (a hot query would otherwise make
 * every request update one row). The flush rides on the next request rather than a timer, so nothing
 * outlives the app; what a crash loses is at most a second of counts.
 */
export function createPopularSearches(options: { index: SearchIndex; db: Db; logger: Logger }) {
  const { index, db, logger } = options;
  let pending = new Map<string, number>();
  let lastFlushAt = 0;
  let flushing: Promise<void> | undefined;

  return {
    record(query: string) {
      if (!pending.has(query) && pending.size >= MAX_BUFFERED_QUERIES) return;
      pending.set(query, (pending.get(query) ?? 0) + 1);
    },

    /** Writes what was counted, if a second has passed since the last write. Never fails the request. */
    async flushIfDue(): Promise<void> {
      if (flushing || pending.size === 0 || Date.now() - lastFlushAt < FLUSH_EVERY_MS) return;
      const batch = pending;
      pending = new Map();
      lastFlushAt = Date.now();
      flushing = index.recordSearches(db, batch).catch((error) => {
        logger.warn({ err: error }, 'recording popular searches failed; their counts are dropped');
      });
      try {
        await flushing;
      } finally {
        flushing = undefined;
      }
    },
  };
}

export type PopularSearches = ReturnType<typeof createPopularSearches>;
