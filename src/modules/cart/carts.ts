import type { Money } from '../catalog/contract.ts';
import { PRODUCT_CATALOG_PORT, type ProductCatalog, type PurchasableVariant } from '../catalog/contract.ts';
import { STOCK_PORT, type StockPort } from '../inventory/contract.ts';
import { CouponError, PROMOTIONS_PORT, type PromotionsPort } from '../promotions/contract.ts';
import { conflict, notFound, Problem } from '../../kernel/http/problem.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import type { CartPort } from './contract.ts';
import { hashCartToken, looksLikeCartToken } from './cart-tokens.ts';
import {
  MAX_CART_LINES,
  MAX_LINE_QUANTITY,
  priceLines,
  quoteLinesOf,
  subtotalOf,
  type CartItemRecord,
  type CartLine,
} from './service.ts';
import * as store from './store.ts';
import type { CartRecord } from './store.ts';

export interface CouponView {
  code: string;
  kind: 'percentage' | 'fixed' | 'free_shipping' | null;
  /** False when the coupon no longer applies to this cart (expired, minimum not met, ...): it then takes nothing off. */
  valid: boolean;
  reason?: string;
  detail?: string;
  discount: Money;
  freeShipping: boolean;
}

export interface CartView {
  id: string;
  currency: string;
  items: (Omit<CartLine, 'sellerId'> & { sellerId: string | null })[];
  itemCount: number;
  subtotal: Money;
  discount: Money;
  total: Money;
  coupon: CouponView | null;
}

export const insufficientStock = (variantId: string, requested: number, available: number) =>
  conflict('insufficient-stock', `Only ${available} available`, { variantId, requested, available });

export const invalidCoupon = (error: CouponError) =>
  new Problem({ status: 422, type: 'invalid-coupon', title: 'Coupon cannot be used', detail: error.message, extra: { reason: error.reason } });

/**
 * What cart requests do, over the cart's own tables and the catalog, stock and coupon ports. Every
 * read of a cart prices all its lines with one catalog call and one stock call, whatever its size.
 * Port calls happen outside transactions: on PGlite's single connection a port reading through
 * `ctx.db` inside our transaction would wait for itself.
 */
