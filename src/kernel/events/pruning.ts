import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import type { JobDefinition } from '../module.ts';

/**
 * Forgets what is no longer needed to keep the delivery guarantees: outbox rows published, and inbox
 * rows recorded, longer ago than the retention. An inbox row must outlive every way its event can
 * come back (a NATS stream keeps events 7 days, so the retention is at least 8 days); an unpublished
 * outbox row is never removed, however old.
 */
export async function pruneEvents(db: Db, retentionDays: number): Promise<{ outbox: number; inbox: number }> {
  const outbox = await sql`
    delete from kernel.outbox where published_at is not null and published_at < now() - ${retentionDays} * interval '1 day'`.execute(db);
  const inbox = await sql`
    delete from kernel.inbox where processed_at < now() - ${retentionDays} * interval '1 day'`.execute(db);
  return { outbox: Number(outbox.numAffectedRows ?? 0), inbox: Number(inbox.numAffectedRows ?? 0) };
}

export function eventPruningJob(retentionDays: number): JobDefinition {
  return {
    name: 'kernel.prune-events',
    intervalMs: 3600_000,
    async run(ctx) {
      const pruned = await pruneEvents(ctx.db, retentionDays);
      if (pruned.outbox + pruned.inbox > 0) ctx.logger.info(pruned, 'pruned old outbox and inbox rows');
    },
  };
}
