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

/**
 * Claims one run of a scheduled job for `owner`, in one statement, when both hold:
 * - nobody holds the lease (nothing is running it, or its runner died and the lease lapsed), and
 * - the job is due: never started, started at least `intervalMs` ago by the database's clock, or its
 *   last run never finished (the runner died) — that run is retried as soon as its lease lapses.
 * Concurrent claims serialise on the row: exactly one of them sees these conditions true.
 */
export async function claimDueJob(db: Db, name: string, owner: string, intervalMs: number, leaseMs: number): Promise<boolean> {
  const result = await sql`
    insert into kernel.job_leases (name, owner, expires_at, last_started_at)
    values (${name}, ${owner}, now() + ${leaseMs} * interval '1 millisecond', now())
    on conflict (name) do update
      set owner = excluded.owner, expires_at = excluded.expires_at, last_started_at = excluded.last_started_at
      where kernel.job_leases.expires_at < now()
        and (kernel.job_leases.last_started_at is null
          or kernel.job_leases.last_started_at + ${intervalMs} * interval '1 millisecond' <= now()
          or kernel.job_leases.last_finished_at is null
          or kernel.job_leases.last_finished_at < kernel.job_leases.last_started_at)
    returning owner`.execute(db);
  return result.rows.length === 1;
}

/** Extends a running job's lease; false when it was lost (it lapsed and another instance took it). */
export async function renewJobLease(db: Db, name: string, owner: string, leaseMs: number): Promise<boolean> {
  const result = await sql`
    update kernel.job_leases set expires_at = now() + ${leaseMs} * interval '1 millisecond'
    where name = ${name} and owner = ${owner}
    returning owner`.execute(db);
  return result.rows.length === 1;
}

/** Records the outcome and gives the lease up, so whichever instance finds the job due next may run it. */
export async function finishJob(db: Db, name: string, owner: string, error: string | null): Promise<void> {
  // The lease is given back by dating its expiry in the past: `now()` itself would not do, since a
  // claim that follows within the same clock tick (PGlite's clock counts milliseconds) compares
  // `expires_at < now()` between two equal times and finds the lease still held.
  await sql`
    update kernel.job_leases
    set expires_at = now() - interval '1 second', last_finished_at = now(), last_error = ${error}
    where name = ${name} and owner = ${owner}`.execute(db);
}
