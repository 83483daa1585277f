import { sql } from 'kysely';
import { newId } from '../../src/kernel/ids.ts';
import type { CategorySnapshot, ProductSnapshot } from '../../src/modules/catalog/contract.ts';
import type { StockChanged } from '../../src/modules/inventory/contract.ts';
import type { TestApp } from './app.ts';
import { eventually as waitUntil } from './events.ts';

/**
 * Factories for the search read model's tests: snapshots shaped like catalog's and inventory's events,
 * published through the real outbox so they reach search the way production events do.
 */

let clock = Date.parse('2024-01-01T00:00:00.000Z');
/** Strictly increasing times, so "newest" has a defined answer and later snapshots win. */
export function nextTime(): string {
  clock += 1000;
  return new Date(clock).toISOString();
}

export function categorySnapshot(name: string, parent?: CategorySnapshot): CategorySnapshot {
  const id = newId();
  return {
    id,
    name,
    slug: name.toLowerCase().replace(/[^a-z0-9]+/g, '-'),
    parentId: parent?.id ?? null,
    path: [...(parent?.path ?? []), id],
  };
}

export interface ProductOptions {
  name: string;
  description?: string;
  brand?: string | null;
  category?: CategorySnapshot;
  /** One variant per price, in minor units. */
  prices?: number[];
  sellerId?: string;
  status?: ProductSnapshot['status'];
  sellerActive?: boolean;
}

export function productSnapshot(options: ProductOptions): ProductSnapshot {
  const id = newId();
  const at = nextTime();
  const category = options.category ?? categorySnapshot('Misc');
  return {
    id,
    sellerId: options.sellerId ?? newId(),
    name: options.name,
    description: options.description ?? '',
    categoryId: category.id,
    categoryPath: category.path,
    brand: options.brand ?? null,
    attributes: {},
    status: options.status ?? 'active',
    sellerActive: options.sellerActive ?? true,
    variants: (options.prices ?? [1999]).map((amount, i) => ({
      id: newId(),
      sku: `SKU-${id.slice(-6)}-${i}`,
      price: { amount, currency: 'USD' },
      options: {},
    })),
    images: [{ id: newId(), url: `/media/${id}.jpg`, alt: options.name }],
    createdAt: at,
    updatedAt: at,
  };
}

/** The same product, changed later (the snapshot's updatedAt moves on, as catalog's would). */
export function changed(product: ProductSnapshot, changes: Partial<ProductSnapshot>): ProductSnapshot {
  return { ...product, ...changes, updatedAt: nextTime() };
}

export function stockOf(product: ProductSnapshot, available: number, variantIndex = 0): StockChanged {
  return {
    variantId: product.variants[variantIndex]!.id,
    productId: product.id,
    sellerId: product.sellerId,
    onHand: available,
    reserved: 0,
    available,
  };
}

export interface OutgoingEvent {
  type: string;
  aggregateId: string;
  data: unknown;
}

export const categoryCreated = (category: CategorySnapshot): OutgoingEvent => ({
  type: 'catalog.category.created',
  aggregateId: category.id,
  data: { category },
});
export const productCreated = (product: ProductSnapshot): OutgoingEvent => ({
  type: 'catalog.product.created',
  aggregateId: product.id,
  data: { product },
});
export const productUpdated = (product: ProductSnapshot): OutgoingEvent => ({
  type: 'catalog.product.updated',
  aggregateId: product.id,
  data: { product },
});
export const productDeleted = (product: ProductSnapshot): OutgoingEvent => ({
  type: 'catalog.product.deleted',
  aggregateId: product.id,
  data: { productId: product.id, sellerId: product.sellerId },
});
export const stockChanged = (stock: StockChanged): OutgoingEvent => ({
  type: 'inventory.stock.changed',
  aggregateId: stock.variantId,
  data: stock,
});

/** Writes events to the outbox in one transaction, as catalog or inventory would after a change. */
export async function publish(t: TestApp, ...events: OutgoingEvent[]): Promise<string[]> {
  return t.app.ctx.transaction(async (tx) => {
    const ids: string[] = [];
    for (const event of events) ids.push((await t.app.ctx.publish(tx, event)).id);
    return ids;
  });
}

/** Publishes and waits until search's consumer has applied every one of the events. */
export async function publishAndSettle(t: TestApp, ...events: OutgoingEvent[]): Promise<void> {
  const ids = await publish(t, ...events);
  await eventually(async () => {
    const { rows } = await sql<{ n: number }>`
      select count(*)::int as n from kernel.inbox where consumer = 'search' and event_id = any(${ids}::uuid[])`.execute(t.app.ctx.db);
    return rows[0]!.n === ids.length;
  }, `search to consume ${ids.length} event(s)`);
}

/** Polls until `probe` gives a truthy answer (events cross the relay asynchronously); `what` names it in the failure. */
export async function eventually<T>(probe: () => Promise<T | undefined | null | false>, what: string, timeoutMs = 5000): Promise<T> {
  try {
    return await waitUntil(probe, timeoutMs);
  } catch (error) {
    throw new Error(`Waiting for ${what}: ${(error as Error).message}`);
  }
}

/** GET /api/v1/search with the given query parameters (arrays become repeated parameters). */
export async function search(t: TestApp, params: Record<string, string | number | boolean | string[] | undefined> = {}) {
  const query = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value]) query.append(key, String(v));
  }
  return t.get(`/api/v1/search?${query}`);
}

export const namesOf = (body: { items: { name: string }[] }) => body.items.map((i) => i.name);
