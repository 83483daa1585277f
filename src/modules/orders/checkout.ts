import type { Db } from '../../kernel/db/database.ts';
import { conflict, Problem, unprocessable } from '../../kernel/http/problem.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { CART_PORT, type CartPort, type CheckoutCart } from '../cart/contract.ts';
import { PRODUCT_CATALOG_PORT, type ProductCatalog, type PurchasableVariant } from '../catalog/contract.ts';
import { InsufficientStockError, STOCK_PORT, type StockPort } from '../inventory/contract.ts';
import { PAYMENTS_PORT, PaymentRefusedError, type PaymentInstruction, type PaymentsPort } from '../payments/contract.ts';
import { CouponError, PROMOTIONS_PORT, type CouponQuote, type PromotionsPort } from '../promotions/contract.ts';
import { SHIPPING_RATES_PORT, ShippingCurrencyError, type ShippingRatesPort } from '../shipping/contract.ts';
import { OrderEvents, type ShippingAddress } from './contract.ts';
import { paymentDeadline, publishOrderEvent } from './lifecycle.ts';
import { computeTotals, mergeLines, parcelWeight } from './service.ts';
import * as store from './store.ts';
import { notifyWhenCommitted } from './watch.ts';
import type { GroupRecord, LineRecord, OrderRecord } from './store.ts';

/**
 * Placing an order is one transaction: price the lines, redeem the coupon, reserve the stock, open the
 * payment (debiting store credit right there), write the order with its groups, lines and history,
 * empty the cart and write `orders.order.placed` to the outbox. Any refusal rolls all of it back.
 */

export interface PlaceOrderInput {
  items?: { productId: string; variantId?: string; quantity: number }[];
  shippingAddress: ShippingAddress;
  payment: PaymentInstruction;
  couponCode?: string;
}

interface RequestedLine {
  productId: string;
  variantId?: string;
  quantity: number;
}

export const insufficientStock = (error: InsufficientStockError) =>
  conflict('insufficient-stock', 'Not enough stock for some items; nothing was ordered', { shortages: error.shortages });

function couponProblem(error: CouponError): Problem {
  const status = error.reason === 'exhausted' || error.reason === 'per-customer-limit' ? 409 : 422;
  return new Problem({ status, type: `coupon-${error.reason}`, title: 'Coupon not applicable', detail: error.message, extra: { reason: error.reason } });
}

function paymentProblem(error: PaymentRefusedError): Problem {
  if (error.reason === 'insufficient-store-credit') return conflict('insufficient-store-credit', error.message);
  return unprocessable(error.reason, error.message);
}

/**
 * Reads prices before the transaction: on PGlite the catalog's own reads must not wait on our transaction.
 * The catalog's kept figures, as the cart shows them: a catalog write orphans them before it answers
 * (the variants generation in the shared cache), so an order is priced as of its checkout, one
 * statement fewer than reading the variants again.
 */
async function priceLines(ctx: ModuleContext, requested: RequestedLine[]): Promise<Map<string, PurchasableVariant>> {
  const catalog = ctx.ports.get<ProductCatalog>(PRODUCT_CATALOG_PORT);
  const variantIds = [...new Set(requested.filter((l) => l.variantId).map((l) => l.variantId!))];
  const productIds = [...new Set(requested.filter((l) => !l.variantId).map((l) => l.productId))];
  // Both reads at once, and none for a kind of line the order does not have.
  const [byVariant, byProduct] = await Promise.all([
    variantIds.length > 0 ? catalog.getVariants(variantIds, { cached: true }) : [],
    productIds.length > 0 ? catalog.getDefaultVariants(productIds, { cached: true }) : [],
  ]);
  const priced = new Map<string, PurchasableVariant>();
  for (const v of byVariant) priced.set(`v:${v.variantId}`, v);
  for (const v of byProduct) priced.set(`p:${v.productId}`, v);
  return priced;
}

