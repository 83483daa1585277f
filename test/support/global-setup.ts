import pg from 'pg';

/** Drops test databases a killed earlier run left behind on the real PostgreSQL. */
export default async function setup() {
  const adminUrl = process.env.DATABASE_URL;
  if (!adminUrl) return;
  const client = new pg.Client({ connectionString: adminUrl });
  await client.connect();
  const { rows } = await client.query<{ datname: string }>(
    `select datname from pg_database where datname like 'bazaar_test_%'`,
  );
  const dayAgo = Date.now() - 6 * 3600_000;
  for (const { datname } of rows) {
    const created = parseInt(datname.split('_')[2] ?? '', 36);
    if (Number.isFinite(created) && created < dayAgo) await client.query(`drop database if exists ${datname} with (force)`);
  }
  await client.end();
}
