import type { Money, PurchasableVariant } from '../catalog/contract.ts';
import type { QuoteLine } from '../promotions/contract.ts';
import { MAX_LINE_QUANTITY } from './contract.ts';

/**
 * Cart rules as plain functions: how a stored line reads against today's catalog and stock, what the
 * cart costs, and when a wished-for product is back. SQL is in store.ts, HTTP in routes.ts.
 */

// Per line: more is not a shopper's cart, and it keeps totals far from overflow. In the contract, as orders' items share it.
export { MAX_LINE_QUANTITY };

/**
 * Distinct lines a cart may hold, as many as one order may (POST /orders takes at most 100 items).
 * Every cart read prices every line, so an unbounded cart would let one client make each of its
 * requests as costly as it likes. A guest cart merged on sign-in may take a cart past it (nothing a
 * shopper put in is dropped); adding a new line is then refused until lines are removed.
 */
export const MAX_CART_LINES = 100;

export interface CartItemRecord {
  id: string;
  productId: string;
  variantId: string;
  quantity: number;
  /** The unit price the shopper saw when they last added or changed this line. */
  seenUnitPrice: number;
  seenCurrency: string;
  name: string;
  sku: string;
  options: Record<string, string>;
}

export interface CartLine {
  id: string;
  productId: string;
  variantId: string;
  sellerId: string | null;
  name: string;
  sku: string;
  options: Record<string, string>;
  quantity: number;
  unitPrice: Money;
  lineTotal: Money;
  available: number;
  priceChanged: boolean;
  previousUnitPrice?: Money;
  /** The product was archived or deleted, its seller suspended, or it is priced in another currency. */
  unavailable: boolean;
}

/**
 * Prices come from the catalog now, not from when the line was added; a line whose product can no
 * longer be bought stays in the cart, flagged, so the shopper sees what happened to it.
 */
export function priceLines(
  items: readonly CartItemRecord[],
  variants: ReadonlyMap<string, PurchasableVariant>,
  stock: ReadonlyMap<string, number>,
  currency: string,
): CartLine[] {
  return items.map((item) => {
    const variant = variants.get(item.variantId);
    const unitPrice = variant ? variant.price : { amount: item.seenUnitPrice, currency: item.seenCurrency };
    const priceChanged = !!variant && (variant.price.amount !== item.seenUnitPrice || variant.price.currency !== item.seenCurrency);
    return {
      id: item.id,
      productId: item.productId,
      variantId: item.variantId,
      sellerId: variant?.sellerId ?? null,
      name: variant?.productName ?? item.name,
      sku: variant?.sku ?? item.sku,
      options: variant?.options ?? item.options,
      quantity: item.quantity,
      unitPrice,
      lineTotal: { amount: unitPrice.amount * item.quantity, currency: unitPrice.currency },
      available: Math.max(0, stock.get(item.variantId) ?? 0),
      priceChanged,
      ...(priceChanged ? { previousUnitPrice: { amount: item.seenUnitPrice, currency: item.seenCurrency } } : {}),
      unavailable: !variant || !variant.purchasable || variant.price.currency !== currency,
    };
  });
}

/** What can be bought now: unavailable lines are shown but neither counted nor discounted. */
export const purchasableLines = (lines: readonly CartLine[]): CartLine[] => lines.filter((l) => !l.unavailable);

export function subtotalOf(lines: readonly CartLine[], currency: string): Money {
  return { amount: purchasableLines(lines).reduce((sum, l) => sum + l.lineTotal.amount, 0), currency };
}

export function quoteLinesOf(lines: readonly CartLine[]): QuoteLine[] {
  return purchasableLines(lines).map((l) => ({
    variantId: l.variantId,
    productId: l.productId,
    sellerId: l.sellerId ?? '',
    unitPrice: l.unitPrice.amount,
    quantity: l.quantity,
  }));
}

/** Two carts holding the same variant become one line with both quantities, within the per-line cap. */
export const mergedQuantity = (a: number, b: number): number => Math.min(a + b, MAX_LINE_QUANTITY);

/**
 * A wish-listed product is "back" when its sellable stock, summed over the variants we have seen,
 * goes from nothing to something. A variant never seen before counts as having had none.
 */
export function cameBackInStock(productVariantsBefore: ReadonlyMap<string, number>, variantId: string, availableNow: number): boolean {
  let before = 0;
  for (const available of productVariantsBefore.values()) before += Math.max(0, available);
  const after = before - Math.max(0, productVariantsBefore.get(variantId) ?? 0) + Math.max(0, availableNow);
  return before === 0 && after > 0;
}
