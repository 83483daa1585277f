import type { Db } from '../../kernel/db/database.ts';
import { writeToOutbox } from '../../kernel/events/outbox.ts';
import { badRequest, conflict, forbidden, notFound, Problem } from '../../kernel/http/problem.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import type { WorkContext } from '../../kernel/observability/context.ts';
import { SELLER_DIRECTORY_PORT, type SellerDirectory } from '../identity/contract.ts';
import { STOCK_PORT, type StockPort } from '../inventory/contract.ts';
import { isUniqueViolation } from './categories.ts';
import { CatalogEvents, type Money, type ProductChanged, type ProductDeleted, type ProductSnapshot } from './contract.ts';
import { imageKeys, renderUpload, UnreadableImageError, type MediaStore } from './media.ts';
import {
  MAX_IMAGES_PER_PRODUCT,
  mayManage,
  maySee,
  mediaUrl,
  planVariantChanges,
  repeatedSkus,
  sniffImageFormat,
  toMoney,
  toSnapshot,
  type ImageRecord,
  type ProductRecord,
  type ProductStatus,
  type VariantRecord,
  type Viewer,
} from './service.ts';
import * as store from './store.ts';

/** Who is acting, as products and categories need it: for ownership rules and for the audit log. */
export interface Actor {
  userId: string;
  viewer: Viewer;
  audit: { actorId: string; actorRoles: readonly string[]; ip?: string };
  /** The request's work: the transactions it opens carry its ids. */
  work?: WorkContext;
}

export interface ImageView {
  id: string;
  url: string;
  alt: string;
  urls: { small: string; medium: string; large: string };
}

export interface ProductView {
  id: string;
  sellerId: string;
  name: string;
  description: string;
  categoryId: string;
  categoryPath: string[];
  brand: string | null;
  attributes: Record<string, unknown>;
  status: ProductStatus;
  variants: { id: string; sku: string; price: Money; options: Record<string, string>; weightGrams: number | null; available: number }[];
  images: ImageView[];
  rating: { average: number; count: number };
  createdAt: string;
  updatedAt: string;
}

export interface VariantInput {
  sku: string;
  price: number | Money;
  stock?: number;
  options?: Record<string, string>;
  weightGrams?: number | null;
}

export interface NewProduct {
  sellerId?: string;
  name: string;
  description: string;
  categoryId: string;
  brand?: string | null;
  attributes?: Record<string, unknown>;
  status?: 'draft' | 'active';
  variants: VariantInput[];
}

export interface ProductPatch {
  name?: string;
  description?: string;
  categoryId?: string;
  brand?: string | null;
  attributes?: Record<string, unknown>;
  status?: ProductStatus;
  /** An entry with `id` edits that variant; one without adds a variant (sku and price required). */
  variants?: (Partial<VariantInput> & { id?: string })[];
  removeVariantIds?: string[];
}

const imageView = (i: ImageRecord): ImageView => ({
  id: i.id,
  url: mediaUrl(i.mediaKey, 600),
  alt: i.alt,
  urls: { small: mediaUrl(i.mediaKey, 200), medium: mediaUrl(i.mediaKey, 600), large: mediaUrl(i.mediaKey, 1200) },
});

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (id: string) => UUID.test(id);

