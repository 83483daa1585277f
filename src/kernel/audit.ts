import { sql } from 'kysely';
import type { Db } from './db/database.ts';
import { newId } from './ids.ts';
import { currentWork } from './observability/context.ts';

export interface AuditEntry {
  actorId: string | null;
  actorRoles: readonly string[];
  action: string;
  targetType: string;
  targetId?: string | null;
  details?: Record<string, unknown>;
  ip?: string;
}

/**
 * Every admin and seller write records who did what to which target, in the same transaction as the
 * write itself, so the log cannot miss a change that happened or show one that did not.
 */
export async function recordAudit(tx: Db, entry: AuditEntry): Promise<void> {
  const work = currentWork();
  await sql`
    insert into kernel.audit_log (id, actor_id, actor_roles, action, target_type, target_id, details, request_id, ip)
    values (${newId()}, ${entry.actorId}, ${sql`${[...entry.actorRoles]}::text[]`}, ${entry.action}, ${entry.targetType},
            ${entry.targetId ?? null}, ${JSON.stringify(entry.details ?? {})}::jsonb, ${work?.requestId ?? null}, ${entry.ip ?? null})`.execute(tx);
}
