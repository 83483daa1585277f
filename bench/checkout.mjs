#!/usr/bin/env node
/**
 * Cart and checkout benchmark (issue: cart, checkout, orders and payments).
 *
 *   node bench/checkout.mjs [--buyers 16] [--duration 20] [--warmup 10] [--port 3320] [--db NAME] [--out FILE] [--products 20] [--pglite] [--poll MS]
 *
 * Starts one Bazaar process on a fresh PostgreSQL database (DATABASE_ADMIN_URL, default
 * postgres://root@127.0.0.1:5432/postgres), creates a seller with products and ample stock, signs up
 * `buyers` customers, then measures from this process, with `buyers` concurrent loops:
 *   1. add-to-cart: POST /cart/items, closed loop;
 *   2. full checkout per buyer: add to cart -> POST /orders (pm_card_visa) -> GET /orders/{id}?waitWhileStatus=pending
 *      (answered when the order leaves pending) until `paid`; reports checkouts/s, p50/p99 of the whole checkout and of order-to-paid;
 *   3. the race: 40 buyers at once for a product with stock 10, three rounds: accepted orders, 409s,
 *      stock left, and paid orders (zero oversell means accepted = 10 and stock 0).
 * Writes bench/results/checkout.json.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { requestJson } from './http.mjs';
import { closedLoop, percentile } from './loop.mjs';
import { machine, machineCpuSeconds, SERVER_NODE_ARGS } from './machine.mjs';

const args = process.argv.slice(2);
const arg = (name, fallback) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : fallback;
};
const buyersCount = Number(arg('buyers', '16'));
const duration = Number(arg('duration', '20')) * 1000;
// Each measured phase first runs this long unmeasured: a freshly started server spends the first tens
// of seconds compiling its hot code (V8's optimizing compiler took an eighth of the server's CPU 15 s
// into a cold run), which a server in production has long done.
const warmup = Number(arg('warmup', '10')) * 1000;
const port = Number(arg('port', '3320'));
// --products 1 puts every buyer on one item (a flash sale): every checkout queues for the same stock row.
const productCount = Number(arg('products', '20'));
// --phases add,checkout,race runs only those (e.g. to profile one of them).
const phases = new Set(arg('phases', 'add,checkout,race').split(','));
// --poll MS: wait for `paid` with a plain GET every MS ms instead of the long-poll (a naive client).
const pollMs = Number(arg('poll', '0'));
const adminUrl = process.env.DATABASE_ADMIN_URL ?? 'postgres://root@127.0.0.1:5432/postgres';
// --db: its own database, so that two servers (two versions) can be measured side by side at once.
const dbName = arg('db', 'bazaar_bench_checkout');
// --pglite: the server on its embedded database (what `npm start` runs), in a fresh data directory.
const onPglite = args.includes('--pglite');
const dbUrl = new URL(adminUrl);
dbUrl.pathname = `/${dbName}`;
const API = `http://127.0.0.1:${port}/api/v1`;
const ADMIN = { email: 'bench-admin@example.com', password: 'bench-admin-42' };

async function freshDatabase() {
  if (onPglite) {
    rmSync(`/tmp/${dbName}`, { recursive: true, force: true });
    return;
  }
  const admin = new pg.Client({ connectionString: adminUrl });
  await admin.connect();
  await admin.query(`drop database if exists ${dbName} with (force)`);
  await admin.query(`create database ${dbName}`);
  await admin.end();
}

async function startServer() {
  const { DATABASE_URL: _inherited, ...inherited } = process.env;
  // SERVER_NODE_ARGS: the server as `npm start` runs it (package.json).
  const child = spawn('node', [...SERVER_NODE_ARGS, ...(process.env.BENCH_NODE_ARGS ? process.env.BENCH_NODE_ARGS.split(' ') : []), 'dist/bazaar.mjs', 'start'], {
    env: {
      ...inherited,
      ...(onPglite ? {} : { DATABASE_URL: dbUrl.toString() }),
      PORT: String(port),
      LOG_LEVEL: 'warn',
      DEMO_DATA: '0',
      RATE_LIMIT_AUTH_PER_MIN: '0',
      PASSWORD_HASH_COST: '10',
      RELAY_INTERVAL_MS: '200',
      ADMIN_EMAIL: ADMIN.email,
      ADMIN_PASSWORD: ADMIN.password,
      DATA_DIR: `/tmp/${dbName}`,
    },
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  for (let i = 0; i < 300; i++) {
    try {
      if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) return child;
    } catch {}
    await sleep(100);
  }
  child.kill();
  throw new Error('server did not start');
}

const call = (method, path, options) => requestJson(method, `${API}${path}`, options);

/**
 * CPU seconds the server process has used (Linux /proc; null elsewhere). Throughput on a shared,
 * busy machine swings with everyone else's load; the server's CPU per request does much less.
 */