export function createProductService(ctx: ModuleContext, media: MediaStore) {
  const stock = () => ctx.ports.get<StockPort>(STOCK_PORT);

  /** Products as the API shows them. A constant number of queries whatever the page size (no N+1). */
  async function views(db: Db, products: ProductRecord[]): Promise<ProductView[]> {
    if (products.length === 0) return [];
    const ids = products.map((p) => p.id);
    const variants = await store.variantsOf(db, ids);
    const images = await store.imagesOf(db, ids);
    const paths = await store.categoryPaths(db, products.map((p) => p.categoryId));
    const available = await stock().getAvailable(variants.map((v) => v.id));
    const variantsOf = groupBy(variants, (v) => v.productId);
    const imagesOf = groupBy(images, (i) => i.productId);
    return products.map((p) =>
      present(
        { ...p, categoryPath: paths.get(p.categoryId) ?? [p.categoryId], variants: variantsOf.get(p.id) ?? [], images: imagesOf.get(p.id) ?? [] },
        available,
      ),
    );
  }

  /**
   * One storefront or management page: one statement for the products with their variants, images and
   * category paths, then one stock lookup for all of them.
   */
  async function page(filter: store.ProductFilter): Promise<ProductView[]> {
    const rows = await store.listProductViews(ctx.db, filter);
    if (rows.length === 0) return [];
    const available = await stock().getAvailableForProducts(rows.map((p) => p.id));
    return rows.map((p) => present(p, available));
  }

  async function announce(tx: Db, type: string, productId: string) {
    const product = await store.findProduct(tx, productId);
    const [snapshot] = await snapshots(tx, [product!]);
    const data: ProductChanged = { product: snapshot! };
    await ctx.publish(tx, { type, aggregateId: productId, data });
  }

  /**
   * A suspended seller may not write. Asked before the transaction opens: the directory is another
   * module's port, and on PGlite a query outside our transaction would wait for it forever.
   */
  async function assertSellerMayWrite(actor: Actor, sellerId: string) {
    if (actor.viewer.managesAnyProduct) return;
    let directory: SellerDirectory | undefined;
    try {
      directory = ctx.ports.get<SellerDirectory>(SELLER_DIRECTORY_PORT);
    } catch {
      directory = undefined; // identity runs elsewhere and no client is wired: fall back to what events told us
    }
    const active = directory ? await directory.isSellerActive(sellerId) : true;
    if (!active || !(await store.sellerActive(ctx.db, sellerId))) {
      throw new Problem({ status: 403, type: 'seller-suspended', title: 'Forbidden', detail: 'This seller account is suspended and cannot change products' });
    }
  }

  /** The product, if the actor may change it: 404 when they may not even see it, 403 when only see. */
  async function writable(actor: Actor, id: string): Promise<ProductRecord> {
    const product = isUuid(id) ? await store.findProduct(ctx.db, id) : undefined;
    if (!product || !maySee(actor.viewer, product)) throw notFound('Product');
    if (!mayManage(actor.viewer, product.sellerId)) throw forbidden('Only the seller of this product or an admin may change it');
    await assertSellerMayWrite(actor, product.sellerId);
    return product;
  }

  async function requireCategory(tx: Db, categoryId: string) {
    if (!isUuid(categoryId) || !(await store.findCategory(tx, categoryId))) {
      throw badRequest('The category does not exist', [{ path: '/categoryId', message: 'is not a category' }]);
    }
  }

  function duplicateSkus(skus: string[]) {
    return conflict('duplicate-sku', `SKU already used by this seller: ${skus.join(', ')}`, { skus });
  }

  async function inTransaction<T>(actor: Actor, work: (tx: Db) => Promise<T>): Promise<T> {
    try {
      return await ctx.transaction(work, actor.work);
    } catch (error) {
      // The partial unique index is the final word when two writes race for one SKU.
      if (isUniqueViolation(error)) throw conflict('duplicate-sku', 'SKU already used by this seller');
      throw error;
    }
  }

  async function viewOf(id: string): Promise<ProductView> {
    const product = await store.findProduct(ctx.db, id);
    if (!product) throw notFound('Product');
    return (await views(ctx.db, [product]))[0]!;
  }

  return {
    views,
    page,
    viewOf,

    async get(viewer: Viewer | undefined, id: string): Promise<ProductView> {
      if (!isUuid(id)) throw notFound('Product');
      // Stock needs only the id, so both round trips run at once (on PGlite they simply queue).
      const [product, available] = await Promise.all([store.findProductView(ctx.db, id), stock().getAvailableForProducts([id])]);
      if (!product || !maySee(viewer, product)) throw notFound('Product');
      return present(product, available);
    },

    async create(actor: Actor, input: NewProduct): Promise<ProductView> {
      const sellerId = input.sellerId ?? actor.userId;
      if (sellerId !== actor.userId && !actor.viewer.managesAnyProduct) throw forbidden('A seller creates products under its own account only');
      await assertSellerMayWrite(actor, sellerId);
      const repeated = repeatedSkus(input.variants.map((v) => v.sku));
      if (repeated.length > 0) throw duplicateSkus(repeated);
      const id = newId();
      await inTransaction(actor, async (tx) => {
        await requireCategory(tx, input.categoryId);
        const taken = await store.takenSkus(tx, sellerId, input.variants.map((v) => v.sku));
        if (taken.length > 0) throw duplicateSkus(taken);
        const now = new Date();
        await store.insertProducts(tx, [
          {
            id,
            sellerId,
            name: input.name,
            description: input.description,
            categoryId: input.categoryId,
            brand: input.brand ?? null,
            attributes: input.attributes ?? {},
            status: input.status ?? 'active',
            sellerActive: await store.sellerActive(tx, sellerId),
            ratingAverage: 0,
            ratingCount: 0,
            createdAt: now,
            updatedAt: now,
          },
        ]);
        const variants = input.variants.map((v, position) => ({ ...variantRecord(id, v), sellerId, position, stock: v.stock ?? 0 }));
        await store.insertVariants(tx, variants);
        await stock().registerVariants(
          tx,
          variants.map((v) => ({ variantId: v.id, productId: id, sellerId, initialStock: v.stock })),
          actor.userId,
        );
        await announce(tx, CatalogEvents.ProductCreated, id);
        await ctx.audit(tx, { ...actor.audit, action: 'catalog.product.create', targetType: 'product', targetId: id, details: { sellerId, name: input.name } });
      });
      return viewOf(id);
    },

    async update(actor: Actor, id: string, patch: ProductPatch): Promise<ProductView> {
      const { sellerId } = await writable(actor, id);
      const add = (patch.variants ?? []).filter((v) => v.id === undefined);
      const edit = (patch.variants ?? []).filter((v) => v.id !== undefined);
      (patch.variants ?? []).forEach((v, i) => {
        if (v.id === undefined && (v.sku === undefined || v.price === undefined)) {
          throw badRequest('A new variant needs a sku and a price', [{ path: `/variants/${i}`, message: 'must have sku and price' }]);
        }
        if (v.id !== undefined && v.stock !== undefined) {
          throw badRequest('Stock of an existing variant changes through POST /inventory/adjustments', [{ path: `/variants/${i}/stock`, message: 'only for new variants' }]);
        }
      });
      await inTransaction(actor, async (tx) => {
        const product = await store.findProduct(tx, id, true);
        if (!product) throw notFound('Product');
        if (patch.categoryId !== undefined) await requireCategory(tx, patch.categoryId);
        const existing = await store.variantsOf(tx, [id]);
        const additions = add.map((v) => variantRecord(id, v as VariantInput));
        const plan = planVariantChanges(existing, {
          add: additions,
          update: edit.map((v) => ({ id: v.id!, sku: v.sku })),
          remove: patch.removeVariantIds ?? [],
        });
        if (!plan.ok) {
          const error = plan.error;
          if (error.kind === 'unknown-variant') throw badRequest('No such variant on this product', [{ path: '/variants', message: `unknown variant ${error.id}` }]);
          if (error.kind === 'no-variants-left') throw conflict('no-variants-left', 'A product keeps at least one variant');
          throw duplicateSkus(error.skus);
        }
        const taken = await store.takenSkus(tx, sellerId, plan.newSkus, id);
        if (taken.length > 0) throw duplicateSkus(taken);

        await store.removeVariants(tx, patch.removeVariantIds ?? []);
        for (const v of edit) {
          await store.updateVariant(tx, v.id!, {
            sku: v.sku,
            price: v.price === undefined ? undefined : toMoney(v.price),
            options: v.options,
            weightGrams: v.weightGrams,
          });
        }
        if (additions.length > 0) {
          let position = await store.nextVariantPosition(tx, id);
          await store.insertVariants(tx, additions.map((v) => ({ ...v, sellerId, position: position++ })));
          await stock().registerVariants(
            tx,
            additions.map((v, i) => ({ variantId: v.id, productId: id, sellerId, initialStock: add[i]!.stock ?? 0 })),
            actor.userId,
          );
        }
        await store.updateProduct(tx, id, {
          name: patch.name,
          description: patch.description,
          categoryId: patch.categoryId,
          brand: patch.brand,
          attributes: patch.attributes,
          status: patch.status,
        });
        await announce(tx, CatalogEvents.ProductUpdated, id);
        const { variants: _v, ...fields } = patch;
        await ctx.audit(tx, {
          ...actor.audit,
          action: 'catalog.product.update',
          targetType: 'product',
          targetId: id,
          details: { ...fields, variantsAdded: additions.map((v) => v.sku), variantsEdited: edit.map((v) => v.id) },
        });
      });
      return viewOf(id);
    },

    async remove(actor: Actor, id: string): Promise<void> {
      const { sellerId } = await writable(actor, id);
      await ctx.transaction(async (tx) => {
        if (!(await store.findProduct(tx, id, true))) throw notFound('Product');
        await store.markProductDeleted(tx, id);
        const data: ProductDeleted = { productId: id, sellerId };
        await ctx.publish(tx, { type: CatalogEvents.ProductDeleted, aggregateId: id, data });
        await ctx.audit(tx, { ...actor.audit, action: 'catalog.product.delete', targetType: 'product', targetId: id, details: { sellerId } });
      }, actor.work);
    },

    async addImage(actor: Actor, id: string, upload: { bytes: Buffer; alt: string }): Promise<ImageView> {
      await writable(actor, id);
      if (!sniffImageFormat(upload.bytes)) {
        throw new Problem({ status: 415, type: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Upload a JPEG, PNG or WebP image' });
      }
      if ((await store.countImages(ctx.db, id)) >= MAX_IMAGES_PER_PRODUCT) throw tooManyImages();
      let renditions: Map<number, Buffer>;
      try {
        renditions = await renderUpload(upload.bytes);
      } catch (error) {
        if (error instanceof UnreadableImageError) throw badRequest('The file is not a readable image', [{ path: '/file', message: 'cannot be decoded' }]);
        throw error;
      }
      const image: ImageRecord = { id: newId(), productId: id, alt: upload.alt, mediaKey: `products/${id}/{imageId}-{size}.webp` };
      image.mediaKey = image.mediaKey.replace('{imageId}', image.id);
      const keys = imageKeys(image.mediaKey);
      await Promise.all([...renditions].map(([width, data]) => media.put(image.mediaKey.replace('{size}', String(width)), data)));
      try {
        await ctx.transaction(async (tx) => {
          if (!(await store.findProduct(tx, id, true))) throw notFound('Product');
          if ((await store.countImages(tx, id)) >= MAX_IMAGES_PER_PRODUCT) throw tooManyImages();
          await store.insertImages(tx, [{ ...image, position: await store.nextImagePosition(tx, id) }]);
          await store.touchProduct(tx, id);
          await announce(tx, CatalogEvents.ProductUpdated, id);
          await ctx.audit(tx, { ...actor.audit, action: 'catalog.product.image.add', targetType: 'product', targetId: id, details: { imageId: image.id } });
        }, actor.work);
      } catch (error) {
        await media.delete(keys);
        throw error;
      }
      return imageView(image);
    },

    async removeImage(actor: Actor, id: string, imageId: string): Promise<void> {
      await writable(actor, id);
      const removed = await ctx.transaction(async (tx) => {
        if (!(await store.findProduct(tx, id, true))) throw notFound('Product');
        const image = isUuid(imageId) ? await store.deleteImage(tx, id, imageId) : undefined;
        if (!image) throw notFound('Image');
        await store.touchProduct(tx, id);
        await announce(tx, CatalogEvents.ProductUpdated, id);
        await ctx.audit(tx, { ...actor.audit, action: 'catalog.product.image.remove', targetType: 'product', targetId: id, details: { imageId } });
        return image;
      }, actor.work);
      // Only generated placeholders are shared between products; uploaded files belong to this image alone.
      if (removed.mediaKey.startsWith('products/')) await media.delete(imageKeys(removed.mediaKey));
    },
  };
}

export type ProductService = ReturnType<typeof createProductService>;

/** Snapshots as catalog events carry them (see contract.ts), a constant number of queries for any count. */
export async function snapshots(db: Db, products: ProductRecord[]): Promise<ProductSnapshot[]> {
  if (products.length === 0) return [];
  const ids = products.map((p) => p.id);
  const variantsOf = groupBy(await store.variantsOf(db, ids), (v) => v.productId);
  const imagesOf = groupBy(await store.imagesOf(db, ids), (i) => i.productId);
  const paths = await store.categoryPaths(db, products.map((p) => p.categoryId));
  return products.map((p) => toSnapshot(p, paths.get(p.categoryId) ?? [p.categoryId], variantsOf.get(p.id) ?? [], imagesOf.get(p.id) ?? []));
}

/**
 * Re-sends the snapshots of these products (their seller's status or their category path changed), so
 * read models catch up. Uses writeToOutbox directly: event handlers run it too, and they get only a tx.
 */
export async function republish(tx: Db, productIds: string[]): Promise<void> {
  for (let i = 0; i < productIds.length; i += 500) {
    const products = await store.productsByIds(tx, productIds.slice(i, i + 500));
    for (const snapshot of await snapshots(tx, products)) {
      const data: ProductChanged = { product: snapshot };
      await writeToOutbox(tx, { type: CatalogEvents.ProductUpdated, aggregateId: snapshot.id, data });
    }
  }
}

function present(p: store.ProductViewRow, available: ReadonlyMap<string, number>): ProductView {
  return {
    id: p.id,
    sellerId: p.sellerId,
    name: p.name,
    description: p.description,
    categoryId: p.categoryId,
    categoryPath: p.categoryPath,
    brand: p.brand,
    attributes: p.attributes,
    status: p.status,
    variants: p.variants.map((v) => ({
      id: v.id,
      sku: v.sku,
      price: v.price,
      options: v.options,
      weightGrams: v.weightGrams,
      available: available.get(v.id) ?? 0,
    })),
    images: p.images.map(imageView),
    rating: { average: p.ratingAverage, count: p.ratingCount },
    createdAt: p.createdAt.toISOString(),
    updatedAt: p.updatedAt.toISOString(),
  };
}

function variantRecord(productId: string, v: VariantInput): VariantRecord {
  return { id: newId(), productId, sku: v.sku, price: toMoney(v.price), options: v.options ?? {}, weightGrams: v.weightGrams ?? null };
}

function tooManyImages() {
  return conflict('too-many-images', `A product has at most ${MAX_IMAGES_PER_PRODUCT} images`);
}

function groupBy<T>(items: T[], key: (item: T) => string): Map<string, T[]> {
  const groups = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    let group = groups.get(k);
    if (!group) groups.set(k, (group = []));
    group.push(item);
  }
  return groups;
}
