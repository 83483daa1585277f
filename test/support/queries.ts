import { AsyncLocalStorage } from 'node:async_hooks';
import { DefaultQueryExecutor } from 'kysely';
import { setRequestScope, type WorkContext } from '../../src/kernel/observability/context.ts';

/**
 * Counts the SQL statements each request runs, keyed by the `x-request-id` the test sends. While it
 * counts, each request runs in an AsyncLocalStorage of this helper's (the server itself keeps none:
 * src/kernel/observability/context.ts says why), so every statement a request's work passes to
 * Kysely's executor is attributed to it; background work (relay, consumers, jobs) runs outside any
 * request and is not counted.
 */
export function countQueries() {
  const storage = new AsyncLocalStorage<WorkContext>();
  setRequestScope((work, next) => storage.run(work, next));
  const executor = DefaultQueryExecutor.prototype as unknown as { executeQuery: (...args: unknown[]) => Promise<unknown> };
  const inherited = executor.executeQuery;
  const counts = new Map<string, number>();
  const texts = new Map<string, string[]>();
  executor.executeQuery = function (this: unknown, ...args: unknown[]) {
    const requestId = storage.getStore()?.requestId;
    if (requestId) {
      counts.set(requestId, (counts.get(requestId) ?? 0) + 1);
      texts.set(requestId, [...(texts.get(requestId) ?? []), (args[0] as { sql?: string })?.sql ?? '']);
    }
    return inherited.apply(this, args);
  };
  return {
    of: (requestId: string) => counts.get(requestId) ?? 0,
    /** The SQL of each statement the request ran, in order. */
    statements: (requestId: string) => texts.get(requestId) ?? [],
    stop: () => {
      executor.executeQuery = inherited;
      setRequestScope(undefined);
      storage.disable();
    },
  };
}