function serverCpuSeconds(pid) {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100;
  } catch {
    return null;
  }
}

/**
 * Adds the server's and the whole machine's CPU per operation: the server, PostgreSQL and this load
 * generator share the cores, so throughput swings with everything else, while the CPU one operation
 * costs swings much less and shows what a change saved.
 */
async function measured(pid, run) {
  const before = serverCpuSeconds(pid);
  const machineBefore = machineCpuSeconds();
  const result = await run();
  const after = serverCpuSeconds(pid);
  const machineAfter = machineCpuSeconds();
  const perOp = (seconds) => Math.round((seconds * 1000 * 10) / result.count) / 10;
  if (before !== null && after !== null && result.count > 0) result.serverCpuMsPerOp = perOp(after - before);
  if (machineBefore !== null && machineAfter !== null && result.count > 0) result.machineCpuMsPerOp = perOp(machineAfter - machineBefore);
  return result;
}

const address = { name: 'Bench Buyer', line1: '1 Load St', city: 'Testville', postalCode: '12345', country: 'US' };

async function setup() {
  const admin = (await call('POST', '/auth/login', { body: ADMIN })).body.accessToken;
  const category = (await call('POST', '/categories', { token: admin, body: { name: 'Bench' } })).body.id;
  const seller = (await call('POST', '/auth/signup', { body: { email: 'bench-seller@example.com', password: 'bench-seller-42', name: 'Seller', role: 'seller' } })).body.accessToken;
  const products = [];
  for (let i = 0; i < productCount; i++) {
    const res = await call('POST', '/products', {
      token: seller,
      body: { name: `Bench product ${i}`, description: 'For load', categoryId: category, variants: [{ sku: `B-${i}`, price: { amount: 1000 + i, currency: 'USD' }, stock: 1_000_000 }] },
    });
    products.push({ productId: res.body.id, variantId: res.body.variants[0].id });
  }
  const buyers = [];
  for (let i = 0; i < Math.max(2 * buyersCount, 40); i++) {
    const res = await call('POST', '/auth/signup', { body: { email: `buyer${i}@example.com`, password: 'bench-buyer-42', name: `Buyer ${i}` } });
    buyers.push(res.body.accessToken);
  }
  return { admin, seller, category, products, buyers };
}

