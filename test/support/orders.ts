import { sql } from 'kysely';
import { expect } from 'vitest';
import type { BazaarModule } from '../../src/kernel/module.ts';
import { newId } from '../../src/kernel/ids.ts';
import { cartModule } from '../../src/modules/cart/index.ts';
import { catalogModule } from '../../src/modules/catalog/index.ts';
import { inventoryModule } from '../../src/modules/inventory/index.ts';
import { createOrdersModule } from '../../src/modules/orders/index.ts';
import { createPaymentsModule, type PaymentsModule } from '../../src/modules/payments/index.ts';
import { createTestGateway, type TestGateway, type TestGatewayOptions } from '../../src/modules/payments/test-gateway.ts';
import { promotionsModule } from '../../src/modules/promotions/index.ts';
import { shippingModule } from '../../src/modules/shipping/index.ts';
import { startTestApp, type TestApp } from './app.ts';
import { eventually } from './events.ts';

/**
 * Factories for checkout tests: a shop made of the real modules a purchase crosses (catalog,
 * inventory, cart, promotions, shipping, orders, payments) with a test gateway the test can look into,
 * people with tokens, products with stock, and a valid shipping address.
 */

export interface Shop {
  t: TestApp;
  gateway: TestGateway;
  payments: PaymentsModule;
  modules: BazaarModule[];
  admin: Person;
}

export interface Person {
  id: string;
  token: string;
}

export const address = {
  name: 'Ada Lovelace',
  line1: '12 Analytical Row',
  city: 'London',
  postalCode: 'N1 9GU',
  country: 'GB',
};

export function shopModules(gateway: TestGateway) {
  const payments = createPaymentsModule({ provider: gateway });
  const modules: BazaarModule[] = [inventoryModule, catalogModule, cartModule, promotionsModule, shippingModule, createOrdersModule(), payments];
  return { modules, payments };
}

export async function startShop(env: Record<string, string> = {}, options: { gateway?: TestGatewayOptions; background?: boolean } = {}): Promise<Shop> {
  const gateway = createTestGateway({ webhookSecret: 'whsec_test_secret_for_tests', ...options.gateway });
  const { modules, payments } = shopModules(gateway);
  const t = await startTestApp({ PAYMENT_PROVIDER_TIMEOUT_MS: '300', ...env }, { modules, background: options.background });
  const admin = await person(t, ['admin']);
  return { t, gateway, payments, modules, admin };
}

export async function person(t: TestApp, roles: string[] = ['customer']): Promise<Person> {
  const id = newId();
  return { id, token: await t.app.ctx.tokens.signAccess({ userId: id, roles, sessionId: 's' }) };
}

let categoryId: string | undefined;
let categoryApp: TestApp | undefined;

async function category(shop: Shop): Promise<string> {
  if (categoryId && categoryApp === shop.t) return categoryId;
  const res = await shop.t.post('/api/v1/categories', { name: `Things ${newId().slice(-6)}` }, { token: shop.admin.token });
  expect(res.status).toBe(201);
  categoryApp = shop.t;
  categoryId = res.body.id as string;
  return categoryId;
}

export interface ProductFixture {
  productId: string;
  variantId: string;
  sellerId: string;
  price: number;
}

/** A product of `seller` with one variant: price in USD cents, initial stock, optional weight. */
export async function product(shop: Shop, seller: Person, options: { price?: number; stock?: number; weightGrams?: number } = {}): Promise<ProductFixture> {
  const price = options.price ?? 1000;
  const res = await shop.t.post(
    '/api/v1/products',
    {
      name: `Mug ${newId().slice(-6)}`,
      description: 'A mug',
      categoryId: await category(shop),
      variants: [{ sku: `SKU-${newId().slice(-12)}`, price: { amount: price, currency: 'USD' }, stock: options.stock ?? 10, ...(options.weightGrams !== undefined ? { weightGrams: options.weightGrams } : {}) }],
    },
    { token: seller.token },
  );
  expect(res.status).toBe(201);
  return { productId: res.body.id, variantId: res.body.variants[0].id, sellerId: seller.id, price };
}

export const item = (p: ProductFixture, quantity = 1) => ({ productId: p.productId, variantId: p.variantId, quantity });

export function placeOrder(shop: Shop, buyer: Person, body: Record<string, unknown>, headers: Record<string, string> = {}) {
  return shop.t.post('/api/v1/orders', { shippingAddress: address, payment: { method: 'card', token: 'pm_card_visa' }, ...body }, { token: buyer.token, headers });
}

export async function orderOf(shop: Shop, orderId: string, token = shop.admin.token) {
  const res = await shop.t.get(`/api/v1/orders/${orderId}`, { token });
  expect(res.status).toBe(200);
  return res.body;
}

/** Waits until the order reaches `status` (payment and its consequences run asynchronously). */
export async function orderReaches(shop: Shop, orderId: string, status: string) {
  return eventually(async () => {
    const order = await orderOf(shop, orderId);
    return order.status === status ? order : undefined;
  });
}

/** Stock as inventory reports it to its staff (admin view). */
export async function stockOf(shop: Shop, variantId: string) {
  const res = await shop.t.get(`/api/v1/inventory/${variantId}`, { token: shop.admin.token });
  expect(res.status).toBe(200);
  return res.body as { available: number; reserved: number; onHand: number };
}

/** The inventory ledger must explain the stock level: the sum of movements equals what is on hand and reserved. */
export async function ledgerBalances(shop: Shop, variantId: string) {
  const { rows } = await sql<{ on_hand: number; reserved: number }>`
    select coalesce(sum(on_hand_delta), 0)::int as on_hand, coalesce(sum(reserved_delta), 0)::int as reserved
    from inventory.movements where variant_id = ${variantId}`.execute(shop.t.database.db);
  return rows[0]!;
}

export async function grantCredit(shop: Shop, user: Person, amount: number) {
  const res = await shop.t.post('/api/v1/admin/store-credit', { userId: user.id, amount: { amount, currency: 'USD' }, reason: 'goodwill' }, { token: shop.admin.token });
  expect(res.status).toBe(201);
  return res.body;
}
