import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { PRODUCT_CATALOG_PORT, type ProductCatalog } from '../catalog/contract.ts';
import { STOCK_PORT, type StockPort } from '../inventory/contract.ts';
import { principalOf, requireUser } from '../../kernel/http/auth.ts';
import { badRequest, notFound } from '../../kernel/http/problem.ts';
import { decodeCursor, encodeCursor, errorResponses, ListQuery, MoneyRef } from '../../kernel/http/schemas.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { CART_TOKEN_HEADER, hashCartToken, looksLikeCartToken, newCartToken } from './cart-tokens.ts';
import type { Carts } from './carts.ts';
import { MAX_LINE_QUANTITY } from './service.ts';
import * as store from './store.ts';

const Uuid = Type.String({ format: 'uuid' });

const CartItemView = Type.Object({
  id: Type.String(),
  productId: Type.String(),
  variantId: Type.String(),
  sellerId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  sku: Type.String(),
  options: Type.Record(Type.String(), Type.String()),
  quantity: Type.Integer(),
  unitPrice: MoneyRef,
  lineTotal: MoneyRef,
  available: Type.Integer({ description: 'Sellable stock of this variant now' }),
  priceChanged: Type.Boolean({ description: 'The price differs from the one shown when the line was added or last changed' }),
  previousUnitPrice: Type.Optional(MoneyRef),
  unavailable: Type.Boolean({ description: 'The product can no longer be bought (archived, deleted, seller suspended); not counted in totals' }),
});

const CouponView = Type.Object({
  code: Type.String(),
  kind: Type.Union([Type.Literal('percentage'), Type.Literal('fixed'), Type.Literal('free_shipping'), Type.Null()]),
  valid: Type.Boolean(),
  reason: Type.Optional(Type.String()),
  detail: Type.Optional(Type.String()),
  discount: MoneyRef,
  freeShipping: Type.Boolean(),
});

const CartView = Type.Object({
  id: Type.String(),
  currency: Type.String(),
  items: Type.Array(CartItemView),
  itemCount: Type.Integer(),
  subtotal: MoneyRef,
  discount: MoneyRef,
  total: MoneyRef,
  coupon: Type.Union([CouponView, Type.Null()]),
});

const CartHeaders = Type.Object({
  [CART_TOKEN_HEADER]: Type.Optional(Type.String({ description: 'A guest cart token from an earlier response' })),
});

const WishlistItemView = Type.Object({
  productId: Type.String(),
  variantId: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  price: Type.Union([MoneyRef, Type.Null()]),
  available: Type.Integer(),
  inStock: Type.Boolean(),
  unavailable: Type.Boolean(),
  addedAt: Type.String(),
});

const Quantity = (minimum: number) => Type.Integer({ minimum, maximum: MAX_LINE_QUANTITY });

const cartResponses = (...errors: number[]) => ({ 200: CartView, ...errorResponses(400, 401, ...errors) });