async function main() {
  await freshDatabase();
  const server = await startServer();
  const results = { date: new Date().toISOString(), buyers: buyersCount, durationSeconds: duration / 1000, warmupSeconds: warmup / 1000, machine: await machine(adminUrl), database: onPglite ? 'pglite' : 'postgresql' };
  try {
    const shop = await setup();

    const addOnce = async (w, i) => {
      const item = shop.products[i % shop.products.length];
      const res = await call('POST', '/cart/items', { token: shop.buyers[w], body: { productId: item.productId, variantId: item.variantId, quantity: 1 } });
      if (res.status !== 201) throw new Error(`${res.status} ${res.body?.type ?? ''}`);
    };
    if (phases.has('add')) {
      await closedLoop(buyersCount, warmup, addOnce);
      results.addToCart = await measured(server.pid, () => closedLoop(buyersCount, duration, addOnce));
      console.log('add to cart', results.addToCart);
    }

    let toPaid = [];
    // Plain reads each checkout took to see `paid` (--poll), like toPaid reset after the warm-up.
    let readsPerCheckout = [];
    // Other buyers than the add-to-cart phase's, whose carts are now full.
    const checkoutOnce = async (worker, i) => {
      const w = buyersCount + worker;
      const item = shop.products[(w + i) % shop.products.length];
      // Each checkout starts from a cart holding exactly this one line.
      const cart = await call('POST', '/cart/items', { token: shop.buyers[w], body: { productId: item.productId, variantId: item.variantId, quantity: 1 } });
      if (cart.status !== 201) throw new Error(`cart ${cart.status} ${cart.body?.type ?? ''}`);
      const placedAt = performance.now();
      const order = await call('POST', '/orders', {
        token: shop.buyers[w],
        headers: { 'idempotency-key': `bench-${w}-${i}-${Date.now()}` },
        body: { shippingAddress: address, payment: { method: 'card', token: 'pm_card_visa' } },
      });
      if (order.status !== 201) throw new Error(`order ${order.status} ${order.body?.type ?? ''}`);
      // As the storefront's confirmation page does: one request that the server answers when the
      // order leaves `pending` (or after 10 s, then ask again). With --poll MS, as a client that knows
      // no long-poll would: a plain read every MS milliseconds.
      let reads = 0;
      for (;;) {
        const seen = pollMs
          ? await call('GET', `/orders/${order.body.id}`, { token: shop.buyers[w] })
          : await call('GET', `/orders/${order.body.id}?waitWhileStatus=pending&waitSeconds=10`, { token: shop.buyers[w] });
        if (pollMs) reads++;
        if (seen.body.status === 'paid') break;
        if (seen.body.status === 'payment_failed') throw new Error('payment failed');
        if (pollMs) await sleep(pollMs);
      }
      toPaid.push(performance.now() - placedAt);
      if (pollMs) readsPerCheckout.push(reads);
    };
    if (phases.has('checkout')) {
    await closedLoop(buyersCount, warmup, checkoutOnce);
    toPaid = [];
    readsPerCheckout = [];
    // serverCpuMsPerOp here includes the wait until paid.
    results.checkout = await measured(server.pid, () => closedLoop(buyersCount, duration, checkoutOnce));
    if (pollMs) results.checkout.readsPerCheckout = Math.round((readsPerCheckout.reduce((a, b) => a + b, 0) / readsPerCheckout.length) * 10) / 10;
    results.checkout.orderToPaidP50 = percentile(toPaid, 50);
    results.checkout.orderToPaidP99 = percentile(toPaid, 99);
    console.log('checkout', results.checkout);
    }

    results.race = [];
    for (let round = 1; round <= (phases.has('race') ? 3 : 0); round++) {
      const created = await call('POST', '/products', {
        token: shop.seller,
        body: { name: `Last units ${round}`, description: 'race', categoryId: shop.category, variants: [{ sku: `RACE-${round}`, price: 2500, stock: 10 }] },
      });
      const { id: productId, variants } = created.body;
      const answers = await Promise.all(
        shop.buyers.slice(0, 40).map((token) =>
          call('POST', '/orders', { token, body: { items: [{ productId, variantId: variants[0].id, quantity: 1 }], shippingAddress: address, payment: { method: 'card', token: 'pm_card_visa' } } }),
        ),
      );
      const accepted = answers.filter((a) => a.status === 201);
      await sleep(1500);
      let paid = 0;
      for (const a of accepted) if ((await call('GET', `/orders/${a.body.id}`, { token: shop.buyers[answers.indexOf(a)] })).body.status === 'paid') paid++;
      const stock = (await call('GET', `/inventory/${variants[0].id}`, { token: shop.seller })).body;
      const row = { round, accepted: accepted.length, conflicts: answers.filter((a) => a.status === 409).length, other: answers.filter((a) => a.status !== 201 && a.status !== 409).length, paid, onHand: stock.onHand, available: stock.available };
      results.race.push(row);
      console.log('race', row);
    }
  } finally {
    server.kill('SIGTERM');
  }
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(arg('out', 'bench/results/checkout.json'), JSON.stringify(results, null, 2));
}

await main();
