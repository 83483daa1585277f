import { AsyncLocalStorage } from 'node:async_hooks';

/**
 * What a unit of work (an HTTP request, or the handling of one event) carries implicitly: ids that tie
 * log lines and emitted events back to their cause, and who is acting.
 */
export interface WorkContext {
  requestId?: string;
  correlationId: string;
  causationId?: string;
  actorId?: string;
}

const storage = new AsyncLocalStorage<WorkContext>();

export const currentWork = (): WorkContext | undefined => storage.getStore();
export const runInWork = <T>(context: WorkContext, fn: () => T): T => storage.run(context, fn);
/** Binds the context for the rest of the current async execution (used by the request hook). */
export const enterWork = (context: WorkContext): void => storage.enterWith(context);
