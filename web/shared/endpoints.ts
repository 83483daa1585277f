/**
 * Every API call the web apps make, in one table. The client builds its requests from these entries
 * only, so a test can hold the table against the server's /openapi.json: a path the server does not
 * document fails the build instead of failing in a shopper's browser.
 *
 * Kept free of DOM and React imports: the Node test suite imports it.
 */

export type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

/** The server module that answers an endpoint. */
export type Area = 'identity' | 'catalog' | 'inventory' | 'search' | 'platform' | 'cart' | 'orders' | 'payments' | 'promotions';

/**
 * Areas whose endpoints the apps call before the server has them: the pages show "not available
 * yet" on a 404, and the OpenAPI test checks their paths only once the server documents the area.
 */
export const AWAITED_AREAS: readonly Area[] = ['cart', 'orders', 'payments', 'promotions'];

export interface Endpoint {
  method: Method;
  /** Relative to /api/v1, with OpenAPI-style `{param}` placeholders. */
  path: string;
  area: Area;
}

const at = (area: Area) => (method: Method, path: string): Endpoint => ({ method, path, area });
const identity = at('identity');
const catalog = at('catalog');
const inventory = at('inventory');
const search = at('search');
const platform = at('platform');
const cart = at('cart');
const orders = at('orders');
const payments = at('payments');
const promotions = at('promotions');

export const endpoints = {
  signup: identity('POST', '/auth/signup'),
  login: identity('POST', '/auth/login'),
  refresh: identity('POST', '/auth/refresh'),
  logout: identity('POST', '/auth/logout'),
  me: identity('GET', '/users/me'),
  updateUser: identity('PATCH', '/users/{id}'),
  listUsers: identity('GET', '/admin/users'),
  setRoles: identity('PUT', '/admin/users/{id}/roles'),
  listAddresses: identity('GET', '/users/me/addresses'),
  createAddress: identity('POST', '/users/me/addresses'),
  getSeller: identity('GET', '/sellers/{id}'),
  suspendSeller: identity('POST', '/admin/sellers/{id}/suspend'),
  reinstateSeller: identity('POST', '/admin/sellers/{id}/reinstate'),

  listCategories: catalog('GET', '/categories'),
  createCategory: catalog('POST', '/categories'),
  updateCategory: catalog('PATCH', '/categories/{id}'),
  deleteCategory: catalog('DELETE', '/categories/{id}'),
  listProducts: catalog('GET', '/products'),
  getProduct: catalog('GET', '/products/{id}'),
  createProduct: catalog('POST', '/products'),
  updateProduct: catalog('PATCH', '/products/{id}'),
  deleteProduct: catalog('DELETE', '/products/{id}'),
  uploadProductImage: catalog('POST', '/products/{id}/images'),
  deleteProductImage: catalog('DELETE', '/products/{id}/images/{imageId}'),

  getStock: inventory('GET', '/inventory/{variantId}'),
  adjustStock: inventory('POST', '/inventory/adjustments'),
  transferStock: inventory('POST', '/inventory/transfers'),
  setLowStockThreshold: inventory('PATCH', '/inventory/{variantId}'),
  listMovements: inventory('GET', '/inventory/{variantId}/movements'),
  listLocations: inventory('GET', '/inventory/locations'),
  createLocation: inventory('POST', '/inventory/locations'),

  search: search('GET', '/search'),
  suggest: search('GET', '/suggest'),

  listDeadLetters: platform('GET', '/admin/dead-letters'),
  replayDeadLetter: platform('POST', '/admin/dead-letters/{id}/replay'),
  auditLog: platform('GET', '/admin/audit-log'),

  getCart: cart('GET', '/cart'),
  addCartItem: cart('POST', '/cart/items'),
  updateCartItem: cart('PATCH', '/cart/items/{itemId}'),
  removeCartItem: cart('DELETE', '/cart/items/{itemId}'),
  applyCoupon: cart('POST', '/cart/coupon'),
  removeCoupon: cart('DELETE', '/cart/coupon'),
  getWishlist: cart('GET', '/wishlist'),
  addToWishlist: cart('POST', '/wishlist'),
  removeFromWishlist: cart('DELETE', '/wishlist/{productId}'),

  placeOrder: orders('POST', '/orders'),
  listOrders: orders('GET', '/orders'),
  getOrder: orders('GET', '/orders/{id}'),
  cancelOrder: orders('POST', '/orders/{id}/cancel'),
  shipOrder: orders('POST', '/orders/{id}/ship'),
  deliverOrder: orders('POST', '/orders/{id}/deliver'),
  listAllOrders: orders('GET', '/admin/orders'),
  listSellerOrders: orders('GET', '/seller/orders'),

  listPayments: payments('GET', '/payments'),
  payOrder: payments('POST', '/payments/pay'),
  refundPayment: payments('POST', '/payments/{id}/refunds'),
  storeCredit: payments('GET', '/store-credit'),

  listCoupons: promotions('GET', '/coupons'),
  createCoupon: promotions('POST', '/coupons'),
  updateCoupon: promotions('PATCH', '/coupons/{id}'),
} satisfies Record<string, Endpoint>;

export type EndpointName = keyof typeof endpoints;

/** `/products/{id}` + `{ id: 'p 1' }` -> `/products/p%201`. */
export function fillPath(path: string, params: Record<string, string> = {}): string {
  return path.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined) throw new Error(`Missing path parameter ${name} for ${path}`);
    return encodeURIComponent(value);
  });
}
