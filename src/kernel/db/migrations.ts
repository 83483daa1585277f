import { Migrator, sql, type Migration, type MigrationProvider } from 'kysely';
import type { Db } from './database.ts';

export type { Migration };
export type Migrations = Record<string, Migration>;

/**
 * Runs one owner's migrations (a module, or the kernel) inside the schema it owns. Kysely keeps the
 * record of applied migrations in `<schema>.kysely_migration`, so each module's history is its own and
 * a split service migrates only the modules it runs. Kysely takes an advisory lock, so two instances
 * starting at once do not race.
 */
export async function migrateSchema(db: Db, schema: string, migrations: Migrations): Promise<string[]> {
  if (!/^[a-z_][a-z0-9_]*$/.test(schema)) throw new Error(`Invalid schema name: ${schema}`);
  // Start-up fast path: one cheap read when everything is applied already, instead of the
  // migrator's schema, table and lock round trips for every module.
  if (await allApplied(db, schema, Object.keys(migrations))) return [];
  await ensureSchema(db, schema);
  const provider: MigrationProvider = { getMigrations: async () => migrations };
  const migrator = new Migrator({
    db,
    provider,
    migrationTableSchema: schema,
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName;
    throw new Error(`Migration ${schema}/${failed ?? '?'} failed: ${(error as Error).message ?? error}`, {
      cause: error,
    });
  }
  return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

async function allApplied(db: Db, schema: string, names: string[]): Promise<boolean> {
  const exists = await sql<{ found: string | null }>`select to_regclass(${`${schema}.kysely_migration`})::text as found`.execute(db);
  if (!exists.rows[0]?.found) return false;
  const applied = await sql<{ name: string }>`select name from ${sql.id(schema, 'kysely_migration')}`.execute(db);
  const done = new Set(applied.rows.map((r) => r.name));
  return names.every((n) => done.has(n));
}

/**
 * `create schema if not exists` is not safe under concurrency on PostgreSQL: two instances starting
 * at once on a new database can both pass the check and one fails on pg_namespace's unique index.
 * Losing that race is fine as long as the schema exists afterwards.
 */
async function ensureSchema(db: Db, schema: string): Promise<void> {
  try {
    await sql`create schema if not exists ${sql.id(schema)}`.execute(db);
  } catch (error) {
    const { rows } = await sql`select 1 from pg_namespace where nspname = ${schema}`.execute(db);
    if (rows.length === 0) throw error;
  }
}
