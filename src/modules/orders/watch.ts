import { perApp } from '../../kernel/per-app.ts';

/**
 * Requests waiting for an order to change (`GET /orders/{id}?waitWhileStatus=…`), woken once a status
 * change of that order has committed in this process. A change made by another instance wakes no one
 * here: waiters also look again every RECHECK_MS, so it is seen a little later, never missed.
 */
export interface OrderWatch {
  /** Registers before the caller reads the order, so a change committed meanwhile still wakes it. */
  next(orderId: string): { woken: Promise<void>; cancel(): void };
  notify(orderId: string): void;
}

export const RECHECK_MS = 1000;

function createOrderWatch(): OrderWatch {
  const waiting = new Map<string, Set<() => void>>();
  return {
    next(orderId) {
      let wake!: () => void;
      const woken = new Promise<void>((resolve) => (wake = resolve));
      let set = waiting.get(orderId);
      if (!set) waiting.set(orderId, (set = new Set()));
      set.add(wake);
      const cancel = () => {
        set!.delete(wake);
        if (set!.size === 0 && waiting.get(orderId) === set) waiting.delete(orderId);
      };
      return { woken, cancel };
    },
    notify(orderId) {
      const set = waiting.get(orderId);
      if (!set) return;
      waiting.delete(orderId);
      for (const wake of set) wake();
    },
  };
}

/** One watch per app: two apps in one process (tests) stay apart. */
export const orderWatchOf = perApp(() => createOrderWatch());
