import { LRUCache } from 'lru-cache';
import { afterCommit } from '../../kernel/db/after-commit.ts';
import type { Db } from '../../kernel/db/database.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { perApp } from '../../kernel/per-app.ts';

/**
 * Sellable stock per variant kept in memory between changes, for the reads that happen on every cart
 * change (the added variant and the cart's other lines): without it each add to cart costs two of its
 * three statements on this sum.
 *
 * Each variant has an epoch in the shared cache (Redis when configured, so every instance sees it) that
 * every stock change bumps once it has committed. A figure is kept with the epoch read before the
 * database was, and used only while the epoch is unchanged, so it can never predate a change that
 * bumped it. The one gap is between a change's commit and its bump (the same callback, moments later).
 */
const VALUE_TTL_MS = 5_000;
/** Long enough that a counter expiring (and starting again from 1) cannot meet a figure kept under its old value. */
const EPOCH_TTL_MS = 30 * 24 * 3600_000;
const epochKey = (variantId: string) => `inventory:stock-epoch:${variantId}`;

interface Kept {
  epoch: number;
  available: number;
}

const keptFigures = perApp(() => new LRUCache<string, Kept>({ max: 50_000, ttl: VALUE_TTL_MS }));

export function availabilityCache(ctx: ModuleContext) {
  const kept = keptFigures(ctx);

  /** Undefined when the shared cache cannot be read: the database answers then, uncached. */
  async function epochs(variantIds: string[]): Promise<Map<string, number> | undefined> {
    try {
      return new Map(await Promise.all(variantIds.map(async (id) => [id, (await ctx.cache.get<number>(epochKey(id))) ?? 0] as const)));
    } catch (error) {
      ctx.logger.warn({ err: error }, 'shared cache unavailable; reading stock from the database');
      return undefined;
    }
  }

  return {
    /** `read` answers for the variants whose figure is not kept (or is out of date), and they are kept. */
    async available(variantIds: string[], read: (variantIds: string[]) => Promise<Map<string, number>>): Promise<Map<string, number>> {
      const ids = [...new Set(variantIds)];
      const current = await epochs(ids);
      if (!current) return read(ids);
      const result = new Map<string, number>();
      const missing: string[] = [];
      for (const id of ids) {
        const figure = kept.get(id);
        if (figure && figure.epoch === current.get(id)) result.set(id, figure.available);
        else missing.push(id);
      }
      if (missing.length > 0) {
        const fresh = await read(missing);
        for (const id of missing) {
          const available = fresh.get(id) ?? 0;
          kept.set(id, { epoch: current.get(id)!, available });
          result.set(id, available);
        }
      }
      return result;
    },

    /**
     * Call with every variant whose sellable stock `tx` changes: their kept figures lapse once it
     * commits. `figures`: the variants' sellable stock as `tx` leaves it, kept here under the epoch its
     * own bump returns, so the next check on this instance needs no read (every sale is such a change).
     * Bumps of one variant reach the shared cache in commit order from one instance, so a figure is
     * never kept under a later change's epoch there; from two instances, a change whose bump is
     * overtaken by a later change's keeps its figure on its own instance until the figure's lifetime
     * ends (5 s): a cart check may then be that stale, the checkout's locked read never is.
     */
    changed(tx: Db, variantIds: string[], figures?: Map<string, number>): void {
      if (variantIds.length === 0) return;
      afterCommit(tx, () => {
        for (const id of variantIds) {
          kept.delete(id);
          const figure = figures?.get(id);
          ctx.cache
            .increment(epochKey(id), 1, EPOCH_TTL_MS)
            .then((epoch) => {
              if (figure !== undefined) kept.set(id, { epoch, available: figure });
            })
            .catch((error) => ctx.logger.warn({ err: error, variantId: id }, 'shared cache unavailable; other instances keep a stock figure for up to 5 s'));
        }
      });
    },
  };
}