function resolveLines(requested: RequestedLine[], priced: Map<string, PurchasableVariant>) {
  const unknown: string[] = [];
  const unavailable: string[] = [];
  const lines: (PurchasableVariant & { quantity: number })[] = [];
  for (const line of requested) {
    const variant = priced.get(line.variantId ? `v:${line.variantId}` : `p:${line.productId}`);
    if (!variant || variant.productId !== line.productId) {
      unknown.push(line.variantId ?? line.productId);
      continue;
    }
    if (!variant.purchasable) unavailable.push(variant.variantId);
    lines.push({ ...variant, quantity: line.quantity });
  }
  if (unknown.length > 0) {
    throw new Problem({
      status: 422,
      type: 'unknown-item',
      title: 'Unknown item',
      detail: 'Some items name no product or variant on sale',
      extra: { items: unknown },
    });
  }
  if (unavailable.length > 0) conflictUnavailable(unavailable);
  const merged = mergeLines(lines);
  const currencies = new Set(merged.map((l) => l.price.currency));
  if (currencies.size > 1) throw unprocessable('mixed-currency', 'All items of one order must be priced in the same currency');
  return merged;
}

function conflictUnavailable(variantIds: string[]): never {
  throw conflict('item-unavailable', 'Some items are no longer for sale', { variantIds });
}

export interface PreparedCheckout {
  userId: string;
  input: PlaceOrderInput;
  cart: CheckoutCart | null;
  lines: (PurchasableVariant & { quantity: number })[];
  couponCode: string | null;
  shippingBySeller: Map<string, number>;
  taxRateBps: number;
}

/** The part of checkout that reads other modules without holding a transaction. */
export async function prepareCheckout(ctx: ModuleContext, userId: string, input: PlaceOrderInput): Promise<PreparedCheckout> {
  let cart: CheckoutCart | null = null;
  let requested: RequestedLine[];
  if (input.items) {
    requested = input.items;
  } else {
    cart = await ctx.ports.get<CartPort>(CART_PORT).getCheckoutCart(userId);
    if (!cart || cart.lines.length === 0) throw unprocessable('empty-cart', 'Your cart is empty: add items, or send them in `items`');
    requested = cart.lines;
  }
  const lines = resolveLines(requested, await priceLines(ctx, requested));
  const couponCode = input.couponCode ?? cart?.couponCode ?? null;
  const [shippingBySeller, taxRateBps] = await Promise.all([shippingOf(ctx, lines), store.findTaxRateCached(ctx, input.shippingAddress.country)]);
  return { userId, input, cart, lines, couponCode, shippingBySeller, taxRateBps };
}

/** Shipping per seller's parcel; rates are settings, so they are read with the prices, before the transaction. */
async function shippingOf(ctx: ModuleContext, lines: PreparedCheckout['lines']): Promise<Map<string, number>> {
  const currency = lines[0]!.price.currency;
  const sellers = [...new Set(lines.map((l) => l.sellerId))];
  try {
    return await ctx.ports.get<ShippingRatesPort>(SHIPPING_RATES_PORT).quote(
      sellers.map((sellerId) => ({ sellerId, currency, weightGrams: parcelWeight(lines.filter((l) => l.sellerId === sellerId)) })),
    );
  } catch (error) {
    if (error instanceof ShippingCurrencyError) throw unprocessable('shipping-unavailable', error.message);
    throw error;
  }
}

/**
 * The largest order total, in minor units (10 trillion of a currency with cents). Every amount and
 * sum below it is exact in a JSON number and a JavaScript one; a cart of many lines at the highest
 * price the catalog takes added up past 2^53, where totals round and the order's stored sums no
 * longer agree (a 500).
 */
export const MAX_ORDER_TOTAL = 1_000_000_000_000_000;

