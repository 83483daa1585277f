import type { OrderStatus } from './contract.ts';

/**
 * Order rules as plain functions over data: the lifecycle (a transition table with guards), who may
 * cancel, and how totals, shipping and tax are computed. Integer minor units throughout.
 */

// ---------------------------------------------------------------- lifecycle

export type PaymentMethodKind = 'card' | 'cod' | 'store_credit';

export interface OrderFacts {
  status: OrderStatus;
  paymentMethod: PaymentMethodKind;
}

interface Transition {
  /** Why the move makes sense, for the reader; the history row carries the concrete reason. */
  when: string;
  guard?: (order: OrderFacts) => string | null;
}

/**
 * Every status change an order can make. Anything not listed is refused with 409 invalid-transition.
 * Cash on delivery skips `paid`: it goes pending -> processing once accepted and is captured at the door.
 */
export const TRANSITIONS: Record<OrderStatus, Partial<Record<OrderStatus, Transition>>> = {
  pending: {
    paid: { when: 'the payment was captured' },
    payment_failed: { when: 'the payment was declined or could not be made' },
    processing: {
      when: 'a cash-on-delivery order was accepted',
      guard: (o) => (o.paymentMethod === 'cod' ? null : 'only cash-on-delivery orders are fulfilled before payment'),
    },
    cancelled: { when: 'the customer or an admin cancelled, or the payment did not arrive in time' },
  },
  payment_failed: {
    paid: { when: 'a retried payment was captured' },
    payment_failed: { when: 'a retried payment failed too' },
    cancelled: { when: 'the customer or an admin cancelled, or the retry window closed' },
  },
  paid: {
    processing: { when: 'fulfilment started (a first parcel shipped)' },
    cancelled: { when: 'cancelled before shipment; the payment is refunded' },
    refunded: { when: 'an admin refunded everything before shipment' },
  },
  processing: {
    shipped: { when: 'every parcel shipped' },
    cancelled: { when: 'cancelled during fulfilment; the payment is refunded' },
    refunded: { when: 'an admin refunded everything' },
  },
  shipped: {
    delivered: { when: 'every parcel was delivered' },
    cancelled: { when: 'an admin cancelled a parcel in transit' },
    refunded: { when: 'an admin refunded everything' },
  },
  delivered: {
    refunded: { when: 'a full refund after delivery' },
  },
  cancelled: {},
  refunded: {},
};

export class InvalidTransitionError extends Error {
  constructor(
    readonly from: OrderStatus,
    readonly to: OrderStatus,
    readonly why: string,
  ) {
    super(`An order cannot go from ${from} to ${to}: ${why}`);
  }
}

/** Throws InvalidTransitionError unless the table allows `order` to move to `to` now. */
export function assertTransition(order: OrderFacts, to: OrderStatus): void {
  const transition = TRANSITIONS[order.status][to];
  if (!transition) throw new InvalidTransitionError(order.status, to, `not a step of the order lifecycle`);
  const refusal = transition.guard?.(order);
  if (refusal) throw new InvalidTransitionError(order.status, to, refusal);
}

export function canTransition(order: OrderFacts, to: OrderStatus): boolean {
  const transition = TRANSITIONS[order.status][to];
  return !!transition && !transition.guard?.(order);
}

/**
 * The owner may cancel until the first parcel ships; an admin until delivery. Returns why not, or null.
 */
export function cancellationRefusal(
  order: OrderFacts & { anyGroupShipped: boolean },
  by: 'owner' | 'admin',
): string | null {
  if (!canTransition(order, 'cancelled')) return `a ${order.status} order cannot be cancelled`;
  if (by === 'owner' && (order.status === 'shipped' || order.anyGroupShipped)) {
    return 'the order has shipped; ask support to cancel it';
  }
  return null;
}

/** Statuses in which the order's payment is (or will be, for cash on delivery) the merchant's money. */
export const SETTLED_STATUSES: readonly OrderStatus[] = ['paid', 'processing', 'shipped', 'delivered'];

// ---------------------------------------------------------------- money

/** round-half-up(numerator / denominator) for non-negative integers, exact for any size. */
export function roundHalfUp(numerator: bigint, denominator: bigint): number {
  if (numerator < 0n || denominator <= 0n) throw new RangeError('roundHalfUp takes a non-negative numerator and a positive denominator');
  return Number((numerator * 2n + denominator) / (denominator * 2n));
}

/**
 * Splits `total` over `weights` in proportion, in whole units that sum exactly to `total` (largest
 * remainder; ties go to the earlier weight). All-zero weights split nothing but the first share.
 */