export function cartRoutes(app: HttpApp, ctx: ModuleContext, carts: Carts) {
  /**
   * The caller's cart: a signed-in user's own (merging the guest cart their token names first), or the
   * guest cart of the token. A guest without a usable token gets a new cart and its token back.
   */
  async function cartOf(request: FastifyRequest, reply: FastifyReply) {
    const token = request.headers[CART_TOKEN_HEADER];
    if (request.principal) {
      const userId = request.principal.userId;
      if (looksLikeCartToken(token)) await carts.port.mergeGuestCart(token, userId);
      return { cart: await store.userCart(ctx.db, userId), userId };
    }
    if (looksLikeCartToken(token)) {
      const found = await store.findGuestCart(ctx.db, hashCartToken(token));
      if (found) {
        reply.header(CART_TOKEN_HEADER, token);
        return { cart: found, userId: null };
      }
    }
    const fresh = newCartToken();
    const cart = await store.createGuestCart(ctx.db, hashCartToken(fresh));
    reply.header(CART_TOKEN_HEADER, fresh);
    return { cart, userId: null };
  }

  const tags = ['cart'];

  app.get('/cart', { schema: { tags, headers: CartHeaders, response: cartResponses() } }, async (request, reply) => {
    const { cart, userId } = await cartOf(request, reply);
    return carts.view(cart, userId);
  });

  app.post('/cart/items', {
    schema: {
      tags,
      headers: CartHeaders,
      body: Type.Object({ productId: Uuid, variantId: Type.Optional(Uuid), quantity: Quantity(1) }, { additionalProperties: false }),
      response: { ...cartResponses(404, 409), 201: CartView },
    },
  }, async (request, reply) => {
    // The cart is found inside the write when the caller names it plainly: a signed-in user with no
    // guest cart to merge, or a guest's token. Otherwise, or when there is no such cart yet, the usual way.
    const token = request.headers[CART_TOKEN_HEADER];
    const userId = request.principal?.userId ?? null;
    const hasToken = looksLikeCartToken(token);
    let view = null;
    if (userId && !hasToken) view = await carts.addItem({ userId }, userId, request.body);
    if (!userId && hasToken) {
      view = await carts.addItem({ guestTokenHash: hashCartToken(token) }, null, request.body);
      if (view) reply.header(CART_TOKEN_HEADER, token);
    }
    if (!view) {
      const { cart } = await cartOf(request, reply);
      view = await carts.addItem({ cartId: cart.id }, userId, request.body);
      if (!view) throw notFound('Cart');
    }
    return reply.status(201).send(view);
  });

  app.patch('/cart/items/:itemId', {
    schema: {
      tags,
      headers: CartHeaders,
      params: Type.Object({ itemId: Uuid }),
      body: Type.Object({ quantity: Quantity(0) }, { additionalProperties: false }),
      response: cartResponses(404, 409),
    },
  }, async (request, reply) => {
    const { cart, userId } = await cartOf(request, reply);
    return carts.setQuantity(cart, userId, request.params.itemId, request.body.quantity);
  });

  app.delete('/cart/items/:itemId', {
    schema: { tags, headers: CartHeaders, params: Type.Object({ itemId: Uuid }), response: cartResponses(404) },
  }, async (request, reply) => {
    const { cart, userId } = await cartOf(request, reply);
    return carts.removeItem(cart, userId, request.params.itemId);
  });

  app.post('/cart/coupon', {
    schema: {
      tags,
      headers: CartHeaders,
      body: Type.Object({ code: Type.String({ minLength: 1, maxLength: 64 }) }, { additionalProperties: false }),
      response: cartResponses(422),
    },
  }, async (request, reply) => {
    const { cart, userId } = await cartOf(request, reply);
    return carts.applyCoupon(cart, userId, request.body.code);
  });

  app.delete('/cart/coupon', { schema: { tags, headers: CartHeaders, response: cartResponses() } }, async (request, reply) => {
    const { cart, userId } = await cartOf(request, reply);
    return carts.removeCoupon(cart, userId);
  });

  // ---- wishlist

  const catalog = () => ctx.ports.get<ProductCatalog>(PRODUCT_CATALOG_PORT);
  const stock = () => ctx.ports.get<StockPort>(STOCK_PORT);

  /** Names, prices and stock for a page of wishes: one catalog call and one stock call for the page. */
  async function describeWishes(wishes: store.WishlistRecord[]) {
    const variants = wishes.length > 0 ? await catalog().getDefaultVariants(wishes.map((w) => w.productId)) : [];
    const available = variants.length > 0 ? await stock().getAvailable(variants.map((v) => v.variantId)) : new Map<string, number>();
    const byProduct = new Map(variants.map((v) => [v.productId, v]));
    return wishes.map((w) => {
      const v = byProduct.get(w.productId);
      const inStockNow = v ? Math.max(0, available.get(v.variantId) ?? 0) : 0;
      return {
        productId: w.productId,
        variantId: v?.variantId ?? null,
        name: v?.productName ?? w.name,
        price: v?.price ?? null,
        available: inStockNow,
        inStock: !!v?.purchasable && inStockNow > 0,
        unavailable: !v?.purchasable,
        addedAt: w.createdAt.toISOString(),
      };
    });
  }

  const wishTags = ['wishlist'];

  app.get('/wishlist', {
    preHandler: requireUser,
    schema: {
      tags: wishTags,
      querystring: Type.Object(ListQuery, { additionalProperties: false }),
      response: { 200: Type.Object({ items: Type.Array(WishlistItemView), nextCursor: Type.Union([Type.String(), Type.Null()]) }), ...errorResponses(400, 401) },
    },
  }, async (request) => {
    const { userId } = principalOf(request);
    const { limit, cursor } = request.query;
    const after = decodeCursor(cursor, 2) as [string, string] | undefined;
    if (after && (Number.isNaN(Date.parse(after[0])) || !/^[0-9a-f-]{36}$/i.test(after[1]))) throw badRequest('The cursor is not valid', [{ path: 'querystring:/cursor', message: 'is not a cursor this API issued' }]);
    const rows = await store.listWishlist(ctx.db, userId, { after, limit: limit + 1 });
    const page = rows.slice(0, limit);
    const last = page[page.length - 1];
    return {
      items: await describeWishes(page),
      nextCursor: rows.length > limit && last ? encodeCursor([last.createdAt.toISOString(), last.productId]) : null,
    };
  });

  app.post('/wishlist', {
    preHandler: requireUser,
    schema: {
      tags: wishTags,
      body: Type.Object({ productId: Uuid }, { additionalProperties: false }),
      response: { 200: WishlistItemView, 201: WishlistItemView, ...errorResponses(400, 401, 404) },
    },
  }, async (request, reply) => {
    const { userId } = principalOf(request);
    const [variant] = await catalog().getDefaultVariants([request.body.productId]);
    if (!variant || !variant.purchasable) throw notFound('Product');
    const { created, item } = await store.addToWishlist(ctx.db, userId, variant.productId, variant.productName);
    const [described] = await describeWishes([item]);
    return reply.status(created ? 201 : 200).send(described!);
  });

  app.delete('/wishlist/:productId', {
    preHandler: requireUser,
    schema: { tags: wishTags, params: Type.Object({ productId: Uuid }), response: { 204: Type.Null(), ...errorResponses(400, 401) } },
  }, async (request, reply) => {
    await store.removeFromWishlist(ctx.db, principalOf(request).userId, request.params.productId);
    return reply.status(204).send(null);
  });
}
