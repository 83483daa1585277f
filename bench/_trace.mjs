import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
const db = 'bazaar_trace';
const admin = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:5432/postgres' });
await admin.connect();
await admin.query(`drop database if exists ${db} with (force)`);
await admin.query(`create database ${db}`);
const port = 3399, API = `http://127.0.0.1:${port}/api/v1`;
const child = spawn('node', ['dist/bazaar.mjs', 'start'], { env: { ...process.env, DATABASE_URL: `postgres://root@127.0.0.1:5432/${db}`, PORT: String(port), LOG_LEVEL: 'warn', DEMO_DATA: '0', PASSWORD_HASH_COST: '10', RELAY_INTERVAL_MS: '200', ADMIN_EMAIL: 'a@example.com', ADMIN_PASSWORD: 'admin-pass-42', DATA_DIR: `/tmp/${db}` }, stdio: 'inherit' });
for (;;) { try { if ((await fetch(`http://127.0.0.1:${port}/healthz`)).ok) break; } catch {} await sleep(100); }
async function call(method, path, { token, body, headers = {} } = {}) {
  const r = await fetch(`${API}${path}`, { method, headers: { ...(body ? { 'content-type': 'application/json' } : {}), ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers }, body: body ? JSON.stringify(body) : undefined });
  const t = await r.text(); return { status: r.status, body: t ? JSON.parse(t) : null };
}
const adminTok = (await call('POST', '/auth/login', { body: { email: 'a@example.com', password: 'admin-pass-42' } })).body.accessToken;
const category = (await call('POST', '/categories', { token: adminTok, body: { name: 'Bench' } })).body.id;
const seller = (await call('POST', '/auth/signup', { body: { email: 's@example.com', password: 'bench-seller-42', name: 'Seller', role: 'seller' } })).body.accessToken;
const products = [];
for (let i = 0; i < 3; i++) { const r = await call('POST', '/products', { token: seller, body: { name: `P ${i}`, description: 'x', categoryId: category, variants: [{ sku: `B-${i}`, price: { amount: 1000, currency: 'USD' }, stock: 1000 }] } }); products.push({ productId: r.body.id, variantId: r.body.variants[0].id }); }
const buyer = (await call('POST', '/auth/signup', { body: { email: 'b@example.com', password: 'bench-buyer-42', name: 'B' } })).body.accessToken;
await call('POST', '/cart/items', { token: buyer, body: { ...products[0], quantity: 1 } });
await sleep(1500);
let marker; const mark = async (m) => { await marker.query(`select 'MARK ${m}'`); };
await admin.query(`alter database ${db} set log_statement = 'all'`);
// new pool connections get the setting; force reconnection by waiting? pool keeps old conns -> use pg_terminate
await admin.query(`select pg_terminate_backend(pid) from pg_stat_activity where datname = '${db}' and pid <> pg_backend_pid()`);
await sleep(300);
marker = new pg.Client({ connectionString: `postgres://root@127.0.0.1:5432/${db}` }); await marker.connect();
await call('GET', '/cart', { token: buyer }); // warm up new connections
await sleep(1000);
await mark('add');
await call('POST', '/cart/items', { token: buyer, body: { ...products[1], quantity: 1 } });
await mark('order');
const order = await call('POST', '/orders', { token: buyer, headers: { 'idempotency-key': 'k1' }, body: { shippingAddress: { name: 'B', line1: '1 St', city: 'C', postalCode: '12345', country: 'US' }, payment: { method: 'card', token: 'pm_card_visa' } } });
await mark('after-order-response');
for (;;) { const s = await call('GET', `/orders/${order.body.id}`, { token: buyer }); if (s.body.status === 'paid') break; await sleep(5); }
await mark('paid');
await sleep(1500);
await mark('end');
await admin.query(`alter database ${db} reset log_statement`);
child.kill('SIGTERM'); await admin.end(); await marker.end();
