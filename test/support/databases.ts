import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../../src/kernel/db/database.ts';

export interface TestDatabase {
  database: Database;
  /** The URL of this file's own database on real PostgreSQL; undefined on PGlite. */
  url?: string;
  drop(): Promise<void>;
}

/** Written by global-setup.ts (atomically, by rename) before the test files run. */
export const PGLITE_TEMPLATE_PATH = join(tmpdir(), 'bazaar-pglite-template.tar');

let template: Blob | undefined;
function pgliteTemplate(): Blob | undefined {
  if (!template && existsSync(PGLITE_TEMPLATE_PATH)) template = new Blob([readFileSync(PGLITE_TEMPLATE_PATH)]);
  return template;
}

export const onPostgres = (): boolean => !!process.env.DATABASE_URL;

/**
 * Each test file gets a database of its own: a fresh in-memory PGlite by default, or, when
 * DATABASE_URL points at a real PostgreSQL, a new database created on that server and dropped after.
 */
export async function createTestDatabase(): Promise<TestDatabase> {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) {
    const database = await openDatabase({ dataDir: 'memory://', template: pgliteTemplate() });
    return { database, drop: () => database.close() };
  }
  const name = `bazaar_test_${Date.now().toString(36)}_${randomBytes(4).toString('hex')}`;
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`create database ${name}`);
  await admin.end();
  const url = new URL(adminUrl);
  url.pathname = `/${name}`;
  const database = await openDatabase({ url: url.toString(), dataDir: 'memory://', poolSize: 20 });
  return {
    database,
    url: url.toString(),
    async drop() {
      await database.close();
      const again = new pg.Client({ connectionString: adminUrl });
      await again.connect();
      await again.query(`drop database if exists ${name} with (force)`);
      await again.end();
    },
  };
}
