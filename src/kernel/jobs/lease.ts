import { sql } from 'kysely';
import type { Db } from '../db/database.ts';

/**
 * A named lease in kernel.job_leases: whoever holds an unexpired lease is the only instance in the
 * cluster doing that work. Taking it is one atomic upsert, so two instances racing cannot both win;
 * the holder renews it by taking it again before it expires.
 */
export async function tryAcquireLease(db: Db, name: string, owner: string, ttlMs: number): Promise<boolean> {
  const result = await sql`
    insert into kernel.job_leases (name, owner, expires_at)
    values (${name}, ${owner}, now() + ${ttlMs} * interval '1 millisecond')
    on conflict (name) do update
      set owner = excluded.owner, expires_at = excluded.expires_at
      where kernel.job_leases.expires_at < now() or kernel.job_leases.owner = excluded.owner
    returning owner`.execute(db);
  return result.rows.length === 1;
}

export async function releaseLease(db: Db, name: string, owner: string): Promise<void> {
  await sql`delete from kernel.job_leases where name = ${name} and owner = ${owner}`.execute(db);
}
