import type { Money, ProductSnapshot } from './contract.ts';

/** Catalog's rules as plain functions: no SQL, no HTTP. */

export type ProductStatus = 'draft' | 'active' | 'archived';

// ---------------------------------------------------------------- categories

/** URL-safe, readable, ASCII: "Men's Shoes & Boots" -> "men-s-shoes-boots". */
export function slugify(name: string): string {
  const slug = name
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
    .slice(0, 80)
    .replace(/-+$/g, '');
  return slug || 'category';
}

/** The base slug if free, else the first of base-2, base-3, ... that is. */
export function freeSlug(base: string, taken: ReadonlySet<string>): string {
  if (!taken.has(base)) return base;
  for (let n = 2; ; n++) {
    const candidate = `${base}-${n}`;
    if (!taken.has(candidate)) return candidate;
  }
}

export interface CategoryNode {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  children: CategoryNode[];
}

/** Nests a flat list; siblings sorted by name so the tree reads the same every time. */
export function buildTree(rows: { id: string; name: string; slug: string; parentId: string | null }[]): CategoryNode[] {
  const nodes = new Map<string, CategoryNode>(rows.map((r) => [r.id, { ...r, children: [] }]));
  const roots: CategoryNode[] = [];
  for (const node of nodes.values()) {
    const parent = node.parentId ? nodes.get(node.parentId) : undefined;
    (parent ? parent.children : roots).push(node);
  }
  const sort = (list: CategoryNode[]) => {
    list.sort((a, b) => a.name.localeCompare(b.name) || a.id.localeCompare(b.id));
    for (const n of list) sort(n.children);
  };
  sort(roots);
  return roots;
}

/** Moving a category under itself or under one of its descendants would make the tree a loop. */
export function moveCreatesCycle(categoryId: string, newParentPath: readonly string[]): boolean {
  return newParentPath.includes(categoryId);
}

// ---------------------------------------------------------------- products

/** A price is a Money object, or a bare integer of minor units meaning US dollars. */
export function toMoney(price: number | Money): Money {
  return typeof price === 'number' ? { amount: price, currency: 'USD' } : { amount: price.amount, currency: price.currency };
}

/** SKUs that appear more than once in one request (case-sensitive, as stored). */
export function repeatedSkus(skus: string[]): string[] {
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const sku of skus) (seen.has(sku) ? repeated : seen).add(sku);
  return [...repeated];
}

/** Shoppers see a product only when it is active and its seller is not suspended. */
export function onStorefront(product: { status: ProductStatus; sellerActive: boolean }): boolean {
  return product.status === 'active' && product.sellerActive;
}

export interface Viewer {
  userId: string;
  /** Holds catalog:write-any-product (an admin). */
  managesAnyProduct: boolean;
  /** Holds catalog:write-own-products (a seller). */
  writesOwnProducts: boolean;
}

export function mayManage(viewer: Viewer | undefined, sellerId: string): boolean {
  if (!viewer) return false;
  return viewer.managesAnyProduct || (viewer.writesOwnProducts && viewer.userId === sellerId);
}

export function maySee(viewer: Viewer | undefined, product: { sellerId: string; status: ProductStatus; sellerActive: boolean }): boolean {
  return onStorefront(product) || mayManage(viewer, product.sellerId);
}

export type ListScope =
  | { kind: 'storefront' }
  | { kind: 'managed'; sellerId?: string; status?: ProductStatus }
  | { kind: 'forbidden' };

/**
 * Which products a list request may return. Without a status filter everyone gets the storefront;
 * filtering by status (draft, archived, or `all`) is for the owner, on its own products, or an admin.
 */
export function listScope(viewer: Viewer | undefined, query: { sellerId?: string; status?: ProductStatus | 'all' }): ListScope {
  if (!query.status) return { kind: 'storefront' };
  const status = query.status === 'all' ? undefined : query.status;
  if (viewer?.managesAnyProduct) return { kind: 'managed', sellerId: query.sellerId, status };
  if (viewer?.writesOwnProducts && query.sellerId === viewer.userId) return { kind: 'managed', sellerId: viewer.userId, status };
  if (query.status === 'active') return { kind: 'storefront' };
  return { kind: 'forbidden' };
}

/** Attributes are flat facts shoppers filter on: strings (at most 1,000 characters), numbers, booleans. */
export function attributeErrors(attributes: Record<string, unknown>): { path: string; message: string }[] {
  const errors: { path: string; message: string }[] = [];
  for (const [key, value] of Object.entries(attributes)) {
    const path = `/attributes/${key.replace(/~/g, '~0').replace(/\//g, '~1')}`;
    if (typeof value === 'string' ? value.length > 1000 : typeof value === 'number' ? !Number.isFinite(value) : typeof value !== 'boolean') {
      errors.push({ path, message: 'must be a string of at most 1000 characters, a number or a boolean' });
    }
  }
  return errors;
}

// ---------------------------------------------------------------- variants

export interface VariantInput {
  sku: string;
  price: Money;
  options: Record<string, string>;
  weightGrams: number | null;
}

export interface VariantChange {
  id: string;
  sku?: string;
  price?: Money;
  options?: Record<string, string>;
  weightGrams?: number | null;
}

export interface ExistingVariant {
  id: string;
  sku: string;
}

