import { sql } from 'kysely';
import type { Logger } from 'pino';
import type { JobDefinition } from '../module.ts';
import type { Db } from './database.ts';

/**
 * What PostgreSQL's autovacuum would do for Bazaar's own tables, for when it does not run: a server
 * configured with `autovacuum = off`, and PGlite, whose single-user backend has no autovacuum at all.
 *
 * Without it nothing ever analyzes or vacuums the tables that grow and churn with every order (outbox,
 * inbox, payments, orders...), and it costs more than bloat: a prepared statement keeps the generic
 * plan it chose while the table was small, because only an ANALYZE (or DDL) makes PostgreSQL plan it
 * again. Measured on a 7-minute checkout run on a server with autovacuum off (37,000 orders, 235,000
 * outbox rows): the relay's mark of published rows averaged 14 ms (up to 728 ms) and the batched
 * payment settle 3.2 ms, both scanning whole tables with plans made in the run's first seconds.
 *
 * Thresholds: vacuum (and analyze) after 50 + 20 % of a table's rows are dead, as autovacuum does; analyze
 * after 50 + 50 % of them changed, where autovacuum waits for 10 %. Plans go wrong when a table grows
 * by multiples, not by a tenth, and on a checkout run the 10 % rule had the outbox analyzed every 10 s
 * at 0.5-1 s each. Vacuums leave the table's empty tail pages in place (`truncate false`): giving them
 * back needs an exclusive lock, and the cart's lines table, emptied by every checkout, waited up to 2 s
 * for it while add-to-cart queued behind.
 */
export interface TableCare {
  table: string;
  action: 'vacuum' | 'analyze';
  liveRows: number;
  deadRows: number;
  changedSinceAnalyze: number;
}

const ANALYZE_THRESHOLD = 50;
const ANALYZE_SCALE = 0.5;
const VACUUM_THRESHOLD = 50;
const VACUUM_SCALE = 0.2;
const SCHEMA_NAME = /^[a-z_][a-z0-9_]*$/;

/** Whether PostgreSQL vacuums and analyzes by itself (never on PGlite, which has no autovacuum worker). */
export async function autovacuumRuns(db: Db, kind: 'pglite' | 'postgres'): Promise<boolean> {
  if (kind === 'pglite') return false;
  const { rows } = await sql<{ on: boolean }>`select current_setting('autovacuum') = 'on' as on`.execute(db);
  return rows[0]?.on === true;
}

/** The tables of `schemas` that autovacuum's rules say are due, from the statistics as they are now. */
export async function tablesDueForCare(db: Db, schemas: string[]): Promise<TableCare[]> {
  // This backend's own recent changes are counted only once flushed; other backends flush within a
  // second. (PostgreSQL 15 and later; before that, statistics lag a little more, which is harmless.)
  await sql`select pg_stat_force_next_flush()`.execute(db).catch(() => undefined);
  const { rows } = await sql<{ schema: string; name: string; live: string; dead: string; changed: string }>`
    select schemaname as schema, relname as name, n_live_tup as live, n_dead_tup as dead, n_mod_since_analyze as changed
    from pg_stat_user_tables where schemaname = any(${sql`${schemas}::text[]`})
    order by schemaname, relname`.execute(db);
  const due: TableCare[] = [];
  for (const row of rows) {
    const [liveRows, deadRows, changedSinceAnalyze] = [Number(row.live), Number(row.dead), Number(row.changed)];
    const table = `${row.schema}.${row.name}`;
    if (deadRows > VACUUM_THRESHOLD + VACUUM_SCALE * liveRows) due.push({ table, action: 'vacuum', liveRows, deadRows, changedSinceAnalyze });
    else if (changedSinceAnalyze > ANALYZE_THRESHOLD + ANALYZE_SCALE * liveRows) due.push({ table, action: 'analyze', liveRows, deadRows, changedSinceAnalyze });
  }
  return due;
}

/** Vacuums or analyzes each due table of `schemas`, one statement per table (outside any transaction). */
export async function careForTables(db: Db, schemas: string[], logger?: Logger): Promise<TableCare[]> {
  const valid = schemas.filter((s) => SCHEMA_NAME.test(s));
  const due = await tablesDueForCare(db, valid);
  for (const care of due) {
    const [schema, name] = care.table.split('.') as [string, string];
    const target = sql`${sql.id(schema)}.${sql.id(name)}`;
    const started = performance.now();
    if (care.action === 'vacuum') await sql`vacuum (analyze, truncate false) ${target}`.execute(db);
    else await sql`analyze ${target}`.execute(db);
    logger?.info({ ...care, ms: Math.round(performance.now() - started) }, `table maintenance: ${care.action}`);
  }
  return due;
}

/**
 * The job, only where autovacuum does not run. It looks every 10 s, not autovacuum's 60: the look is
 * one read of the statistics, and a freshly created shop (a benchmark's, a demo's) otherwise runs its
 * first minute on plans made for empty tables. One instance of a cluster runs it at a time.
 */
export function tableMaintenanceJob(schemas: string[], kind: 'pglite' | 'postgres', intervalMs = 10_000): JobDefinition {
  let autovacuum: boolean | undefined;
  return {
    name: 'kernel.table-maintenance',
    intervalMs,
    async run(ctx) {
      if (autovacuum === undefined) {
        autovacuum = await autovacuumRuns(ctx.db, kind);
        if (!autovacuum) ctx.logger.info({ kind }, 'autovacuum does not run here: Bazaar analyzes and vacuums its own tables');
      }
      if (autovacuum) return;
      await careForTables(ctx.db, schemas, ctx.logger);
    },
  };
}
