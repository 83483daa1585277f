import { randomBytes } from 'node:crypto';
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { startTestApp } from '../../../test/support/app.ts';
import type { Cache } from './cache.ts';
import { createMemoryCache } from './memory-cache.ts';
import { createRedisCache } from './redis-cache.ts';

const redisUrl = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';
const namespace = () => `test:cache:${randomBytes(4).toString('hex')}:`;
const expiresSoon = 40;
const long = 60_000;

/** Every implementation must pass the same suite: callers cannot tell which one they got. */
describe.each([
  ['in-process LRU', () => createMemoryCache()],
  ['Redis', () => createRedisCache(redisUrl, namespace())],
])('the %s cache', (_name, create: () => Cache) => {
  const opened: Cache[] = [];
  const open = () => {
    const cache = create();
    opened.push(cache);
    return cache;
  };
  afterEach(async () => {
    for (const cache of opened.splice(0)) {
      await cache.deletePrefix('');
      await cache.close();
    }
  });

  it('returns what was set, and nothing for a key never set', async () => {
    const cache = open();
    await cache.set('product:1', { name: 'Mug', price: { amount: 1299, currency: 'USD' } }, long);
    expect(await cache.get('product:1')).toEqual({ name: 'Mug', price: { amount: 1299, currency: 'USD' } });
    expect(await cache.get('product:2')).toBeUndefined();
  });

  it('round-trips values as JSON: strings, numbers, booleans, null, arrays, and dates as strings', async () => {
    const cache = open();
    const at = new Date('2026-01-02T03:04:05.000Z');
    const values = { text: 'é ✓ "quoted"', zero: 0, negative: -7.5, yes: true, no: false, nothing: null, list: [1, 'two', [3]], at };
    for (const [key, value] of Object.entries(values)) await cache.set(key, value, long);
    for (const [key, value] of Object.entries(values)) {
      expect(await cache.get(key)).toEqual(key === 'at' ? at.toISOString() : value);
    }
  });

  it('hands out copies: changing a returned object does not change the cached one', async () => {
    const cache = open();
    await cache.set('cart:1', { lines: [1] }, long);
    const first = await cache.get<{ lines: number[] }>('cart:1');
    first!.lines.push(2);
    expect(await cache.get('cart:1')).toEqual({ lines: [1] });
  });

  it('forgets an entry once its TTL has passed, and keeps the others', async () => {
    const cache = open();
    await cache.set('short', 'gone soon', expiresSoon);
    await cache.set('kept', 'still here', long);
    await vi.waitFor(async () => expect(await cache.get('short')).toBeUndefined(), { timeout: 5_000, interval: 20 });
    expect(await cache.get('kept')).toBe('still here');
  });

  it('replaces a value and its TTL when set again', async () => {
    const cache = open();
    await cache.set('k', 'old', expiresSoon);
    await cache.set('k', 'new', long);
    await new Promise((resolve) => setTimeout(resolve, expiresSoon * 3));
    expect(await cache.get('k')).toBe('new');
  });

  it('treats setting undefined as removing the key', async () => {
    const cache = open();
    await cache.set('k', 1, long);
    await cache.set('k', undefined, long);
    expect(await cache.get('k')).toBeUndefined();
  });

  it('deletes one key', async () => {
    const cache = open();
    await cache.set('a', 1, long);
    await cache.set('b', 2, long);
    await cache.delete('a');
    await cache.delete('never-set');
    expect(await cache.get('a')).toBeUndefined();
    expect(await cache.get('b')).toBe(2);
  });

  it('deletes a whole family by prefix, and only that family', async () => {
    const cache = open();
    for (let i = 0; i < 1200; i++) await cache.set(`product:${i}`, i, long);
    await cache.set('products-page:1', 'list', long);
    await cache.set('category:1', 'c', long);
    await cache.deletePrefix('product:');
    expect(await cache.get('product:0')).toBeUndefined();
    expect(await cache.get('product:1199')).toBeUndefined();
    for (let i = 0; i < 1200; i += 97) expect(await cache.get(`product:${i}`)).toBeUndefined();
    expect(await cache.get('products-page:1')).toBe('list');
    expect(await cache.get('category:1')).toBe('c');
  });

  it('takes glob characters in a prefix literally', async () => {
    const cache = open();
    await cache.set('search:[a]*', 'literal', long);
    await cache.set('search:a-anything', 'other', long);
    await cache.deletePrefix('search:[a]*');
    expect(await cache.get('search:[a]*')).toBeUndefined();
    expect(await cache.get('search:a-anything')).toBe('other');
  });

  it('counts 100 concurrent increments exactly, each caller seeing a distinct value', async () => {
    const cache = open();
    const seen = await Promise.all(Array.from({ length: 100 }, () => cache.increment('hits', 1, long)));
    expect([...seen].sort((a, b) => a - b)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(await cache.get('hits')).toBe(100);
    expect(await cache.increment('hits', 5, long)).toBe(105);
  });

  it('starts a counter over once its window has passed, however often it was incremented', async () => {
    const cache = open();
    expect(await cache.increment('window', 1, 150)).toBe(1);
    // Incrementing keeps the original expiry: a sliding window would never start over here.
    await vi.waitFor(
      async () => {
        expect(await cache.increment('window', 1, 150)).toBe(1);
      },
      { timeout: 5_000, interval: 20 },
    );
  });

  it('answers ping', async () => {
    await expect(open().ping()).resolves.toBeUndefined();
  });
});

describe('Redis namespaces', () => {
  const a = createRedisCache(redisUrl, namespace());
  const b = createRedisCache(redisUrl, namespace());
  afterAll(async () => {
    for (const cache of [a, b]) {
      await cache.deletePrefix('');
      await cache.close();
    }
  });

  it('keep two caches on the same Redis apart', async () => {
    await a.set('session:1', 'from a', long);
    await b.set('session:1', 'from b', long);
    expect(await a.increment('count', 1, long)).toBe(1);
    expect(await b.increment('count', 1, long)).toBe(1);
    expect(await a.get('session:1')).toBe('from a');
    await a.deletePrefix('');
    expect(await a.get('session:1')).toBeUndefined();
    expect(await b.get('session:1')).toBe('from b');
  });
});

describe('readiness with Redis', () => {
  it('lists redis among the checks of /readyz when REDIS_URL is set', async () => {
    const t = await startTestApp({ REDIS_URL: redisUrl }, { modules: [] });
    try {
      const ready = await t.get('/readyz');
      expect(ready.status).toBe(200);
      expect(ready.body.checks).toContainEqual({ name: 'redis', ok: true });
      expect(ready.body.checks).toContainEqual({ name: 'database', ok: true });
    } finally {
      await t.close();
    }
  });

  it('answers 503 naming redis when Redis cannot be reached', async () => {
    const t = await startTestApp({ REDIS_URL: 'redis://127.0.0.1:1' }, { modules: [] });
    try {
      const ready = await t.get('/readyz');
      expect(ready.status).toBe(503);
      expect(ready.body.checks).toContainEqual(expect.objectContaining({ name: 'redis', ok: false }));
    } finally {
      await t.close();
    }
  });
});
