import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sql } from 'kysely';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, category, multipartBody, png, product, seller, startCatalogApp, type Caller } from '../../../test/support/catalog.ts';
import { localMediaStore } from './media.ts';

describe('product images', () => {
  let t: TestApp;
  let owner: Caller;
  let productId: string;

  beforeAll(async () => {
    t = await startCatalogApp();
    const boss = await admin(t);
    owner = await seller(t);
    productId = (await product(t, owner, (await category(t, boss)).id, { name: 'Camera Bag' })).id;
  });
  afterAll(() => t.close());

  const upload = (body: ReturnType<typeof multipartBody>, token = owner.token, id = productId) =>
    t.request('POST', `/api/v1/products/${id}/images`, { raw: body.raw, headers: body.headers, token });

  it('takes a PNG, stores WebP renditions, and serves them publicly with a long cache lifetime', async () => {
    const res = await upload(multipartBody({ data: await png(800, 600), filename: 'bag.png', contentType: 'image/png' }, { alt: 'The bag, front' }));
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ alt: 'The bag, front', url: expect.stringMatching(/^\/api\/v1\/media\/products\/.+-600\.webp$/) });

    const shown = await t.get(`/api/v1/products/${productId}`);
    expect(shown.body.images).toEqual([res.body]);

    for (const [size, width] of [['small', 200], ['medium', 600], ['large', 800]] as const) {
      const file = await t.app.http.inject({ method: 'GET', url: res.body.urls[size] });
      expect(file.statusCode).toBe(200);
      expect(file.headers['content-type']).toBe('image/webp');
      expect(file.headers['cache-control']).toBe('public, max-age=31536000, immutable');
      const meta = await sharp(file.rawPayload).metadata();
      expect(meta.format).toBe('webp');
      // Never upscaled: the 1200 px rendition of an 800 px photo stays 800 px wide.
      expect(meta.width).toBe(width);
    }
    const { rows } = await sql<any>`select data from kernel.outbox where aggregate_id = ${productId} and type = 'catalog.product.updated' order by seq desc limit 1`.execute(t.database.db);
    expect(rows[0].data.product.images).toEqual([{ id: res.body.id, url: res.body.url, alt: 'The bag, front' }]);
  });

  it('accepts JPEG and WebP as well, and a photo over the default 1 MB JSON limit', async () => {
    const noise = await sharp(Buffer.from(Array.from({ length: 900 * 800 * 3 }, (_, i) => (i * 7919) % 251)), { raw: { width: 900, height: 800, channels: 3 } })
      .png({ compressionLevel: 0 })
      .toBuffer();
    expect(noise.length).toBeGreaterThan(1_100_000);
    expect((await upload(multipartBody({ data: noise, filename: 'big.png', contentType: 'image/png' }))).status).toBe(201);
    const jpeg = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#0ea5e9' } }).jpeg().toBuffer();
    expect((await upload(multipartBody({ data: jpeg, filename: 'a.jpg', contentType: 'image/jpeg' }))).status).toBe(201);
    const webp = await sharp({ create: { width: 300, height: 300, channels: 3, background: '#22c55e' } }).webp().toBuffer();
    expect((await upload(multipartBody({ data: webp, filename: 'a.webp', contentType: 'image/webp' }))).status).toBe(201);
  });

  it('judges a file by its bytes: a text file called .png is refused (415), a broken PNG is refused (400)', async () => {
    const fake = await upload(multipartBody({ data: Buffer.from('GIF89a? no, just text pretending'), filename: 'evil.png', contentType: 'image/png' }));
    expect(fake.status).toBe(415);
    expect(fake.headers['content-type']).toContain('application/problem+json');
    const gif = await upload(multipartBody({ data: Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;'), filename: 'a.gif', contentType: 'image/gif' }));
    expect(gif.status).toBe(415);
    const broken = Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), Buffer.from('not really a png at all')]);
    expect((await upload(multipartBody({ data: broken, filename: 'broken.png', contentType: 'image/png' }))).status).toBe(400);
  });

  it('refuses a file over 5 MB with 413, and a request that is not multipart with 415', async () => {
    const huge = Buffer.concat([await png(10, 10), Buffer.alloc(5 * 1024 * 1024 + 10, 1)]);
    const res = await upload(multipartBody({ data: huge, filename: 'huge.png', contentType: 'image/png' }));
    expect(res.status).toBe(413);
    expect(res.body.status).toBe(413);
    const json = await t.post(`/api/v1/products/${productId}/images`, { url: 'http://example.com/a.png' }, { token: owner.token });
    expect(json.status).toBe(415);
  });

  it('lets only the product\'s seller (or an admin) add or remove images', async () => {
    const body = multipartBody({ data: await png(50, 50), filename: 'x.png', contentType: 'image/png' });
    expect((await upload(body, (await seller(t)).token)).status).toBe(403);
    expect((await t.request('POST', `/api/v1/products/${productId}/images`, { raw: body.raw, headers: body.headers })).status).toBe(401);
  });

  it('removes an image and its files', async () => {
    const added = await upload(multipartBody({ data: await png(100, 100), filename: 'gone.png', contentType: 'image/png' }));
    expect((await t.delete(`/api/v1/products/${productId}/images/${added.body.id}`, { token: (await seller(t)).token })).status).toBe(403);
    expect((await t.delete(`/api/v1/products/${productId}/images/${added.body.id}`, { token: owner.token })).status).toBe(204);
    expect((await t.get(`/api/v1/products/${productId}`)).body.images.map((i: any) => i.id)).not.toContain(added.body.id);
    expect((await t.get(added.body.url)).status).toBe(404);
    expect((await t.delete(`/api/v1/products/${productId}/images/${added.body.id}`, { token: owner.token })).status).toBe(404);
  });

  it('draws placeholder art on request, and serves nothing outside the media keys it issues', async () => {
    const art = await t.app.http.inject({ method: 'GET', url: '/api/v1/media/placeholder/CB/2563eb-200.webp' });
    expect(art.statusCode).toBe(200);
    expect((await sharp(art.rawPayload).metadata()).width).toBe(200);
    for (const path of ['/api/v1/media/../../etc/passwd', '/api/v1/media/%2e%2e/%2e%2e/etc/passwd', '/api/v1/media/placeholder/CB/2563eb-999.webp', '/api/v1/media/products/x.webp']) {
      expect((await t.get(path)).status, path).toBe(404);
    }
  });
});

describe('local media store', () => {
  it('keeps files under its folder and refuses keys it did not issue', async () => {
    const root = await mkdtemp(join(tmpdir(), 'bazaar-media-'));
    try {
      const store = localMediaStore(root);
      const key = 'products/01900000-0000-7000-8000-000000000001/01900000-0000-7000-8000-000000000002-200.webp';
      await store.put(key, Buffer.from('webp bytes'));
      expect((await store.get(key))?.toString()).toBe('webp bytes');
      await store.delete([key]);
      expect(await store.get(key)).toBeUndefined();
      await expect(store.put('../escape-200.webp', Buffer.from('x'))).rejects.toThrow();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});
