import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HttpApp } from '../module.ts';
import { installErrorHandling } from './errors.ts';
import { registerWebApps } from './web.ts';

/** The web apps' file serving on its own: a Fastify app, one API route, and a fake build on disk. */

let parent: string;
let dist: string;
let app: FastifyInstance;

const SHOP_HTML = '<!doctype html><title>shop</title><script type="module" src="/assets/shop-abc123.js"></script>';
const ADMIN_HTML = '<!doctype html><title>admin</title>';
const SHOP_JS = `console.log(${JSON.stringify('x'.repeat(2000))});`;

beforeAll(async () => {
  // A file next to the build, which no URL may reach.
  parent = mkdtempSync(join(tmpdir(), 'bazaar-web-'));
  writeFileSync(join(parent, 'secret.txt'), 'TOP-SECRET-CONTENT');
  dist = join(parent, 'dist');
  mkdirSync(join(dist, 'assets'), { recursive: true });
  mkdirSync(join(dist, 'admin'));
  writeFileSync(join(dist, 'index.html'), SHOP_HTML);
  writeFileSync(join(dist, 'admin', 'index.html'), ADMIN_HTML);
  writeFileSync(join(dist, 'assets', 'shop-abc123.js'), SHOP_JS);
  writeFileSync(join(dist, 'assets', 'shop-abc123.js.gz'), gzipSync(SHOP_JS));
  writeFileSync(join(dist, 'favicon.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>');

  app = Fastify();
  installErrorHandling(app);
  app.get('/api/v1/ping', async () => ({ pong: true }));
  app.get('/healthz', async () => ({ status: 'ok' }));
  await app.register(async (web) => registerWebApps(web as unknown as HttpApp, { root: dist }));
  await app.ready();
});

afterAll(async () => {
  await app.close();
  rmSync(parent, { recursive: true, force: true });
});

describe('serving the web apps', () => {
  it('serves the storefront at / and its client routes, revalidated on every visit', async () => {
    for (const url of ['/', '/search?q=kettle', '/p/123', '/account/orders']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toContain('text/html');
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.body).toBe(SHOP_HTML);
    }
  });

  it('serves the admin portal at /admin and under it', async () => {
    for (const url of ['/admin', '/admin/', '/admin/products/42']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.body).toBe(ADMIN_HTML);
    }
  });

  it('caches hashed assets for a year and sends the gzipped copy to clients that accept it', async () => {
    const plain = await app.inject({ url: '/assets/shop-abc123.js' });
    expect(plain.statusCode).toBe(200);
    expect(plain.headers['cache-control']).toBe('public, max-age=31536000, immutable');
    expect(plain.headers['content-type']).toContain('text/javascript');
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.body).toBe(SHOP_JS);

    const gzipped = await app.inject({ url: '/assets/shop-abc123.js', headers: { 'accept-encoding': 'gzip, br' } });
    expect(gzipped.headers['content-encoding']).toBe('gzip');
    expect(gzipped.headers.vary).toContain('accept-encoding');
    expect(Number(gzipped.headers['content-length'])).toBeLessThan(SHOP_JS.length);
  });

  it('answers a repeat visit with 304 when the file has not changed', async () => {
    const first = await app.inject({ url: '/' });
    const again = await app.inject({ url: '/', headers: { 'if-none-match': String(first.headers.etag) } });
    expect(again.statusCode).toBe(304);
    expect(again.body).toBe('');
  });

  it('leaves API paths to the API: a missing one is a problem+json 404, not a web page', async () => {
    expect((await app.inject({ url: '/api/v1/ping' })).json()).toEqual({ pong: true });
    expect((await app.inject({ url: '/healthz' })).json()).toEqual({ status: 'ok' });
    for (const url of ['/api/v1/nope', '/api', '/media/products/x.webp', '/metrics/extra', '/docs/nothing-here']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type'], url).toContain('application/problem+json');
    }
  });

  it('answers a missing file with 404 instead of the app, so a broken asset link is visible', async () => {
    const res = await app.inject({ url: '/assets/gone-999.js' });
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('never serves a file outside the build', async () => {
    for (const url of ['/../secret.txt', '/%2e%2e/secret.txt', '/assets/..%2f..%2fsecret.txt', '/%00index.html']) {
      const res = await app.inject({ url });
      expect(res.statusCode, url).toBe(404);
      expect(res.body, url).not.toContain('TOP-SECRET-CONTENT');
    }
  });

  it('says how to build the apps when there is no build yet', async () => {
    const bare = Fastify();
    installErrorHandling(bare);
    await bare.register(async (web) => registerWebApps(web as unknown as HttpApp, { root: join(dist, 'missing') }));
    const res = await bare.inject({ url: '/' });
    expect(res.statusCode).toBe(503);
    expect(res.body).toContain('npm run build:web');
    await bare.close();
  });
});
