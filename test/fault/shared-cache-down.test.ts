import { createServer, connect, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/kernel/ids.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Redis is a cache and a place for counters, not a store of record: with it unreachable the shop
 * keeps selling, answering from the database, with rate limits and the login brake off (logged).
 * The app reaches the real Redis through a proxy this test cuts, as when Redis goes down.
 */
describe('the shared cache (Redis) unreachable', () => {
  let t: TestApp;
  let proxy: Server;
  const sockets = new Set<Socket>();
  const redis = new URL(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379');

  beforeAll(async () => {
    proxy = createServer((client) => {
      const upstream = connect(Number(redis.port || 6379), redis.hostname);
      for (const socket of [client, upstream]) {
        sockets.add(socket);
        socket.on('error', () => socket.destroy());
        socket.on('close', () => sockets.delete(socket));
      }
      client.pipe(upstream).pipe(client);
      client.on('close', () => upstream.destroy());
      upstream.on('close', () => client.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    const { port } = proxy.address() as { port: number };
    t = await startTestApp({ REDIS_URL: `redis://127.0.0.1:${port}`, RATE_LIMIT_AUTH_PER_MIN: '5' }, { cacheNamespace: `test-down-${newId()}:` });
    // Up first: the cache answers. Then Redis goes away: no new connections, the open ones cut.
    expect((await t.get('/readyz')).status).toBe(200);
    proxy.close();
    for (const socket of sockets) socket.destroy();
  });
  afterAll(() => t.close());

  it('still signs up, logs in, lists, shows, adds to cart and orders', async () => {
    expect((await t.get('/readyz')).status).toBe(503);

    const seller = await t.post('/api/v1/auth/signup', { email: 'down-seller@example.com', password: 'down-seller-42', name: 'Seller', role: 'seller' });
    expect(seller.status).toBe(201);
    const admin = await t.app.ctx.tokens.signAccess({ userId: newId(), roles: ['admin'], sessionId: 's' });
    // Catalog writes bump the shared read-cache generation after they commit: they still answer 201.
    const category = await t.post('/api/v1/categories', { name: 'Down' }, { token: admin });
    expect(category.status).toBe(201);
    const product = await t.post(
      '/api/v1/products',
      { name: 'Down mug', description: 'Sold anyway', categoryId: category.body.id, variants: [{ sku: 'DOWN-1', price: { amount: 1500, currency: 'USD' }, stock: 3 }] },
      { token: seller.body.accessToken },
    );
    expect(product.status).toBe(201);

    // Anonymous reads go through the read cache; the database answers.
    const shown = await t.get(`/api/v1/products/${product.body.id}`);
    expect(shown.status).toBe(200);
    expect(shown.body.name).toBe('Down mug');
    expect((await t.get('/api/v1/products')).body.items.map((p: { id: string }) => p.id)).toContain(product.body.id);

    // The login brake and the auth rate limit are off, not failing: a wrong password is a 401, the right one works.
    const buyer = await t.post('/api/v1/auth/signup', { email: 'down-buyer@example.com', password: 'down-buyer-42', name: 'Buyer' });
    expect(buyer.status).toBe(201);
    expect((await t.post('/api/v1/auth/login', { email: 'down-buyer@example.com', password: 'wrong-password' })).status).toBe(401);
    const login = await t.post('/api/v1/auth/login', { email: 'down-buyer@example.com', password: 'down-buyer-42' });
    expect(login.status).toBe(200);

    // The cart prices through the variant cache; the database answers.
    const added = await t.post('/api/v1/cart/items', { productId: product.body.id, quantity: 2 }, { token: login.body.accessToken });
    expect(added.status).toBe(201);
    expect(added.body.items[0]).toMatchObject({ quantity: 2, unitPrice: { amount: 1500, currency: 'USD' } });
    const order = await t.post(
      '/api/v1/orders',
      { shippingAddress: { name: 'B', line1: '1 St', city: 'C', postalCode: '1', country: 'US' }, payment: { method: 'cod' } },
      { token: login.body.accessToken },
    );
    expect(order.status).toBe(201);
    // Stock checks cannot read the epochs in Redis, so they ask the database: the 1 unit left, exactly.
    const tooMany = await t.post('/api/v1/cart/items', { productId: product.body.id, quantity: 2 }, { token: login.body.accessToken });
    expect(tooMany.status).toBe(409);
    expect(tooMany.body).toMatchObject({ available: 1, requested: 2 });

    // The stock the order reserved is announced; the catalog's cache bump for it cannot reach Redis,
    // which is no reason to dead-letter the event.
    await t.app.relay.runOnce();
    const letters = await t.get('/api/v1/admin/dead-letters?status=all&limit=100', { token: admin });
    expect(letters.status).toBe(200);
    expect(letters.body.items).toEqual([]);
  });
});
