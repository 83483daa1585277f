#!/usr/bin/env node
/**
 * Catalog and search benchmark (issue: catalog, inventory and search).
 *
 *   node bench/catalog.mjs --products 10000 [--duration 10] [--reuse] [--seed-only]
 *
 * Creates (or reuses) a PostgreSQL database `bazaar_bench_<products>` on DATABASE_ADMIN_URL
 * (default postgres://root@127.0.0.1:5432/postgres), seeds it with `bazaar seed --products N`, starts
 * one Bazaar process on it, and drives it with autocannon from this process: closed-loop at 16 and 64
 * connections, and open-loop at a steady 50 req/s. Writes bench/results/catalog-<N>.json and prints a
 * markdown table. Log level is warn so that logging to a terminal is not what we measure.
 */
import http from 'node:http';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import autocannon from 'autocannon';
import pg from 'pg';
import { SERVER_NODE_ARGS } from './machine.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const products = Number(arg('products', '10000'));
const duration = Number(arg('duration', '10'));
const reuse = args.includes('--reuse');
const port = Number(arg('port', '3310'));
const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
const dbName = `bazaar_bench_${products}`;
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const base = `http://127.0.0.1:${port}`;

const env = {
  ...process.env,
  DATABASE_URL: dbUrl.toString(),
  PORT: String(port),
  LOG_LEVEL: 'warn',
  RATE_LIMIT_AUTH_PER_MIN: '0',
  DATA_DIR: `/tmp/${dbName}`,
};

async function prepareDatabase() {
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  const exists = (await admin.query('select 1 from pg_database where datname = $1', [dbName])).rowCount > 0;
  if (exists && reuse) {
    await admin.end();
    return;
  }
  if (exists) await admin.query(`drop database ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  await admin.end();
  const started = Date.now();
  const seed = spawnSync('node', ['dist/bazaar.mjs', 'seed', '--products', String(products)], { env, stdio: 'inherit' });
  if (seed.status !== 0) throw new Error('seeding failed');
  console.log(`seeded ${products} products in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  const analyze = new pg.Client({ connectionString: dbUrl.toString() });
  await analyze.connect();
  await analyze.query('vacuum analyze');
  await analyze.end();
}

async function startServer() {
  const child = spawn('node', [...SERVER_NODE_ARGS, 'dist/bazaar.mjs', 'start'], { env, stdio: ['ignore', 'inherit', 'inherit'] });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return child;
    } catch {}
    await sleep(100);
  }
  child.kill();
  throw new Error('server did not start');
}

function rssOf(pid) {
  const out = spawnSync('ps', ['-o', 'rss=', '-p', String(pid)]).stdout.toString().trim();
  return Math.round(Number(out) / 1024);
}

async function sample() {
  const list = await (await fetch(`${base}/api/v1/products?limit=20`)).json();
  const ids = list.items.map((p) => p.id);
  const search = await (await fetch(`${base}/api/v1/search?q=phone&limit=20`)).json();
  const words = search.items.length > 0 ? search.items[0].name.split(/\s+/).filter((w) => w.length > 3) : ['smart'];
  return { ids, word: words[0] ?? 'phone', twoWords: words.slice(0, 2).join(' ') || 'smart phone' };
}

function scenarios(s) {
  let i = 0;
  const nextId = () => s.ids[i++ % s.ids.length];
  const typo = s.word.length > 4 ? s.word.slice(0, 2) + s.word[3] + s.word[2] + s.word.slice(4) : 'iphnoe';
  return [
    { name: 'product list (page of 20)', path: () => '/api/v1/products?limit=20' },
    { name: 'product detail', path: () => `/api/v1/products/${nextId()}` },
    { name: `search "${s.word}" + facets + total`, path: () => `/api/v1/search?q=${encodeURIComponent(s.word)}` },
    { name: `search "${s.twoWords}"`, path: () => `/api/v1/search?q=${encodeURIComponent(s.twoWords)}` },
    { name: `search typo "${typo}"`, path: () => `/api/v1/search?q=${encodeURIComponent(typo)}` },
    // Search answers a repeated query from its cache; a unique minPrice on every request misses it,
    // so these rows measure the database path (minPrice 0..n cents filters out nothing real).
    { name: `search "${s.word}" uncached`, path: () => `/api/v1/search?q=${encodeURIComponent(s.word)}&minPrice=${i++}` },
    { name: `search typo "${typo}" uncached`, path: () => `/api/v1/search?q=${encodeURIComponent(typo)}&minPrice=${i++}` },
    { name: 'browse category facets uncached', path: () => `/api/v1/search?minPrice=${i++}` },
    { name: 'suggest "sm"', path: () => '/api/v1/suggest?prefix=sm' },
  ];
}