export function createCarts(ctx: ModuleContext) {
  const catalog = () => ctx.ports.get<ProductCatalog>(PRODUCT_CATALOG_PORT);
  const stock = () => ctx.ports.get<StockPort>(STOCK_PORT);
  const promotions = () => ctx.ports.get<PromotionsPort>(PROMOTIONS_PORT);

  async function priced(cart: CartRecord, items: CartItemRecord[], known?: { variant: PurchasableVariant; available: number }): Promise<CartLine[]> {
    if (items.length === 0) return [];
    const ids = items.map((i) => i.variantId).filter((id) => id !== known?.variant.variantId);
    const [variants, available] =
      ids.length > 0 ? await Promise.all([catalog().getVariants(ids, { cached: true }), stock().getAvailableCached(ids)]) : [[], new Map<string, number>()];
    const byVariant = new Map(variants.map((v) => [v.variantId, v]));
    if (known) {
      byVariant.set(known.variant.variantId, known.variant);
      available.set(known.variant.variantId, known.available);
    }
    return priceLines(items, byVariant, available, cart.currency);
  }

  async function couponFor(code: string, lines: CartLine[], cart: CartRecord, userId: string | null): Promise<CouponView> {
    const none = { amount: 0, currency: cart.currency };
    try {
      const quote = await promotions().quote({ code, userId, lines: quoteLinesOf(lines), currency: cart.currency });
      return { code: quote.code, kind: quote.kind, valid: true, discount: { amount: quote.discountTotal, currency: cart.currency }, freeShipping: quote.freeShipping };
    } catch (error) {
      if (!(error instanceof CouponError)) throw error;
      return { code, kind: null, valid: false, reason: error.reason, detail: error.message, discount: none, freeShipping: false };
    }
  }

  async function view(cart: CartRecord, userId: string | null, couponCode = cart.couponCode): Promise<CartView> {
    return viewOf(cart, userId, await store.listItems(ctx.db, cart.id), undefined, couponCode);
  }

  async function viewOf(
    cart: CartRecord,
    userId: string | null,
    items: CartItemRecord[],
    known?: { variant: PurchasableVariant; available: number },
    couponCode = cart.couponCode,
  ): Promise<CartView> {
    const lines = await priced(cart, items, known);
    const subtotal = subtotalOf(lines, cart.currency);
    const coupon = couponCode ? await couponFor(couponCode, lines, cart, userId) : null;
    const discount = coupon?.discount ?? { amount: 0, currency: cart.currency };
    return {
      id: cart.id,
      currency: cart.currency,
      items: lines,
      itemCount: lines.reduce((n, l) => n + l.quantity, 0),
      subtotal,
      discount,
      total: { amount: subtotal.amount - discount.amount, currency: cart.currency },
      coupon,
    };
  }

  async function variantToAdd(productId: string, variantId: string | undefined): Promise<PurchasableVariant> {
    const [variant] = variantId ? await catalog().getVariants([variantId], { cached: true }) : await catalog().getDefaultVariants([productId], { cached: true });
    if (!variant || variant.productId !== productId) throw notFound(variantId ? 'Variant of this product' : 'Product');
    if (!variant.purchasable) throw conflict('product-unavailable', `${variant.productName} cannot be bought right now`);
    return variant;
  }

  async function availableOf(variantId: string): Promise<number> {
    return Math.max(0, (await stock().getAvailableCached([variantId])).get(variantId) ?? 0);
  }

  const port: CartPort = {
    async getCheckoutCart(userId, tx) {
      const db = tx ?? ctx.db;
      const found = await store.findUserCartWithItems(db, userId);
      if (!found || found.items.length === 0) return null;
      const { cart, items, version } = found;
      return {
        cartId: cart.id,
        version,
        lines: items.map((i) => ({ productId: i.productId, variantId: i.variantId, quantity: i.quantity })),
        couponCode: cart.couponCode,
      };
    },

    clearCart: (tx, cart, changed) => store.clearCartLast(tx, cart.cartId, cart.version, changed),

    async mergeGuestCart(guestToken, userId) {
      if (!looksLikeCartToken(guestToken)) return;
      const hash = hashCartToken(guestToken);
      // Most calls carry a token already merged: one read, and no transaction, says so.
      if (!(await store.findGuestCart(ctx.db, hash))) return;
      await ctx.transaction(async (tx) => {
        const guest = await store.lockGuestCart(tx, hash);
        if (!guest) return;
        const target = await store.userCart(tx, userId);
        await store.mergeLines(tx, target.id, await store.listItems(tx, guest.id));
        await store.adoptCoupon(tx, target.id, guest.couponCode);
        await store.deleteCart(tx, guest.id);
      });
    },
  };

  return {
    port,
    view,

    /**
     * Adds to the cart `target` names. A known cart, or one found by its owner or guest token inside the
     * write itself, costs three statements in all: the stock of the variant, the write (which returns
     * the whole cart), and the stock of the cart's other lines. Variant descriptions come from the
     * catalog's short cache. `null` when the selector found no cart (the caller makes one).
     */
    async addItem(target: store.CartSelector, userId: string | null, input: { productId: string; variantId?: string; quantity: number }): Promise<CartView | null> {
      // With the variant named, its description and its stock are read at the same time.
      const [variant, knownAvailable] = await Promise.all([
        variantToAdd(input.productId, input.variantId),
        input.variantId ? availableOf(input.variantId) : undefined,
      ]);
      const available = knownAvailable ?? (await availableOf(variant.variantId));
      const line = {
        productId: variant.productId,
        variantId: variant.variantId,
        quantity: input.quantity,
        seenUnitPrice: variant.price.amount,
        seenCurrency: variant.price.currency,
        name: variant.productName,
        sku: variant.sku,
        options: variant.options,
      };
      let result = await store.addToLine(ctx.db, target, line, available);
      if (!result.cart) return null;
      const cart = result.cart;
      if (cart.currency !== variant.price.currency) {
        // Nothing was written: an empty cart takes the item's currency, a cart with lines refuses it.
        if (result.items.length > 0) {
          throw conflict('currency-mismatch', `This cart is in ${cart.currency}; ${variant.productName} is priced in ${variant.price.currency}`);
        }
        await store.touchCart(ctx.db, cart.id, { currency: variant.price.currency });
        result = await store.addToLine(ctx.db, { cartId: cart.id }, line, available);
      }
      if (!result.added) {
        if (result.full) throw conflict('cart-full', `A cart holds at most ${MAX_CART_LINES} different items; remove some first`, { limit: MAX_CART_LINES });
        const requested = result.quantity + input.quantity;
        if (requested > MAX_LINE_QUANTITY && requested <= available) {
          throw conflict('line-quantity-limit', `At most ${MAX_LINE_QUANTITY} of one item per cart`, { limit: MAX_LINE_QUANTITY });
        }
        throw insufficientStock(variant.variantId, requested, available);
      }
      // The added line's variant and stock are known: only the other lines are priced, with one
      // (cached) catalog call and one stock call.
      return viewOf(result.cart ?? cart, userId, result.items, { variant, available });
    },

    async setQuantity(cart: CartRecord, userId: string | null, itemId: string, quantity: number): Promise<CartView> {
      const item = await store.findItem(ctx.db, cart.id, itemId);
      if (!item) throw notFound('Cart item');
      if (quantity === 0) {
        await store.removeLine(ctx.db, cart.id, itemId);
        return view(cart, userId);
      }
      const [[variant], available] = await Promise.all([catalog().getVariants([item.variantId]), availableOf(item.variantId)]);
      if (!variant || !variant.purchasable) throw conflict('product-unavailable', `${item.name} cannot be bought right now; remove it instead`);
      if (quantity > available) throw insufficientStock(item.variantId, quantity, available);
      // Changing the quantity shows the shopper today's price, so it is the one they have now seen.
      await store.setLineQuantity(ctx.db, cart.id, itemId, quantity, { unitPrice: variant.price.amount, currency: variant.price.currency });
      return view(cart, userId);
    },

    async removeItem(cart: CartRecord, userId: string | null, itemId: string): Promise<CartView> {
      if (!(await store.removeLine(ctx.db, cart.id, itemId))) throw notFound('Cart item');
      return view(cart, userId);
    },

    async applyCoupon(cart: CartRecord, userId: string | null, code: string): Promise<CartView> {
      const candidate = await view(cart, userId, code);
      if (!candidate.coupon?.valid) {
        throw invalidCoupon(new CouponError(candidate.coupon?.reason as CouponError['reason'], candidate.coupon?.detail ?? 'Coupon cannot be used'));
      }
      await store.touchCart(ctx.db, cart.id, { couponCode: candidate.coupon.code });
      return candidate;
    },

    async removeCoupon(cart: CartRecord, userId: string | null): Promise<CartView> {
      await store.touchCart(ctx.db, cart.id, { couponCode: null });
      return view({ ...cart, couponCode: null }, userId);
    },
  };
}

export type Carts = ReturnType<typeof createCarts>;
