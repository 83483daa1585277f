import { sql } from 'kysely';
import type { Db } from './db/database.ts';
import { newId } from './ids.ts';
import { workOf } from './events/outbox.ts';

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
  const work = workOf(tx);
  await sql`
    insert into kernel.audit_log (id, actor_id, actor_roles, action, target_type, target_id, details, request_id, ip)
    values (${newId()}, ${entry.actorId}, ${sql`${[...entry.actorRoles]}::text[]`}, ${entry.action}, ${entry.targetType},
            ${entry.targetId ?? null}, ${JSON.stringify(entry.details ?? {})}::jsonb, ${work?.requestId ?? null}, ${entry.ip ?? null})`.execute(tx);
}

export interface AuditRecord {
  id: string;
  at: string;
  actorId: string | null;
  actorRoles: string[];
  action: string;
  targetType: string;
  targetId: string | null;
  details: Record<string, unknown>;
}

/**
 * Everything one actor did, oldest first: for a user's data export. Modules read the audit log
 * through here rather than with their own SQL on the kernel's schema.
 */
export async function listAuditEntriesByActor(db: Db, actorId: string): Promise<AuditRecord[]> {
  const { rows } = await sql<Record<string, any>>`
    select id, at, actor_id, actor_roles, action, target_type, target_id, details
    from kernel.audit_log where actor_id = ${actorId} order by id`.execute(db);
  return rows.map((r) => ({
    id: r.id,
    at: new Date(r.at).toISOString(),
    actorId: r.actor_id,
    actorRoles: r.actor_roles ?? [],
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id ?? null,
    details: r.details ?? {},
  }));
}