function run(scenario, options) {
  return new Promise((resolve, reject) => {
    const instance = autocannon(
      {
        url: base,
        duration,
        ...options,
        requests: [{ method: 'GET', setupRequest: (req) => ({ ...req, path: scenario.path() }) }],
      },
      (error, result) => (error ? reject(error) : resolve(result)),
    );
    instance.on('error', reject);
  });
}

/**
 * A steady open loop: request i is due at start + i/rate whatever happened to earlier ones, and its
 * latency counts from when it was due (so a stall delays, and is charged to, every request behind it).
 * autocannon's `overallRate` is not this: it lets each connection spend its share of a second as fast
 * as it can at the start of the second, a burst of 16 concurrent requests followed by silence.
 */
async function openLoop(scenario, rate = 50) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const total = Math.round((rate * duration));
  const latencies = [];
  let errors = 0;
  const start = performance.now() + 20;
  const get = (path) =>
    new Promise((resolve) => {
      const req = http.get(`${base}${path}`, { agent }, (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode));
      });
      req.on('error', () => resolve(0));
    });
  await Promise.all(
    Array.from({ length: total }, async (_, i) => {
      const due = start + (i * 1000) / rate;
      await sleep(Math.max(0, due - performance.now()));
      const status = await get(scenario.path());
      if (status < 200 || status >= 400) errors++;
      latencies.push(performance.now() - due);
    }),
  );
  agent.destroy();
  latencies.sort((a, b) => a - b);
  const at = (q) => Math.round(latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]);
  return { rps: rate, p50: at(0.5), p90: at(0.9), p99: at(0.99), errors };
}

const summarise = (r) => ({
  rps: Math.round(r.requests.average),
  p50: r.latency.p50,
  p90: r.latency.p90,
  p99: r.latency.p99,
  errors: r.errors + r.non2xx,
});

await prepareDatabase();
// --seed-only: build (or keep, with --reuse) the database and stop, to run the measurements later on an idle machine.
if (args.includes('--seed-only')) process.exit(0);
const server = await startServer();
const results = { products, duration, date: new Date().toISOString(), machine: `${spawnSync('nproc').stdout.toString().trim()} cores`, rows: [] };
try {
  const s = await sample();
  // Warm caches and the JIT the way a running shop would be warm.
  for (const scenario of scenarios(s)) await run(scenario, { connections: 4, duration: 2 });
  for (const scenario of scenarios(s)) {
    const row = { scenario: scenario.name };
    for (const connections of [16, 64]) row[`c${connections}`] = summarise(await run(scenario, { connections }));
    // Let the overload of the 64-connection run drain before measuring the steady rate.
    await sleep(2000);
    row.open50 = await openLoop(scenario, 50);
    results.rows.push(row);
    console.log(JSON.stringify(row));
  }
  results.rssMb = rssOf(server.pid);
} finally {
  server.kill('SIGTERM');
}

mkdirSync('bench/results', { recursive: true });
writeFileSync(`bench/results/catalog-${products}.json`, JSON.stringify(results, null, 2));
console.log(`\n| scenario (${products} products) | 16 conn req/s | p50 | p90 | p99 | 64 conn req/s | p99 | 50 req/s open-loop p99 | errors |`);
console.log('| --- | --- | --- | --- | --- | --- | --- | --- | --- |');
for (const r of results.rows) {
  console.log(`| ${r.scenario} | ${r.c16.rps} | ${r.c16.p50} | ${r.c16.p90} | ${r.c16.p99} | ${r.c64.rps} | ${r.c64.p99} | ${r.open50.p99} | ${r.c16.errors + r.c64.errors + r.open50.errors} |`);
}
console.log(`RSS after the run: ${results.rssMb} MB`);
