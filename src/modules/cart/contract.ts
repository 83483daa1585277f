import type { Db } from '../../kernel/db/database.ts';

/**
 * The public face of cart: what checkout reads and clears, the merge identity calls at login/signup,
 * and the events the cart emits (abandoned carts, wished-for products back in stock).
 */

export const CART_PORT = 'cart.carts';

/** The most of one item a cart line holds, and so an order's item (orders takes what a cart takes). */
export const MAX_LINE_QUANTITY = 9999;

export interface CheckoutCart {
  cartId: string;
  /** Changes with every change to the cart: `clearCart` empties only the cart that was read. */
  version: string;
  lines: { productId: string; variantId: string; quantity: number }[];
  couponCode: string | null;
}

export interface CartPort {
  /** The signed-in user's cart as checkout needs it (null when empty). */
  getCheckoutCart(userId: string, tx?: Db): Promise<CheckoutCart | null>;
  /**
   * Empties the cart with the order's transaction's last statement (see writeLast in the kernel's
   * outbox), if it is still the one read as `cart` (same version). If it changed since, the commit fails
   * with `changed()` instead: the order must not go ahead with what was priced. Nothing in the
   * transaction may read the cart after this.
   */
  clearCart(tx: Db, cart: Pick<CheckoutCart, 'cartId' | 'version'>, changed: () => Error): Promise<void>;
  /** Merges a guest cart (by its token) into the user's cart, atomically; the guest token stops working. No-op for an unknown token. */
  mergeGuestCart(guestToken: string, userId: string): Promise<void>;
}

export const CartEvents = {
  CartAbandoned: 'cart.cart.abandoned',
  WishlistItemBackInStock: 'cart.wishlist_item.back_in_stock',
} as const;

/** Payload of cart.cart.abandoned. `userId` is null for a guest cart. */
export interface CartAbandoned {
  cartId: string;
  userId: string | null;
  lines: { productId: string; variantId: string; quantity: number; unitPrice: { amount: number; currency: string } }[];
  subtotal: { amount: number; currency: string };
  lastActivityAt: string;
}

/** Payload of cart.wishlist_item.back_in_stock: one event per user wishing for the product. */
export interface WishlistItemBackInStock {
  userId: string;
  productId: string;
  variantId: string;
  available: number;
}

export type { Db };
