import { renameSync, writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import pg from 'pg';
import { openDatabase } from '../../src/kernel/db/database.ts';
import { PGLITE_TEMPLATE_PATH } from './databases.ts';

/**
 * Before any test file runs: on PostgreSQL, drop test databases a killed earlier run left behind; on
 * PGlite, build one template data directory (initdb and pg_trgm, no migrations), so that each test
 * file's fresh database loads it in a fraction of the time initdb takes.
 */
export default async function setup() {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const database = await openDatabase({ dataDir: 'memory://' });
    await sql`create extension if not exists pg_trgm`.execute(database.db);
    const dump = await database.dump!();
    const partial = `${PGLITE_TEMPLATE_PATH}.${process.pid}`;
    writeFileSync(partial, Buffer.from(await dump.arrayBuffer()));
    renameSync(partial, PGLITE_TEMPLATE_PATH);
    await database.close();
    return;
  }
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query<{ datname: string }>(
    `select datname from pg_database where datname like 'bazaar_test_%'`,
  );
  const cutoff = Date.now() - 6 * 3600_000;
  for (const { datname } of rows) {
    const created = parseInt(datname.split('_')[2] ?? '', 36);
    if (Number.isFinite(created) && created < cutoff) await client.query(`drop database if exists ${datname} with (force)`);
  }
  await client.end();
}
