import { LRUCache } from 'lru-cache';
import type { ModuleContext } from '../../kernel/module.ts';
import type { ProductCatalog, PurchasableVariant, VariantReadOptions } from './contract.ts';
import { isUuid } from './products.ts';
import { onStorefront } from './service.ts';
import { READ_CACHE_TTL_MS, VARIANTS_GENERATION_KEY } from './read-cache.ts';
import { defaultVariants, purchasableVariants, type PurchasableRow } from './store.ts';

/** The `catalog.products` port: what carts and checkout read, now, to price and describe a line. */
export function createProductCatalog(ctx: ModuleContext): ProductCatalog {
  const toPurchasable = (r: PurchasableRow): PurchasableVariant => ({
    productId: r.productId,
    variantId: r.id,
    sellerId: r.sellerId,
    productName: r.productName,
    sku: r.sku,
    options: r.options,
    price: r.price,
    purchasable: onStorefront(r),
    weightGrams: r.weightGrams,
  });
  // Keys carry the variants generation read before the database is, so an entry can never predate
  // a write that bumped it (the same rule as the storefront read cache, see read-cache.ts).
  const recent = new LRUCache<string, PurchasableVariant>({ max: 20_000, ttl: READ_CACHE_TTL_MS });
  /** Undefined when the shared cache (Redis) cannot be reached: then the database answers, uncached. */
  const generation = async () => {
    try {
      return (await ctx.cache.get<number>(VARIANTS_GENERATION_KEY)) ?? 0;
    } catch (error) {
      ctx.logger.warn({ err: error }, 'shared cache unavailable; reading variants from the database');
      return undefined;
    }
  };

  async function cachedRead(ids: string[], keyOf: (v: PurchasableVariant) => string, read: (missing: string[]) => Promise<PurchasableRow[]>) {
    const current = await generation();
    if (current === undefined) return (await read(ids)).map(toPurchasable);
    const missing = ids.filter((id) => !recent.has(`${current}:${id}`));
    if (missing.length > 0) {
      for (const row of await read(missing)) {
        const variant = toPurchasable(row);
        recent.set(`${current}:${keyOf(variant)}`, variant);
      }
    }
    return ids.flatMap((id) => recent.get(`${current}:${id}`) ?? []);
  }

  return {
    // Ids come from clients' carts; anything that is not a uuid cannot be ours and is simply absent.
    async getVariants(variantIds, options?: VariantReadOptions) {
      const ids = [...new Set(variantIds.filter(isUuid))];
      if (options?.cached) return cachedRead(ids, (v) => v.variantId, (missing) => purchasableVariants(ctx.db, missing));
      return (await purchasableVariants(ctx.db, ids)).map(toPurchasable);
    },
    async getDefaultVariants(productIds, options?: VariantReadOptions) {
      const ids = [...new Set(productIds.filter(isUuid))];
      if (options?.cached) return cachedRead(ids.map((id) => `default:${id}`), (v) => `default:${v.productId}`, (missing) => defaultVariants(ctx.db, missing.map((k) => k.slice('default:'.length))));
      return (await defaultVariants(ctx.db, ids)).map(toPurchasable);
    },
  };
}