export function allocateProportionally(total: number, weights: readonly number[]): number[] {
  if (weights.length === 0) return [];
  const sum = weights.reduce((a, b) => a + b, 0);
  if (sum === 0) return weights.map((_, i) => (i === 0 ? total : 0));
  const exact = weights.map((w) => (BigInt(total) * BigInt(w)));
  const shares = exact.map((e) => Number(e / BigInt(sum)));
  let left = total - shares.reduce((a, b) => a + b, 0);
  const byRemainder = exact
    .map((e, i) => ({ i, remainder: e % BigInt(sum) }))
    .sort((a, b) => (a.remainder === b.remainder ? a.i - b.i : a.remainder > b.remainder ? -1 : 1));
  for (const { i } of byRemainder) {
    if (left <= 0) break;
    shares[i]! += 1;
    left -= 1;
  }
  return shares;
}

export const BASIS_POINTS = 10_000n;

/**
 * Tax on a tax-exclusive amount: round-half-up(taxable × rate). Taxable is what the customer pays
 * before tax: subtotal − discount + shipping (shipping is taxed like the goods it carries).
 */
export function taxOn(taxable: number, rateBps: number): number {
  return roundHalfUp(BigInt(Math.max(0, taxable)) * BigInt(rateBps), BASIS_POINTS);
}

export interface PricedLine {
  sellerId: string;
  variantId: string;
  unitPrice: number;
  quantity: number;
  /** Coupon discount allocated to this line (never above its subtotal). */
  discount: number;
}

export interface GroupTotals {
  sellerId: string;
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
}

export interface OrderTotals {
  groups: GroupTotals[];
  subtotal: number;
  discount: number;
  shipping: number;
  tax: number;
  total: number;
}

/**
 * Totals of an order, per seller (fulfilment group) and overall. Tax is computed once on the order's
 * taxable amount (so the order shows exactly round-half-up(taxable × rate)) and then spread over the
 * groups in proportion to their taxable amounts, so the groups' totals add up to the order's.
 */
export function computeTotals(input: {
  lines: readonly PricedLine[];
  /** Shipping per seller, before any free-shipping coupon. */
  shippingBySeller: ReadonlyMap<string, number>;
  /** Sellers whose shipping a coupon waives ('all' for a platform-wide free-shipping coupon). */
  freeShippingFor: 'all' | ReadonlySet<string>;
  taxRateBps: number;
}): OrderTotals {
  const sellers: string[] = [];
  for (const line of input.lines) if (!sellers.includes(line.sellerId)) sellers.push(line.sellerId);

  const groups = sellers.map((sellerId) => {
    const lines = input.lines.filter((l) => l.sellerId === sellerId);
    const subtotal = lines.reduce((sum, l) => sum + l.unitPrice * l.quantity, 0);
    const discount = lines.reduce((sum, l) => sum + Math.min(l.discount, l.unitPrice * l.quantity), 0);
    const waived = input.freeShippingFor === 'all' || input.freeShippingFor.has(sellerId);
    const shipping = waived ? 0 : (input.shippingBySeller.get(sellerId) ?? 0);
    return { sellerId, subtotal, discount, shipping, tax: 0, total: 0 };
  });

  const taxables = groups.map((g) => g.subtotal - g.discount + g.shipping);
  const taxable = taxables.reduce((a, b) => a + b, 0);
  const tax = taxOn(taxable, input.taxRateBps);
  const taxShares = allocateProportionally(tax, taxables);
  groups.forEach((g, i) => {
    g.tax = taxShares[i]!;
    g.total = taxables[i]! + g.tax;
  });

  const sum = (pick: (g: GroupTotals) => number) => groups.reduce((a, g) => a + pick(g), 0);
  return {
    groups,
    subtotal: sum((g) => g.subtotal),
    discount: sum((g) => g.discount),
    shipping: sum((g) => g.shipping),
    tax,
    total: taxable + tax,
  };
}

/** Merges lines naming the same variant, keeping first-seen order; the quantity is the sum. */
export function mergeLines<T extends { variantId: string; quantity: number }>(lines: readonly T[]): T[] {
  const merged = new Map<string, T>();
  for (const line of lines) {
    const seen = merged.get(line.variantId);
    if (seen) merged.set(line.variantId, { ...seen, quantity: seen.quantity + line.quantity });
    else merged.set(line.variantId, { ...line });
  }
  return [...merged.values()];
}

/** Total weight of a seller's parcel; lines without a weight count as 0 g. */
export function parcelWeight(lines: readonly { weightGrams: number | null; quantity: number }[]): number {
  return lines.reduce((sum, l) => sum + (l.weightGrams ?? 0) * l.quantity, 0);
}
