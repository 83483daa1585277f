import { sql, type RawBuilder } from 'kysely';
import type { Db } from '../../kernel/db/database.ts';
import type { Money } from './contract.ts';
import type { ImageRecord, ProductRecord, ProductStatus, VariantRecord } from './service.ts';

/** Catalog's SQL. Every statement names only the `catalog` schema. */

const CHUNK = 1000;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

const uuids = (ids: string[]) => sql`${ids}::uuid[]`;

// ---------------------------------------------------------------- categories

export interface CategoryRow {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  path: string[];
}

const toCategory = (r: any): CategoryRow => ({ id: r.id, name: r.name, slug: r.slug, parentId: r.parent_id, path: parsePath(r.path) });

// node-postgres parses uuid[] into an array; PGlite may too, but a '{a,b}' literal is handled either way.
function parsePath(value: unknown): string[] {
  if (Array.isArray(value)) return value as string[];
  if (typeof value === 'string') return value.replace(/^\{|\}$/g, '').split(',').filter(Boolean);
  return [];
}

export async function listCategories(db: Db): Promise<CategoryRow[]> {
  const { rows } = await sql`select id, name, slug, parent_id, path from catalog.categories`.execute(db);
  return rows.map(toCategory);
}

export async function findCategory(db: Db, id: string, lock = false): Promise<CategoryRow | undefined> {
  const { rows } = await sql`
    select id, name, slug, parent_id, path from catalog.categories where id = ${id} ${lock ? sql`for update` : sql``}`.execute(db);
  return rows[0] ? toCategory(rows[0]) : undefined;
}

export async function categoryPaths(db: Db, ids: string[]): Promise<Map<string, string[]>> {
  const result = new Map<string, string[]>();
  if (ids.length === 0) return result;
  const { rows } = await sql<any>`select id, path from catalog.categories where id = any(${uuids([...new Set(ids)])})`.execute(db);
  for (const r of rows) result.set(r.id, parsePath(r.path));
  return result;
}

/** Slugs equal to `base` or `base-<n>`: the candidates a new slug must avoid. */
export async function slugsLike(db: Db, base: string, exceptId?: string): Promise<Set<string>> {
  const pattern = `${base.replace(/[\\%_]/g, (c) => `\\${c}`)}-%`;
  const { rows } = await sql<any>`
    select slug from catalog.categories
    where (slug = ${base} or slug like ${pattern})
      ${exceptId ? sql`and id <> ${exceptId}` : sql``}`.execute(db);
  return new Set(rows.map((r) => r.slug));
}

export async function insertCategory(db: Db, c: CategoryRow): Promise<void> {
  await sql`
    insert into catalog.categories (id, name, slug, parent_id, path)
    values (${c.id}, ${c.name}, ${c.slug}, ${c.parentId}, ${uuids(c.path)})`.execute(db);
}

export async function updateCategory(db: Db, id: string, fields: { name: string; slug: string; parentId: string | null }): Promise<void> {
  await sql`
    update catalog.categories set name = ${fields.name}, slug = ${fields.slug}, parent_id = ${fields.parentId}, updated_at = now()
    where id = ${id}`.execute(db);
}

/** Re-roots the subtree of `id` under `newParentPath`; returns every category whose path changed. */
export async function moveSubtree(db: Db, id: string, newParentPath: string[]): Promise<CategoryRow[]> {
  const { rows } = await sql`
    update catalog.categories
    set path = ${uuids(newParentPath)} || path[array_position(path, ${id}::uuid):], updated_at = now()
    where path @> array[${id}::uuid]
    returning id, name, slug, parent_id, path`.execute(db);
  return rows.map(toCategory);
}

export async function subtreeIds(db: Db, id: string): Promise<string[]> {
  const { rows } = await sql<any>`select id from catalog.categories where path @> array[${id}::uuid]`.execute(db);
  return rows.map((r) => r.id);
}

export async function categoryUsage(db: Db, id: string): Promise<{ children: number; products: number }> {
  const { rows } = await sql<any>`
    select (select count(*) from catalog.categories where parent_id = ${id})::int as children,
           (select count(*) from catalog.products where category_id = ${id} and deleted_at is null)::int as products`.execute(db);
  return { children: rows[0].children, products: rows[0].products };
}

export async function deleteCategory(db: Db, id: string): Promise<void> {
  await sql`delete from catalog.categories where id = ${id}`.execute(db);
}

// ---------------------------------------------------------------- sellers

export async function setSellerActive(db: Db, sellerId: string, active: boolean): Promise<string[]> {
  await sql`
    insert into catalog.sellers (seller_id, active) values (${sellerId}, ${active})
    on conflict (seller_id) do update set active = excluded.active, updated_at = now()`.execute(db);
  const { rows } = await sql<any>`
    update catalog.products set seller_active = ${active}
    where seller_id = ${sellerId} and seller_active <> ${active} and deleted_at is null
    returning id`.execute(db);
  return rows.map((r) => r.id);
}

