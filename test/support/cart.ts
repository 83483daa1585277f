import { newId } from '../../src/kernel/ids.ts';
import type { TestApp } from './app.ts';
import { admin, type Caller } from './catalog.ts';

/**
 * Factories for cart and promotions tests: callers with roles, products with stock through catalog's
 * own API, coupons through promotions' API. Each builds exactly what one test needs.
 */

// Callers with roles are minted the same way for every module's tests.
export { caller, customer, seller, admin, type Caller } from './catalog.ts';

let categoryId: string | undefined;
let categoryApp: TestApp | undefined;

async function someCategory(t: TestApp): Promise<string> {
  if (categoryId && categoryApp === t) return categoryId;
  const boss = await admin(t);
  const res = await t.post('/api/v1/categories', { name: `Things ${newId().slice(-6)}` }, { token: boss.token });
  if (res.status !== 201) throw new Error(`creating a category failed: ${res.status} ${JSON.stringify(res.body)}`);
  categoryId = res.body.id as string;
  categoryApp = t;
  return categoryId;
}

export interface TestProduct {
  id: string;
  sellerId: string;
  variants: { id: string; sku: string; price: number }[];
}

/** An active product of `owner` with one variant per price, each with `stock` units. */
export async function product(
  t: TestApp,
  owner: Caller,
  options: { name?: string; prices?: number[]; stock?: number } = {},
): Promise<TestProduct> {
  const prices = options.prices ?? [1999];
  const suffix = newId().slice(-8);
  const res = await t.post(
    '/api/v1/products',
    {
      name: options.name ?? `Mug ${suffix}`,
      description: 'A test product',
      categoryId: await someCategory(t),
      variants: prices.map((amount, i) => ({
        sku: `SKU-${suffix}-${i}`,
        price: { amount, currency: 'USD' },
        stock: options.stock ?? 10,
        options: { size: `S${i}` },
      })),
    },
    { token: owner.token },
  );
  if (res.status !== 201) throw new Error(`creating a product failed: ${res.status} ${JSON.stringify(res.body)}`);
  const body = res.body;
  if (body.status !== 'active') {
    const activated = await t.patch(`/api/v1/products/${body.id}`, { status: 'active' }, { token: owner.token });
    if (activated.status !== 200) throw new Error(`activating a product failed: ${activated.status} ${JSON.stringify(activated.body)}`);
  }
  return {
    id: body.id,
    sellerId: body.sellerId,
    variants: body.variants.map((v: any) => ({ id: v.id, sku: v.sku, price: typeof v.price === 'number' ? v.price : v.price.amount })),
  };
}

export async function coupon(t: TestApp, owner: Caller, body: Record<string, unknown>): Promise<{ id: string; code: string }> {
  const res = await t.post('/api/v1/coupons', { code: `C${newId().slice(-10).replace(/-/g, '')}`, ...body }, { token: owner.token });
  if (res.status !== 201) throw new Error(`creating a coupon failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Options for a guest's cart call carrying its token. */
export const asGuest = (cartToken: string) => ({ headers: { 'x-cart-token': cartToken } });
