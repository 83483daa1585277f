import sharp from 'sharp';
import { newId } from '../../src/kernel/ids.ts';
import type { BuildOptions } from '../../src/app.ts';
import type { BazaarModule } from '../../src/kernel/module.ts';
import { catalogModule } from '../../src/modules/catalog/index.ts';
import { inventoryModule } from '../../src/modules/inventory/index.ts';
import { startTestApp, type TestApp } from './app.ts';

/**
 * Factories for catalog and inventory tests: callers holding roles, categories and products made
 * through the HTTP API, multipart bodies, and a per-request SQL statement counter.
 */

export const catalogModules: BazaarModule[] = [inventoryModule, catalogModule];

/** Catalog and inventory on this file's own database; `extra` modules (e.g. a stub port) come first. */
export function startCatalogApp(env: Record<string, string> = {}, extra: BazaarModule[] = [], options: Partial<BuildOptions> = {}): Promise<TestApp> {
  return startTestApp(env, { modules: [...extra, ...catalogModules], ...options });
}

export interface Caller {
  id: string;
  token: string;
}

export async function caller(t: TestApp, roles: string[], id: string = newId()): Promise<Caller> {
  return { id, token: await t.app.ctx.tokens.signAccess({ userId: id, roles, sessionId: newId() }) };
}

export const admin = (t: TestApp) => caller(t, ['admin']);
export const seller = (t: TestApp) => caller(t, ['seller']);
export const customer = (t: TestApp) => caller(t, ['customer']);
export const warehouseStaff = (t: TestApp) => caller(t, ['warehouse_staff']);

export async function category(t: TestApp, boss: Caller, name: string = `Things ${newId().slice(-8)}`, parentId?: string | null) {
  const res = await t.post('/api/v1/categories', { name, ...(parentId !== undefined ? { parentId } : {}) }, { token: boss.token });
  if (res.status !== 201) throw new Error(`creating category failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as { id: string; name: string; slug: string; parentId: string | null; path: string[] };
}

/** A product body with one variant (unique SKU), overridable field by field. */
export function productBody(categoryId: string, overrides: Record<string, unknown> = {}) {
  const suffix = newId().slice(-12);
  return {
    name: `Enamel Mug ${suffix}`,
    description: 'Holds coffee.',
    categoryId,
    brand: 'Kiln & Co',
    attributes: { material: 'enamel', dishwasherSafe: true },
    variants: [{ sku: `MUG-${suffix}`, price: { amount: 1999, currency: 'USD' }, stock: 10, options: { colour: 'white' } }],
    ...overrides,
  };
}

export async function product(t: TestApp, owner: Caller, categoryId: string, overrides: Record<string, unknown> = {}) {
  const res = await t.post('/api/v1/products', productBody(categoryId, overrides), { token: owner.token });
  if (res.status !== 201) throw new Error(`creating product failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Events arrive through the relay, asynchronously: poll with a deadline (shared with the event tests). */
export { eventually } from './events.ts';

export async function png(width = 800, height = 600, colour = '#e11d48'): Promise<Buffer> {
  return sharp({ create: { width, height, channels: 3, background: colour } }).png().toBuffer();
}

/** A multipart/form-data body: fields first, then the file, as a browser's FormData sends them. */
export function multipartBody(file: { data: Buffer; filename: string; contentType: string }, fields: Record<string, string> = {}) {
  const boundary = `----bazaar${newId().replace(/-/g, '')}`;
  const parts: Buffer[] = [];
  for (const [name, value] of Object.entries(fields)) {
    parts.push(Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="${name}"\r\n\r\n${value}\r\n`));
  }
  parts.push(
    Buffer.from(`--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="${file.filename}"\r\nContent-Type: ${file.contentType}\r\n\r\n`),
    file.data,
    Buffer.from(`\r\n--${boundary}--\r\n`),
  );
  return { raw: Buffer.concat(parts), headers: { 'content-type': `multipart/form-data; boundary=${boundary}` } };
}
