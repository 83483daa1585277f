import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../src/kernel/ids.ts';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * Every route of the OpenAPI document, fed what a hostile or careless client sends: wrong types,
 * extreme numbers, long and odd strings, nesting, prototype keys, ids that are not ids, as each kind of
 * caller. Whatever the route, the answer is never a 5xx, and every error is problem+json. New routes
 * are swept as soon as they are in the document.
 */

type JsonSchema = {
  type?: string;
  properties?: Record<string, JsonSchema>;
  items?: JsonSchema;
  anyOf?: JsonSchema[];
  oneOf?: JsonSchema[];
  enum?: unknown[];
  const?: unknown;
  format?: string;
  minLength?: number;
  minimum?: number;
};

const ODD_VALUES: unknown[] = [
  null, -1, 2 ** 31, 2 ** 53 + 1, 1e308, 1.5, '', 'x'.repeat(20_000), '💩'.repeat(50), 'a\u0000b', "' or 1=1 --", [], { a: { b: {} } }, true, '2026-13-45T99:99:99Z',
  // Numeric strings Ajv coerces to ±Infinity.
  '1e309', '-1e309',
  // Lone UTF-16 surrogates: valid JSON escapes, but no character PostgreSQL can store.
  '\ud800', 'x\udc00y',
];
const ODD_IDS = ['x', 'x'.repeat(199), '%27%20or%201%3D1', '..%2F..%2Fetc', '-1', '1e309', '%F0%9F%92%A9', '00000000-0000-0000-0000-00000000000g'];

let t: TestApp;
let tokens: Record<'admin' | 'seller' | 'customer', string>;
let realIds: string[];

beforeAll(async () => {
  t = await startTestApp();
  const sign = (roles: string[]) => t.app.ctx.tokens.signAccess({ userId: newId(), roles, sessionId: 's' });
  // A seller who writes products must exist in identity (suspension is checked there).
  const seller = await t.post('/api/v1/auth/signup', { email: 'sweep-seller@example.com', password: 'sweep-seller-42', name: 'Sweep Seller', role: 'seller' });
  expect(seller.status).toBe(201);
  tokens = { admin: await sign(['admin']), seller: seller.body.accessToken, customer: await sign(['customer']) };
  const category = await t.post('/api/v1/categories', { name: 'Sweep' }, { token: tokens.admin });
  const product = await t.post(
    '/api/v1/products',
    { name: 'Sweep mug', description: 'A mug', categoryId: category.body.id, variants: [{ sku: 'SWEEP-1', price: { amount: 1000, currency: 'USD' }, stock: 5 }] },
    { token: tokens.seller },
  );
  expect(product.status).toBe(201);
  realIds = [product.body.id, product.body.variants[0].id, '00000000-0000-0000-0000-000000000000'];
});
afterAll(() => t.close());

function sample(schema: JsonSchema | undefined, depth = 0): unknown {
  if (!schema || depth > 4) return null;
  const choices = schema.anyOf ?? schema.oneOf;
  if (choices) return sample(choices[0], depth + 1);
  if (schema.enum) return schema.enum[0];
  if (schema.const !== undefined) return schema.const;
  switch (schema.type) {
    case 'object':
      return Object.fromEntries(Object.entries(schema.properties ?? {}).map(([key, value]) => [key, sample(value, depth + 1)]));
    case 'array':
      return [sample(schema.items, depth + 1)];
    case 'string':
      if (schema.format === 'uuid') return realIds[0];
      if (schema.format === 'email') return `sweep-${newId().slice(-8)}@example.com`;
      if (schema.format === 'date-time') return new Date().toISOString();
      return 'x'.repeat(Math.max(schema.minLength ?? 1, 1));
    case 'integer':
    case 'number':
      return schema.minimum ?? 1;
    case 'boolean':
      return true;
    default:
      return null;
  }
}

/** The well-formed body, then each property replaced by each odd value, then bodies of the wrong shape. */
function bodiesFor(schema: JsonSchema | undefined): unknown[] {
  if (!schema) return [undefined];
  const base = sample(schema);
  const bodies: unknown[] = [base];
  if (base && typeof base === 'object' && !Array.isArray(base)) {
    for (const key of Object.keys(base)) for (const odd of ODD_VALUES) bodies.push({ ...base, [key]: odd });
    bodies.push(JSON.parse(`{"__proto__": {"polluted": true}, "constructor": {"prototype": {"polluted": true}}}`));
  }
  bodies.push([], 'text', 12, null);
  return bodies;
}

describe('hostile input, every route', () => {
  it('never answers 5xx, and answers every error as problem+json', async () => {
    const doc = (await t.get('/docs/json')).body as { paths: Record<string, Record<string, { requestBody?: any; parameters?: { in: string; name: string }[] }>> };
    const failures: string[] = [];
    let requests = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (!path.startsWith('/api/v1')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const urls = path.includes('{') ? [...realIds, ...ODD_IDS].map((id) => path.replace(/\{\w+\}/g, id)) : [path];
        const queryNames = (operation.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name);
        const queries = [''];
        if (queryNames.length > 0) {
          queries.push(`?${queryNames.map((q) => `${q}=${'x'.repeat(3000)}`).join('&')}`, `?${queryNames.map((q) => `${q}=-1`).join('&')}`, `?${queryNames.map((q) => `${q}=1e309`).join('&')}`, `?${queryNames.map((q) => `${q}[a]=b`).join('&')}`,
            // A well-formed cursor (base64url of ["x"]) carrying no id or sequence number.
            `?${queryNames.map((q) => `${q}=WyJ4Il0`).join('&')}`);
        }
        const bodies = bodiesFor(operation.requestBody?.content?.['application/json']?.schema);
        for (const who of ['admin', 'seller', 'customer', null] as const) {
          for (const url of urls) {
            for (const query of queries) {
              // Every body once, on the route's first URL; the other URLs and queries with the well-formed one.
              for (const body of url === urls[0] && query === '' ? bodies : [bodies[0]]) {
                requests++;
                const res = await t.request(method.toUpperCase(), url + query, {
                  ...(who ? { token: tokens[who] } : {}),
                  ...(body !== undefined ? { raw: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
                });
                const type = String(res.headers['content-type'] ?? '');
                if (res.status >= 500 || (res.status >= 400 && !type.includes('application/problem+json'))) {
                  failures.push(`${res.status} ${method.toUpperCase()} ${(url + query).slice(0, 80)} as ${who ?? 'anonymous'} with ${JSON.stringify(body)?.slice(0, 80)}`);
                }
              }
            }
          }
        }
      }
    }
    // The document covers the platform's routes (dozens), and each was tried many ways.
    expect(Object.keys(doc.paths).length).toBeGreaterThan(40);
    expect(requests).toBeGreaterThan(5000);
    expect(failures).toEqual([]);
  }, 300_000);
});
