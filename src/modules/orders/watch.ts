import { afterCommit } from '../../kernel/db/after-commit.ts';
import type { Db } from '../../kernel/db/database.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { perApp } from '../../kernel/per-app.ts';
import type { OrderRecord } from './store.ts';

/**
 * Requests waiting for an order to change (`GET /orders/{id}?waitWhileStatus=…`), woken once a status
 * change of that order has committed in this process. A change made by another instance wakes no one
 * here: waiters also look again every RECHECK_MS, so it is seen a little later, never missed.
 */
export interface OrderWatch {
  /**
   * Resolves when a change of the order commits in this process, with the order as that transaction
   * left it (a waiter need not read it again), or with nothing after `ms`.
   */
  wait(orderId: string, ms: number): Promise<OrderRecord | undefined>;
  notify(orderId: string, committed: OrderRecord): void;
  /**
   * The order as a transaction of this process last committed it, if that was less than RECENT_MS
   * ago. Another instance may have changed it since, so it only spares a waiter the read when the
   * order is (here) still in the status the waiter waits out: the wait then ends with a committed
   * change or a fresh read, RECHECK_MS later at worst, exactly as if it had been read.
   */
  recent(orderId: string): OrderRecord | undefined;
}

export const RECHECK_MS = 1000;
const RECENT_MS = 2000;
const MAX_RECENT = 10_000;

function createOrderWatch(): OrderWatch {
  const waiting = new Map<string, Set<(order?: OrderRecord) => void>>();
  const recent = new Map<string, { order: OrderRecord; at: number }>();
  return {
    async wait(orderId, ms) {
      let set = waiting.get(orderId);
      if (!set) waiting.set(orderId, (set = new Set()));
      let wake!: (order?: OrderRecord) => void;
      const woken = new Promise<OrderRecord | undefined>((resolve) => (wake = resolve));
      const timer = setTimeout(() => wake(), ms);
      set.add(wake);
      try {
        return await woken;
      } finally {
        clearTimeout(timer);
        set.delete(wake);
        if (set.size === 0 && waiting.get(orderId) === set) waiting.delete(orderId);
      }
    },
    notify(orderId, committed) {
      // Insertion order is age order (re-inserting moves an order to the young end), so the entries
      // past their time are at the old end: dropped here, the map holds about two seconds of orders.
      const now = Date.now();
      recent.delete(orderId);
      recent.set(orderId, { order: committed, at: now });
      for (const [id, entry] of recent) {
        if (now - entry.at < RECENT_MS && recent.size <= MAX_RECENT) break;
        recent.delete(id);
      }
      const set = waiting.get(orderId);
      if (!set) return;
      waiting.delete(orderId);
      for (const wake of set) wake(committed);
    },
    recent(orderId) {
      const entry = recent.get(orderId);
      return entry && Date.now() - entry.at < RECENT_MS ? entry.order : undefined;
    },
  };
}

/** One watch per app: two apps in one process (tests) stay apart. */
export const orderWatchOf = perApp(() => createOrderWatch());

/**
 * Once `tx` commits, hands `order` (as `tx` leaves it) to this process's watch: its waiters, and the
 * record of recent orders. Every write of an order that a waiter may ask about next calls this.
 */
export function notifyWhenCommitted(ctx: ModuleContext, tx: Db, order: OrderRecord): void {
  afterCommit(tx, () => orderWatchOf(ctx).notify(order.id, order));
}
