import { connect, type AddressInfo } from 'node:net';
import { Type } from '@sinclair/typebox';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BazaarModule } from '../module.ts';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';

const echo: BazaarModule = {
  name: 'echo',
  migrations: {},
  routes(app) {
    app.post('/echo', {
      schema: { body: Type.Object({ name: Type.String({ minLength: 1 }), quantity: Type.Integer({ minimum: 1 }) }, { additionalProperties: false }) },
    }, async (request) => request.body);
    app.get('/echo-query', async (request) => request.query);
    app.get('/echo-limit', {
      schema: { querystring: Type.Object({ limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }) }) },
    }, async (request) => request.query);
    app.get('/echo-path/:id', async (request) => request.params);
    app.delete('/echo-path/:id', async (request) => request.params);
    app.get('/database-away', async () => {
      throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
    });
    app.get('/boom', async () => {
      throw new Error('a bug');
    });
  },
};

describe('HTTP conventions every endpoint shares', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [echo] });
  });
  afterAll(() => t.close());

  it('answers /healthz and /readyz, and /readyz names the database it checked', async () => {
    expect((await t.get('/healthz')).status).toBe(200);
    const ready = await t.get('/readyz');
    expect(ready.status).toBe(200);
    expect(ready.body.checks).toContainEqual({ name: 'database', ok: true });
  });

  it('answers an unknown route with a problem+json 404', async () => {
    const res = await t.get('/api/v1/no-such-thing');
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 404, title: 'Not found' });
  });

  it('rejects malformed JSON with 400, not 500', async () => {
    const res = await t.request('POST', '/api/v1/echo', { raw: '{"name": "x",', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(400);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });

  it('refuses a NUL character in a body or path with 400, and makes it a space in query text, instead of failing in the database', async () => {
    // Query strings are free text (searches, filters): the character becomes a space, the request goes on.
    expect((await t.get('/api/v1/echo-query?q=a%00b&tag=x&tag=%00y')).body).toEqual({ q: 'a b', tag: ['x', ' y'] });
    for (const res of [
      await t.post('/api/v1/echo', { name: 'a\u0000b', quantity: 1 }),
      await t.post('/api/v1/echo', { name: 'ok', quantity: 1, ['x\u0000']: 1 }),
      await t.get('/api/v1/echo-path/a%00b'),
    ]) {
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.detail).toMatch(/NUL character/);
    }
    // Half a million arrays deep (a 1 MB body) is a schema violation, not a stack overflow.
    const deep = await t.request('POST', '/api/v1/echo', { raw: '['.repeat(500_000) + ']'.repeat(500_000), headers: { 'content-type': 'application/json' } });
    expect(deep.status).toBe(400);
    // Other control characters are text like any other.
    expect((await t.post('/api/v1/echo', { name: 'tab\there', quantity: 1 })).body).toEqual({ name: 'tab\there', quantity: 1 });
  });

  it('refuses a lone UTF-16 surrogate in a body (valid JSON, but no character PostgreSQL can store) with 400', async () => {
    for (const raw of ['{"name":"\\ud800","quantity":1}', '{"name":"x\\udc00y","quantity":1}', '{"name":"ok","quantity":1,"\\ud83d":1}']) {
      const res = await t.request('POST', '/api/v1/echo', { raw, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect(res.body.detail).toMatch(/lone UTF-16 surrogate/);
    }
    // A surrogate pair is one character (an emoji) like any other.
    expect((await t.post('/api/v1/echo', { name: 'party \ud83c\udf89', quantity: 1 })).body).toEqual({ name: 'party 🎉', quantity: 1 });
  });

  it('answers URLs the router cannot take with problem+json: an over-long path segment, bad percent-encoding', async () => {
    // (Where another route could still match, the router answers 404 instead; a DELETE has none here.)
    const long = await t.app.http.inject({ method: 'DELETE', url: `/api/v1/echo-path/${'x'.repeat(500)}` });
    const longBody = JSON.parse(long.body);
    expect(long.statusCode).toBe(414);
    expect(long.headers['content-type']).toContain('application/problem+json');
    expect(longBody).toMatchObject({ status: 414, title: 'URI too long' });
    const bad = await t.get('/api/v1/echo-path/%E0%A4%A');
    expect(bad.status).toBe(400);
    expect(bad.headers['content-type']).toContain('application/problem+json');
  });

  it("answers what Node's HTTP parser refuses (headers over 16 KB, a request that is not HTTP) with problem+json", async () => {
    // Only a real socket reaches the parser.
    await t.app.http.listen({ port: 0, host: '127.0.0.1' });
    const { port } = t.app.http.server.address() as AddressInfo;
    const raw = (request: string) =>
      new Promise<string>((resolve, reject) => {
        const socket = connect(port, '127.0.0.1', () => socket.write(request));
        let answer = '';
        socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
        socket.on('close', () => resolve(answer));
        socket.on('error', reject);
      });
    const huge = await raw(`GET /api/v1/echo-query?q=${'x'.repeat(20_000)} HTTP/1.1\r\nHost: x\r\n\r\n`);
    expect(huge).toMatch(/^HTTP\/1\.1 431 /);
    expect(huge).toContain('application/problem+json');
    expect(JSON.parse(huge.slice(huge.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 431, title: 'Request headers too large' });
    const garbage = await raw('HELLO THERE\r\n\r\n');
    expect(garbage).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(garbage.slice(garbage.indexOf('\r\n\r\n') + 4))).toMatchObject({ status: 400, title: 'Invalid input' });
  });

  it('lists every schema violation with its path', async () => {
    const res = await t.post('/api/v1/echo', { name: '', quantity: 'many', extra: true });
    expect(res.status).toBe(400);
    const paths = res.body.errors.map((e: { path: string }) => e.path);
    expect(paths).toEqual(expect.arrayContaining(['/name', '/quantity', '/extra']));
  });

  it('refuses numbers that coerce to infinity ("1e309") in a query with 400, and still coerces finite ones there', async () => {
    for (const limit of ['1e309', '-1e309']) {
      const res = await t.get(`/api/v1/echo-limit?limit=${limit}`);
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ path: 'querystring:/limit', message: 'must be a finite number' }]);
    }
    expect((await t.get('/api/v1/echo-limit?limit=1e2')).body).toEqual({ limit: 100 });
    expect((await t.get('/api/v1/echo-limit')).body).toEqual({ limit: 20 });
    // JSON's own 1e309 parses as Infinity.
    for (const quantity of ['1e309', '-1e309']) {
      const res = await t.request('POST', '/api/v1/echo', { raw: `{"name":"x","quantity":${quantity}}`, headers: { 'content-type': 'application/json' } });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: '/quantity' })]);
    }
  });

  it('takes a JSON body as typed: a string, null, boolean or one-element list where a number belongs is a 400, not coerced', async () => {
    for (const quantity of ['3', '1e309', null, true, false, [2], '']) {
      const res = await t.post('/api/v1/echo', { name: 'x', quantity });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([expect.objectContaining({ path: '/quantity' })]);
    }
    for (const name of [5, true, ['x']]) expect((await t.post('/api/v1/echo', { name, quantity: 1 })).status).toBe(400);
    expect((await t.post('/api/v1/echo', { name: 'x', quantity: 3 })).body).toEqual({ name: 'x', quantity: 3 });
  });

  it('rejects a body over 1 MB with 413', async () => {
    const res = await t.post('/api/v1/echo', { name: 'x'.repeat(1_100_000), quantity: 1 });
    expect(res.status).toBe(413);
    expect(res.body.status).toBe(413);
  });

  it('hides a bug behind a 500 problem without leaking the message', async () => {
    const res = await t.get('/api/v1/boom');
    expect(res.status).toBe(500);
    expect(JSON.stringify(res.body)).not.toContain('a bug');
  });

  it('answers 503 with Retry-After, not 500, while the database is restarting', async () => {
    const res = await t.get('/api/v1/database-away');
    expect(res.status).toBe(503);
    expect(res.headers['retry-after']).toBe('1');
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({ status: 503, title: 'Service unavailable' });
  });

  it('sends security headers, and echoes request and correlation ids', async () => {
    const res = await t.post('/api/v1/echo', { name: 'a', quantity: 2 }, { headers: { 'x-correlation-id': 'checkout-42' } });
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ name: 'a', quantity: 2 });
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers['content-security-policy']).toContain("default-src 'self'");
    // Plain-HTTP installs (a laptop, a LAN address) must keep loading their scripts over http.
    expect(res.headers['content-security-policy']).not.toContain('upgrade-insecure-requests');
    expect(res.headers['strict-transport-security']).toBeUndefined();
    expect(res.headers['x-correlation-id']).toBe('checkout-42');
    expect(res.headers['x-request-id']).toBeTruthy();
  });

  it('answers CORS preflight for an allowed origin', async () => {
    const res = await t.request('OPTIONS', '/api/v1/echo', {
      headers: { origin: 'https://shop.example', 'access-control-request-method': 'POST' },
    });
    expect(res.status).toBe(204);
    expect(res.headers['access-control-allow-origin']).toBe('https://shop.example');
  });

  it('counts requests per route in /metrics', async () => {
    await t.post('/api/v1/echo', { name: 'a', quantity: 1 });
    const metrics = await t.get('/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/bazaar_http_requests_total\{method="POST",route="\/api\/v1\/echo",status="200"\} \d+/);
    expect(metrics.body).toContain('bazaar_http_request_duration_seconds_bucket');
  });

  it('publishes an OpenAPI 3.1 document generated from the route schemas, and serves /docs', async () => {
    const doc = await t.get('/openapi.json');
    expect(doc.status).toBe(200);
    expect(doc.body.openapi).toBe('3.1.0');
    expect(doc.body.paths['/api/v1/echo'].post.requestBody).toBeDefined();
    expect((await t.get('/docs/')).status).toBe(200);
  });
});
