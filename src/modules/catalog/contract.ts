import type { Db } from '../../kernel/db/database.ts';

/**
 * The public face of catalog. Product events carry a full snapshot of the product, so read models
 * (search, cart, analytics) never need to call back to build their copy.
 */

export const CatalogEvents = {
  CategoryCreated: 'catalog.category.created',
  CategoryUpdated: 'catalog.category.updated',
  CategoryDeleted: 'catalog.category.deleted',
  ProductCreated: 'catalog.product.created',
  ProductUpdated: 'catalog.product.updated',
  ProductDeleted: 'catalog.product.deleted',
} as const;

export interface Money {
  amount: number;
  currency: string;
}

export interface CategorySnapshot {
  id: string;
  name: string;
  slug: string;
  parentId: string | null;
  /** Ids from the root down to and including this category: filtering by an ancestor matches it. */
  path: string[];
}

export interface VariantSnapshot {
  id: string;
  sku: string;
  price: Money;
  options: Record<string, string>;
}

export interface ProductSnapshot {
  id: string;
  sellerId: string;
  name: string;
  description: string;
  categoryId: string;
  /** Ids from the root category down to the product's category. */
  categoryPath: string[];
  brand: string | null;
  attributes: Record<string, unknown>;
  /** draft | active | archived. Shoppers see a product only when active and its seller is active. */
  status: 'draft' | 'active' | 'archived';
  sellerActive: boolean;
  variants: VariantSnapshot[];
  images: { id: string; url: string; alt: string }[];
  createdAt: string;
  updatedAt: string;
}

/** Payload of catalog.product.created / catalog.product.updated. */
export interface ProductChanged {
  product: ProductSnapshot;
}
/** Payload of catalog.product.deleted. */
export interface ProductDeleted {
  productId: string;
  sellerId: string;
}
/** Payload of catalog.category.created / updated; deleted carries { categoryId }. */
export interface CategoryChanged {
  category: CategorySnapshot;
}

/** What checkout and carts need to price and describe a line, read now (not from an event). */
export interface PurchasableVariant {
  productId: string;
  variantId: string;
  sellerId: string;
  productName: string;
  sku: string;
  options: Record<string, string>;
  price: Money;
  /** False when the product is not active or its seller is suspended. */
  purchasable: boolean;
  /** Shipping weight in grams, when the seller gave one. */
  weightGrams: number | null;
}

/** Port `catalog.products`. */
export interface ProductCatalog {
  /** Unknown ids are simply absent from the result. */
  getVariants(variantIds: string[], options?: VariantReadOptions): Promise<PurchasableVariant[]>;
  /** The default (first) variant of each product, for `{ productId }` without a variant. */
  getDefaultVariants(productIds: string[], options?: VariantReadOptions): Promise<PurchasableVariant[]>;
}

export interface VariantReadOptions {
  /**
   * For display (a cart): may be served from a one-second cache that every catalog write orphans as
   * soon as it commits (stock changes do not, variants carry no stock). Checkout reads without it.
   */
  cached?: boolean;
}
export const PRODUCT_CATALOG_PORT = 'catalog.products';

/**
 * The highest price a variant may have, in minor units ($90,000,000.00): low enough that the largest
 * cart (cart's MAX_CART_LINES lines of MAX_LINE_QUANTITY each) still sums exactly in a JSON number,
 * which a cart test checks.
 */
export const MAX_PRICE = 9_000_000_000;

export type { Db };