/** False only when identity has told catalog the seller is suspended. */
export async function sellerActive(db: Db, sellerId: string): Promise<boolean> {
  const { rows } = await sql<any>`select active from catalog.sellers where seller_id = ${sellerId}`.execute(db);
  return rows[0]?.active ?? true;
}

// ---------------------------------------------------------------- products

const toProduct = (r: any): ProductRecord => ({
  id: r.id,
  sellerId: r.seller_id,
  name: r.name,
  description: r.description,
  categoryId: r.category_id,
  brand: r.brand,
  attributes: r.attributes ?? {},
  status: r.status,
  sellerActive: r.seller_active,
  ratingAverage: Number(r.rating_average),
  ratingCount: r.rating_count,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

const toVariant = (r: any): VariantRecord => ({
  id: r.id,
  productId: r.product_id,
  sku: r.sku,
  price: { amount: Number(r.price_amount), currency: r.price_currency },
  options: r.options ?? {},
  weightGrams: r.weight_grams,
});

const toImage = (r: any): ImageRecord => ({ id: r.id, productId: r.product_id, alt: r.alt, mediaKey: r.media_key });

export async function findProduct(db: Db, id: string, lock = false): Promise<ProductRecord | undefined> {
  const { rows } = await sql`
    select * from catalog.products where id = ${id} and deleted_at is null ${lock ? sql`for update` : sql``}`.execute(db);
  return rows[0] ? toProduct(rows[0]) : undefined;
}

export async function productsByIds(db: Db, ids: string[]): Promise<ProductRecord[]> {
  if (ids.length === 0) return [];
  const { rows } = await sql`select * from catalog.products where id = any(${uuids(ids)}) and deleted_at is null order by id desc`.execute(db);
  return rows.map(toProduct);
}

export interface ProductFilter {
  storefrontOnly: boolean;
  status?: ProductStatus;
  sellerId?: string;
  categoryId?: string;
  q?: string;
  /** Keyset: only ids below this one (ids are time-ordered, so "older than"). */
  beforeId?: string;
  limit: number;
}

/** Newest first by id; the id is unique and time-ordered, so pages never repeat or skip a product. */
export async function listProducts(db: Db, f: ProductFilter): Promise<ProductRecord[]> {
  const { rows } = await productPage(f).execute(db);
  return rows.map(toProduct);
}

function productPage(f: ProductFilter) {
  const where: RawBuilder<unknown>[] = [sql`p.deleted_at is null`];
  if (f.storefrontOnly) where.push(sql`p.status = 'active' and p.seller_active`);
  if (f.status) where.push(sql`p.status = ${f.status}`);
  if (f.sellerId) where.push(sql`p.seller_id = ${f.sellerId}`);
  if (f.categoryId) where.push(sql`p.category_id in (select id from catalog.categories where path @> array[${f.categoryId}::uuid])`);
  if (f.q) where.push(sql`p.name ilike ${`%${f.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%`}`);
  if (f.beforeId) where.push(sql`p.id < ${f.beforeId}::uuid`);
  return sql`
    select p.* from catalog.products p
    where ${sql.join(where, sql` and `)}
    order by p.id desc
    limit ${f.limit}`;
}

/** A product with everything its API view needs from catalog, read in the same statement. */
export interface ProductViewRow extends ProductRecord {
  categoryPath: string[];
  variants: VariantRecord[];
  images: ImageRecord[];
}

// Correlated aggregates run only for the rows that survive `limit`, each through its by-product index.
const viewColumns = sql`
  p.*,
  c.path as category_path,
  (select coalesce(json_agg(json_build_object(
            'id', v.id, 'sku', v.sku, 'price_amount', v.price_amount, 'price_currency', v.price_currency,
            'options', v.options, 'weight_grams', v.weight_grams) order by v.position, v.id), '[]'::json)
     from catalog.variants v where v.product_id = p.id and v.removed_at is null) as variants_json,
  (select coalesce(json_agg(json_build_object('id', i.id, 'alt', i.alt, 'media_key', i.media_key) order by i.position, i.id), '[]'::json)
     from catalog.images i where i.product_id = p.id) as images_json`;

const parseJson = (value: unknown): any[] => (typeof value === 'string' ? JSON.parse(value) : (value as any[]) ?? []);

const toProductView = (r: any): ProductViewRow => ({
  ...toProduct(r),
  categoryPath: r.category_path == null ? [r.category_id] : parsePath(r.category_path),
  variants: parseJson(r.variants_json).map((v) => toVariant({ ...v, product_id: r.id })),
  images: parseJson(r.images_json).map((i) => toImage({ ...i, product_id: r.id })),
});

export async function findProductView(db: Db, id: string): Promise<ProductViewRow | undefined> {
  const { rows } = await sql`
    select ${viewColumns}
    from catalog.products p left join catalog.categories c on c.id = p.category_id
    where p.id = ${id} and p.deleted_at is null`.execute(db);
  return rows[0] ? toProductView(rows[0]) : undefined;
}

/** listProducts, with each product's variants, images and category path in the same statement. */
export async function listProductViews(db: Db, f: ProductFilter): Promise<ProductViewRow[]> {
  const { rows } = await sql`
    select ${viewColumns}
    from (${productPage(f)}) p left join catalog.categories c on c.id = p.category_id
    order by p.id desc`.execute(db);
  return rows.map(toProductView);
}

export async function insertProducts(db: Db, products: (ProductRecord & { createdAt: Date })[]): Promise<void> {
  for (const part of chunks(products, 500)) {
    await sql`
      insert into catalog.products (id, seller_id, name, description, category_id, brand, attributes, status, seller_active, created_at, updated_at)
      values ${sql.join(
        part.map(
          (p) => sql`(${p.id}::uuid, ${p.sellerId}, ${p.name}, ${p.description}, ${p.categoryId}::uuid, ${p.brand},
                      ${JSON.stringify(p.attributes)}::jsonb, ${p.status}, ${p.sellerActive}, ${p.createdAt}, ${p.updatedAt})`,
        ),
      )}`.execute(db);
  }
}

export async function updateProduct(
  db: Db,
  id: string,
  fields: Partial<Pick<ProductRecord, 'name' | 'description' | 'categoryId' | 'brand' | 'attributes' | 'status'>>,
): Promise<void> {
  const sets: RawBuilder<unknown>[] = [sql`updated_at = now()`];
  if (fields.name !== undefined) sets.push(sql`name = ${fields.name}`);
  if (fields.description !== undefined) sets.push(sql`description = ${fields.description}`);
  if (fields.categoryId !== undefined) sets.push(sql`category_id = ${fields.categoryId}`);
  if (fields.brand !== undefined) sets.push(sql`brand = ${fields.brand}`);
  if (fields.attributes !== undefined) sets.push(sql`attributes = ${JSON.stringify(fields.attributes)}::jsonb`);
  if (fields.status !== undefined) sets.push(sql`status = ${fields.status}`);
  await sql`update catalog.products set ${sql.join(sets, sql`, `)} where id = ${id}`.execute(db);
}

export async function touchProduct(db: Db, id: string): Promise<void> {
  await sql`update catalog.products set updated_at = now() where id = ${id}`.execute(db);
}

export async function markProductDeleted(db: Db, id: string): Promise<void> {
  await sql`update catalog.products set deleted_at = now(), updated_at = now() where id = ${id}`.execute(db);
  await sql`update catalog.variants set removed_at = now() where product_id = ${id} and removed_at is null`.execute(db);
}

export async function productIdsInCategories(db: Db, categoryIds: string[]): Promise<string[]> {
  if (categoryIds.length === 0) return [];
  const { rows } = await sql<any>`
    select id from catalog.products where category_id = any(${uuids(categoryIds)}) and deleted_at is null`.execute(db);
  return rows.map((r) => r.id);
}

// ---------------------------------------------------------------- variants

export async function variantsOf(db: Db, productIds: string[]): Promise<VariantRecord[]> {
  if (productIds.length === 0) return [];
  const { rows } = await sql`
    select * from catalog.variants
    where product_id = any(${uuids(productIds)}) and removed_at is null
    order by product_id, position, id`.execute(db);
  return rows.map(toVariant);
}

export async function nextVariantPosition(db: Db, productId: string): Promise<number> {
  const { rows } = await sql<any>`select coalesce(max(position), -1) + 1 as next from catalog.variants where product_id = ${productId}`.execute(db);
  return Number(rows[0].next);
}

export async function insertVariants(db: Db, variants: (VariantRecord & { sellerId: string; position: number })[]): Promise<void> {
  for (const part of chunks(variants)) {
    await sql`
      insert into catalog.variants (id, product_id, seller_id, sku, price_amount, price_currency, options, weight_grams, position)
      values ${sql.join(
        part.map(
          (v) => sql`(${v.id}::uuid, ${v.productId}::uuid, ${v.sellerId}, ${v.sku}, ${v.price.amount}::bigint, ${v.price.currency},
                      ${JSON.stringify(v.options)}::jsonb, ${v.weightGrams}::int, ${v.position}::int)`,
        ),
      )}`.execute(db);
  }
}

export async function updateVariant(
  db: Db,
  id: string,
  fields: { sku?: string; price?: Money; options?: Record<string, string>; weightGrams?: number | null },
): Promise<void> {
  const sets: RawBuilder<unknown>[] = [];
  if (fields.sku !== undefined) sets.push(sql`sku = ${fields.sku}`);
  if (fields.price !== undefined) sets.push(sql`price_amount = ${fields.price.amount}, price_currency = ${fields.price.currency}`);
  if (fields.options !== undefined) sets.push(sql`options = ${JSON.stringify(fields.options)}::jsonb`);
  if (fields.weightGrams !== undefined) sets.push(sql`weight_grams = ${fields.weightGrams}`);
  if (sets.length === 0) return;
  await sql`update catalog.variants set ${sql.join(sets, sql`, `)} where id = ${id}`.execute(db);
}

export async function removeVariants(db: Db, ids: string[]): Promise<void> {
  if (ids.length === 0) return;
  await sql`update catalog.variants set removed_at = now() where id = any(${uuids(ids)})`.execute(db);
}

/** SKUs among `skus` that another live variant of this seller already uses. */
export async function takenSkus(db: Db, sellerId: string, skus: string[], exceptProductId?: string): Promise<string[]> {
  if (skus.length === 0) return [];
  const { rows } = await sql<any>`
    select sku from catalog.variants
    where seller_id = ${sellerId} and sku = any(${sql`${skus}::text[]`}) and removed_at is null
      ${exceptProductId ? sql`and product_id <> ${exceptProductId}` : sql``}`.execute(db);
  return rows.map((r) => r.sku);
}

export interface PurchasableRow extends VariantRecord {
  sellerId: string;
  productName: string;
  status: ProductStatus;
  sellerActive: boolean;
}

const toPurchasable = (r: any): PurchasableRow => ({
  ...toVariant(r),
  sellerId: r.seller_id,
  productName: r.product_name,
  status: r.status,
  sellerActive: r.seller_active,
});

export async function purchasableVariants(db: Db, variantIds: string[]): Promise<PurchasableRow[]> {
  if (variantIds.length === 0) return [];
  // Joined to `unnest` rather than `v.id = any(...)`: the read then keeps its generic plan, where `any`
  // of one id (every checkout of one item) was planned afresh on every run, planning costing more than the read.
  const { rows } = await sql`
    select v.*, p.name as product_name, p.status, p.seller_active
    from unnest(${uuids([...new Set(variantIds)])}) as wanted (id)
    join catalog.variants v on v.id = wanted.id join catalog.products p on p.id = v.product_id
    where v.removed_at is null and p.deleted_at is null`.execute(db);
  return rows.map(toPurchasable);
}

export async function defaultVariants(db: Db, productIds: string[]): Promise<PurchasableRow[]> {
  if (productIds.length === 0) return [];
  const { rows } = await sql`
    select distinct on (v.product_id) v.*, p.name as product_name, p.status, p.seller_active
    from catalog.variants v join catalog.products p on p.id = v.product_id
    where v.product_id = any(${uuids(productIds)}) and v.removed_at is null and p.deleted_at is null
    order by v.product_id, v.position, v.id`.execute(db);
  return rows.map(toPurchasable);
}

// ---------------------------------------------------------------- images

export async function imagesOf(db: Db, productIds: string[]): Promise<ImageRecord[]> {
  if (productIds.length === 0) return [];
  const { rows } = await sql`
    select * from catalog.images where product_id = any(${uuids(productIds)}) order by product_id, position, id`.execute(db);
  return rows.map(toImage);
}

export async function countImages(db: Db, productId: string): Promise<number> {
  const { rows } = await sql<any>`select count(*)::int as n from catalog.images where product_id = ${productId}`.execute(db);
  return rows[0].n;
}

export async function insertImages(db: Db, images: (ImageRecord & { position: number })[]): Promise<void> {
  for (const part of chunks(images)) {
    await sql`
      insert into catalog.images (id, product_id, position, alt, media_key)
      values ${sql.join(part.map((i) => sql`(${i.id}::uuid, ${i.productId}::uuid, ${i.position}::int, ${i.alt}, ${i.mediaKey})`))}`.execute(db);
  }
}

export async function nextImagePosition(db: Db, productId: string): Promise<number> {
  const { rows } = await sql<any>`select coalesce(max(position), -1) + 1 as next from catalog.images where product_id = ${productId}`.execute(db);
  return Number(rows[0].next);
}

export async function deleteImage(db: Db, productId: string, imageId: string): Promise<ImageRecord | undefined> {
  const { rows } = await sql`delete from catalog.images where id = ${imageId} and product_id = ${productId} returning *`.execute(db);
  return rows[0] ? toImage(rows[0]) : undefined;
}