export type VariantPlanError =
  | { kind: 'unknown-variant'; id: string }
  | { kind: 'no-variants-left' }
  | { kind: 'duplicate-sku'; skus: string[] };

/**
 * Checks a PATCH's variant edits against the product's current variants: updates and removals must
 * name this product's variants, at least one variant must remain, and SKUs stay unique within it.
 * Returns the SKUs that are new to the product, which the caller checks against the seller's others.
 */
export function planVariantChanges(
  existing: ExistingVariant[],
  change: { add: VariantInput[]; update: VariantChange[]; remove: string[] },
): { ok: true; newSkus: string[] } | { ok: false; error: VariantPlanError } {
  const ids = new Set(existing.map((v) => v.id));
  for (const id of [...change.update.map((u) => u.id), ...change.remove]) {
    if (!ids.has(id)) return { ok: false, error: { kind: 'unknown-variant', id } };
  }
  const removed = new Set(change.remove);
  if (change.update.some((u) => removed.has(u.id))) {
    return { ok: false, error: { kind: 'unknown-variant', id: change.update.find((u) => removed.has(u.id))!.id } };
  }
  const remaining = existing.filter((v) => !removed.has(v.id));
  if (remaining.length + change.add.length === 0) return { ok: false, error: { kind: 'no-variants-left' } };
  const renamed = new Map(change.update.filter((u) => u.sku !== undefined).map((u) => [u.id, u.sku!]));
  const finalSkus = [...remaining.map((v) => renamed.get(v.id) ?? v.sku), ...change.add.map((a) => a.sku)];
  const repeated = repeatedSkus(finalSkus);
  if (repeated.length > 0) return { ok: false, error: { kind: 'duplicate-sku', skus: repeated } };
  const before = new Set(existing.map((v) => v.sku));
  return { ok: true, newSkus: finalSkus.filter((s) => !before.has(s)) };
}

// ---------------------------------------------------------------- images

export const IMAGE_WIDTHS = [200, 600, 1200] as const;
export const MAX_IMAGE_BYTES = 5 * 1024 * 1024;
export const MAX_IMAGES_PER_PRODUCT = 12;

export type ImageFormat = 'jpeg' | 'png' | 'webp';

/** What the bytes are, whatever the client claimed: JPEG, PNG and WebP by their signatures. */
export function sniffImageFormat(bytes: Uint8Array): ImageFormat | undefined {
  const starts = (sig: number[], at = 0) => sig.every((b, i) => bytes[at + i] === b);
  if (starts([0xff, 0xd8, 0xff])) return 'jpeg';
  if (starts([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])) return 'png';
  if (starts([0x52, 0x49, 0x46, 0x46]) && starts([0x57, 0x45, 0x42, 0x50], 8)) return 'webp';
  return undefined;
}

export const mediaUrl = (mediaKey: string, width: number) => `/api/v1/media/${mediaKey.replace('{size}', String(width))}`;

/** Placeholder art for products without photos: initials on a colour, both derived from the name. */
export function placeholderKey(name: string): string {
  const words = name.replace(/[^A-Za-z0-9 ]+/g, ' ').trim().split(/\s+/).filter(Boolean);
  const initials = (words.slice(0, 2).map((w) => w[0]!.toUpperCase()).join('') || 'B').slice(0, 2);
  let hash = 0;
  for (const ch of name) hash = (hash * 31 + ch.charCodeAt(0)) >>> 0;
  const colour = PLACEHOLDER_COLOURS[hash % PLACEHOLDER_COLOURS.length]!;
  return `placeholder/${initials}/${colour}-{size}.webp`;
}

export const PLACEHOLDER_COLOURS = ['2563eb', '7c3aed', 'db2777', 'dc2626', 'ea580c', '16a34a', '0d9488', '0891b2', '4f46e5', '9333ea', '475569', 'b45309'];

// ---------------------------------------------------------------- snapshots

export interface ProductRecord {
  id: string;
  sellerId: string;
  name: string;
  description: string;
  categoryId: string;
  brand: string | null;
  attributes: Record<string, unknown>;
  status: ProductStatus;
  sellerActive: boolean;
  ratingAverage: number;
  ratingCount: number;
  createdAt: Date;
  updatedAt: Date;
}

export interface VariantRecord {
  id: string;
  productId: string;
  sku: string;
  price: Money;
  options: Record<string, string>;
  weightGrams: number | null;
}

export interface ImageRecord {
  id: string;
  productId: string;
  alt: string;
  mediaKey: string;
}

/** The full picture of a product that read models copy (see contract.ts). */
export function toSnapshot(product: ProductRecord, categoryPath: string[], variants: VariantRecord[], images: ImageRecord[]): ProductSnapshot {
  return {
    id: product.id,
    sellerId: product.sellerId,
    name: product.name,
    description: product.description,
    categoryId: product.categoryId,
    categoryPath,
    brand: product.brand,
    attributes: product.attributes,
    status: product.status,
    sellerActive: product.sellerActive,
    variants: variants.map((v) => ({ id: v.id, sku: v.sku, price: v.price, options: v.options })),
    images: images.map((i) => ({ id: i.id, url: mediaUrl(i.mediaKey, 600), alt: i.alt })),
    createdAt: product.createdAt.toISOString(),
    updatedAt: product.updatedAt.toISOString(),
  };
}
