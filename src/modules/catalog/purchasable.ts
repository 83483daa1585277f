import type { ModuleContext } from '../../kernel/module.ts';
import type { ProductCatalog, PurchasableVariant } from './contract.ts';
import { isUuid } from './products.ts';
import { onStorefront } from './service.ts';
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
  return {
    // Ids come from clients' carts; anything that is not a uuid cannot be ours and is simply absent.
    async getVariants(variantIds) {
      return (await purchasableVariants(ctx.db, [...new Set(variantIds.filter(isUuid))])).map(toPurchasable);
    },
    async getDefaultVariants(productIds) {
      return (await defaultVariants(ctx.db, [...new Set(productIds.filter(isUuid))])).map(toPurchasable);
    },
  };
}
