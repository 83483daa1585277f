import type { Logger } from 'pino';
import { runAfterCommit } from '../db/after-commit.ts';
import type { Db } from '../db/database.ts';
import type { WorkContext } from '../observability/context.ts';
import type { EventEnvelope } from './envelope.ts';
import { closeOutbox, openOutbox } from './outbox.ts';

/**
 * The one way the kernel runs a transaction for a module (`ctx.transaction`, an event handler's
 * delivery): the events it publishes go to the outbox in one statement just before commit, with the
 * kernel's other last writes (`atCommit` in outbox.ts: an Idempotency-Key's response), and once it has
 * committed its `afterCommit` callbacks run and, if it published anything, `published` gets its eager
 * events (the app hands them to the relay). `work`: whose work it does (a request's, an event's): the
 * events it publishes and the audit rows it writes carry its ids.
 */
export async function runTransaction<T>(
  db: Db,
  work: (tx: Db) => Promise<T>,
  options: { logger: Logger; published: (eager: EventEnvelope[]) => void; work?: WorkContext },
): Promise<T> {
  let committed: { tx: Db; wrote: boolean; eager: EventEnvelope[] } | undefined;
  const value = await db.transaction().execute(async (tx) => {
    openOutbox(tx, options.work);
    const result = await work(tx);
    committed = { tx, ...(await closeOutbox(tx)) };
    return result;
  });
  if (committed) {
    runAfterCommit(committed.tx, (error) => options.logger.error({ err: error }, 'an after-commit callback failed'));
    if (committed.wrote) options.published(committed.eager);
  }
  return value;
}
