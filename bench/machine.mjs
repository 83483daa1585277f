/** What the benches record about the machine they ran on: figures from two machines compare only through it. */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import pg from 'pg';

/**
 * The server's Node options, read from `npm start` (package.json) so the benches run the server as
 * it is run: today a young generation twice V8's default (bench/README.md, "Eighth round").
 */
export const SERVER_NODE_ARGS = (() => {
  const start = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).scripts.start.split(/\s+/);
  return start.slice(start.indexOf('node') + 1, start.indexOf('dist/bazaar.mjs'));
})();

/** CPU seconds the whole machine has spent busy (all cores; Linux /proc/stat; null elsewhere). */
export function machineCpuSeconds() {
  try {
    const [user, nice, system, , , irq, softirq] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
    return (user + nice + system + irq + softirq) / 100;
  } catch {
    return null;
  }
}

export async function machine(databaseUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://root@127.0.0.1:5432/postgres') {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    const { rows } = await client.query(
      "select current_setting('server_version') as postgres, current_setting('synchronous_commit') as synchronous_commit, current_setting('fsync') as fsync, current_setting('shared_buffers') as shared_buffers, current_setting('autovacuum') as autovacuum",
    );
    const { postgres, ...postgresSettings } = rows[0];
    return {
      cpu: os.cpus()[0]?.model ?? 'unknown',
      cores: os.cpus().length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      node: process.version,
      postgres,
      postgresSettings,
    };
  } finally {
    await client.end();
  }
}
