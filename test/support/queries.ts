import { DefaultQueryExecutor } from 'kysely';
import { currentWork } from '../../src/kernel/observability/context.ts';

/**
 * Counts the SQL statements each request runs, keyed by the `x-request-id` the test sends. Every
 * statement passes Kysely's executor inside the request's work context; background work (relay,
 * consumers, jobs) runs outside any request and is not counted.
 */
export function countQueries() {
  const executor = DefaultQueryExecutor.prototype as unknown as { executeQuery: (...args: unknown[]) => Promise<unknown> };
  const inherited = executor.executeQuery;
  const counts = new Map<string, number>();
  const texts = new Map<string, string[]>();
  executor.executeQuery = function (this: unknown, ...args: unknown[]) {
    const requestId = currentWork()?.requestId;
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
    },
  };
}