/** The transactional part: everything or nothing. Returns the stored order. */
export async function placeOrder(ctx: ModuleContext, tx: Db, prepared: PreparedCheckout): Promise<OrderRecord> {
  const { userId, input, lines } = prepared;
  const orderId = newId();
  const currency = lines[0]!.price.currency;
  const now = new Date();

  let quote: CouponQuote | null = null;
  if (prepared.couponCode) {
    const promotions = ctx.ports.get<PromotionsPort>(PROMOTIONS_PORT);
    try {
      quote = await promotions.quote(
        {
          code: prepared.couponCode,
          userId,
          currency,
          lines: lines.map((l) => ({ variantId: l.variantId, productId: l.productId, sellerId: l.sellerId, unitPrice: l.price.amount, quantity: l.quantity })),
        },
        tx,
      );
      // The use is recorded atomically with the order: of concurrent checkouts only as many as the coupon allows get it.
      await promotions.redeem(tx, { couponId: quote.couponId, userId, orderId });
    } catch (error) {
      if (error instanceof CouponError) throw couponProblem(error);
      throw error;
    }
  }

  const { shippingBySeller, taxRateBps } = prepared;
  const discountOf = new Map((quote?.allocations ?? []).map((a) => [a.variantId, a.amount]));
  const priced = lines.map((l) => ({
    ...l,
    unitPrice: l.price.amount,
    discount: Math.min(Math.max(0, discountOf.get(l.variantId) ?? 0), l.price.amount * l.quantity),
  }));
  const couponSeller = quote?.sellerId ?? null;
  const totals = computeTotals({
    lines: priced,
    shippingBySeller,
    freeShippingFor: quote?.freeShipping ? (couponSeller ? new Set([couponSeller]) : 'all') : new Set(),
    taxRateBps,
  });

  if (totals.total > MAX_ORDER_TOTAL) {
    throw unprocessable('order-too-large', `An order's total may be at most ${MAX_ORDER_TOTAL} minor units; split it into smaller orders`, { limit: MAX_ORDER_TOTAL });
  }

  const expiresAt = paymentDeadline(ctx, now);
  let payment;
  try {
    payment = await ctx.ports.get<PaymentsPort>(PAYMENTS_PORT).openOrderPayment(tx, {
      orderId,
      userId,
      amount: { amount: totals.total, currency },
      instruction: input.payment,
    });
  } catch (error) {
    if (error instanceof PaymentRefusedError) throw paymentProblem(error);
    throw error;
  }

  const groups: GroupRecord[] = totals.groups.map((g, position) => ({
    id: newId(),
    sellerId: g.sellerId,
    position,
    status: 'pending',
    subtotal: g.subtotal,
    discount: g.discount,
    shipping: g.shipping,
    tax: g.tax,
    total: g.total,
    trackingNumber: null,
    carrier: null,
    shippedAt: null,
    deliveredAt: null,
  }));
  const groupOf = new Map(groups.map((g) => [g.sellerId, g.id]));
  const orderLines: LineRecord[] = priced.map((l, position) => ({
    id: newId(),
    groupId: groupOf.get(l.sellerId)!,
    position,
    productId: l.productId,
    variantId: l.variantId,
    sellerId: l.sellerId,
    name: l.productName,
    sku: l.sku,
    options: l.options ?? {},
    quantity: l.quantity,
    unitPrice: l.unitPrice,
    discount: l.discount,
    lineTotal: l.unitPrice * l.quantity - l.discount,
    weightGrams: l.weightGrams,
  }));

  const order: OrderRecord = {
    id: orderId,
    userId,
    status: 'pending',
    currency,
    subtotal: totals.subtotal,
    discount: totals.discount,
    shipping: totals.shipping,
    tax: totals.tax,
    total: totals.total,
    taxRateBps,
    couponId: quote?.couponId ?? null,
    couponCode: quote?.code ?? null,
    shippingAddress: input.shippingAddress,
    paymentMethod: input.payment.method,
    paymentId: payment.paymentId,
    paymentStatus: payment.status,
    reservationId: orderId,
    reservationState: 'held',
    reservationCount: 1,
    paymentDueAt: expiresAt,
    createdAt: now,
    updatedAt: now,
    lines: orderLines,
    groups,
    history: [{ from: null, to: 'pending', actorId: userId, reason: 'order placed', groupId: null, at: now }],
  };
  await store.insertOrderLast(tx, order);
  // The cart we priced must still be the cart we empty; if it changed meanwhile, all of this rolls back.
  if (prepared.cart) {
    await ctx.ports.get<CartPort>(CART_PORT).clearCart(tx, prepared.cart, () =>
      conflict('cart-changed', 'Your cart changed while checking out; please review it and try again'),
    );
  }
  // Stock last: its rows are the ones other checkouts of the same items queue for, and they stay locked
  // from here until the commit, so the fewer statements after this one the shorter that queue.
  try {
    await ctx.ports.get<StockPort>(STOCK_PORT).reserve(tx, {
      reservationId: orderId,
      lines: priced.map((l) => ({ variantId: l.variantId, quantity: l.quantity })),
      expiresAt,
      reference: orderId,
    });
  } catch (error) {
    if (error instanceof InsufficientStockError) throw insufficientStock(error);
    throw error;
  }

  // Eager: the customer waits for the payment, which starts when payments hears of the order. It is
  // the order's first event, so nothing of its aggregate can be waiting ahead of it.
  await publishOrderEvent(ctx, tx, OrderEvents.OrderPlaced, order, null, { actorId: userId, reason: 'order placed' }, { eager: true });
  // The customer's page asks next whether it is paid yet: this process knows the answer without a read.
  notifyWhenCommitted(ctx, tx, order);
  return order;
}
