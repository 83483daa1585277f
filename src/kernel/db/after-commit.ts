import type { Db } from './database.ts';

const callbacks = new WeakMap<object, (() => void)[]>();

/**
 * Runs `callback` once `tx` has committed (never if it rolls back): for effects outside the database
 * that must not be seen before the data is, such as waking requests that wait for a change. Honoured
 * by `ctx.transaction` and by event handlers' transactions; a transaction opened another way drops
 * the callback, so it may only ever make something happen sooner, never be the only way it happens.
 */
export function afterCommit(tx: Db, callback: () => void): void {
  const pending = callbacks.get(tx);
  if (pending) pending.push(callback);
  else callbacks.set(tx, [callback]);
}

/** Called by the owner of a transaction after its commit. A failing callback cannot undo the commit. */
export function runAfterCommit(tx: Db, onError: (error: unknown) => void): void {
  const pending = callbacks.get(tx);
  if (!pending) return;
  callbacks.delete(tx);
  for (const callback of pending) {
    try {
      callback();
    } catch (error) {
      onError(error);
    }
  }
}
