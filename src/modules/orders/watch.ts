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
}

export const RECHECK_MS = 1000;

function createOrderWatch(): OrderWatch {
  const waiting = new Map<string, Set<(order?: OrderRecord) => void>>();
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
      const set = waiting.get(orderId);
      if (!set) return;
      waiting.delete(orderId);
      for (const wake of set) wake(committed);
    },
  };
}

/** One watch per app: two apps in one process (tests) stay apart. */
export const orderWatchOf = perApp(() => createOrderWatch());
