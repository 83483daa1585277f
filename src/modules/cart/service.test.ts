import { describe, expect, it } from 'vitest';
import { MAX_PRICE, type PurchasableVariant } from '../catalog/contract.ts';
import { cameBackInStock, MAX_CART_LINES, MAX_LINE_QUANTITY, mergedQuantity, priceLines, quoteLinesOf, subtotalOf, type CartItemRecord } from './service.ts';

const item = (over: Partial<CartItemRecord> = {}): CartItemRecord => ({
  id: 'i1',
  productId: 'p1',
  variantId: 'v1',
  quantity: 2,
  seenUnitPrice: 1000,
  seenCurrency: 'USD',
  name: 'Mug (as added)',
  sku: 'MUG-1',
  options: {},
  ...over,
});

const variant = (over: Partial<PurchasableVariant> = {}): PurchasableVariant => ({
  productId: 'p1',
  variantId: 'v1',
  sellerId: 's1',
  productName: 'Mug',
  sku: 'MUG-1',
  options: { colour: 'blue' },
  price: { amount: 1000, currency: 'USD' },
  purchasable: true,
  weightGrams: null,
  ...over,
});

const read = (items: CartItemRecord[], variants: PurchasableVariant[], stock: Record<string, number> = {}) =>
  priceLines(items, new Map(variants.map((v) => [v.variantId, v])), new Map(Object.entries(stock)), 'USD');

describe('reading a cart line against today’s catalog', () => {
  it('prices a line from the catalog now', () => {
    const [line] = read([item()], [variant()], { v1: 7 });
    expect(line).toMatchObject({ name: 'Mug', unitPrice: { amount: 1000 }, lineTotal: { amount: 2000 }, available: 7, priceChanged: false, unavailable: false });
    expect(line!.previousUnitPrice).toBeUndefined();
  });

  it('says when the price moved since the shopper saw it, and from what', () => {
    const [line] = read([item()], [variant({ price: { amount: 1200, currency: 'USD' } })]);
    expect(line).toMatchObject({ unitPrice: { amount: 1200 }, priceChanged: true, previousUnitPrice: { amount: 1000, currency: 'USD' }, lineTotal: { amount: 2400 } });
  });

  it('keeps a line whose product is gone or not for sale, flagged and out of the totals', () => {
    const lines = read(
      [item(), item({ id: 'i2', variantId: 'v2', productId: 'p2' }), item({ id: 'i3', variantId: 'v3', productId: 'p3' })],
      [variant(), variant({ variantId: 'v2', productId: 'p2', purchasable: false })],
    );
    expect(lines.map((l) => l.unavailable)).toEqual([false, true, true]);
    expect(lines[2]).toMatchObject({ name: 'Mug (as added)', unitPrice: { amount: 1000 }, priceChanged: false });
    expect(subtotalOf(lines, 'USD')).toEqual({ amount: 2000, currency: 'USD' });
    expect(quoteLinesOf(lines).map((l) => l.variantId)).toEqual(['v1']);
  });

  it('treats a line priced in another currency than the cart as unavailable', () => {
    const [line] = read([item()], [variant({ price: { amount: 900, currency: 'EUR' } })]);
    expect(line!.unavailable).toBe(true);
  });

  it('never reports negative stock', () => {
    expect(read([item()], [variant()], { v1: -3 })[0]!.available).toBe(0);
  });
});

describe('the largest cart', () => {
  it("sums exactly in a JSON number: the catalog's highest price, the cart's most lines, each at its largest quantity", () => {
    const ids = Array.from({ length: MAX_CART_LINES }, (_, i) => `v${i}`);
    const lines = read(
      ids.map((id) => item({ id: `i-${id}`, variantId: id, quantity: MAX_LINE_QUANTITY, seenUnitPrice: MAX_PRICE })),
      ids.map((id) => variant({ variantId: id, price: { amount: MAX_PRICE, currency: 'USD' } })),
      Object.fromEntries(ids.map((id) => [id, MAX_LINE_QUANTITY])),
    );
    const subtotal = subtotalOf(lines, 'USD').amount;
    expect(BigInt(subtotal)).toBe(BigInt(MAX_CART_LINES) * BigInt(MAX_LINE_QUANTITY) * BigInt(MAX_PRICE));
    expect(Number.isSafeInteger(subtotal)).toBe(true);
  });
});

describe('merging carts', () => {
  it('adds quantities of the same variant, within the per-line cap', () => {
    expect(mergedQuantity(2, 3)).toBe(5);
    expect(mergedQuantity(MAX_LINE_QUANTITY, 1)).toBe(MAX_LINE_QUANTITY);
  });
});

describe('back in stock', () => {
  const seen = (entries: Record<string, number>) => new Map(Object.entries(entries));

  it('is news when the product had nothing sellable and now has', () => {
    expect(cameBackInStock(seen({ v1: 0 }), 'v1', 4)).toBe(true);
    expect(cameBackInStock(seen({}), 'v1', 4)).toBe(true);
    expect(cameBackInStock(seen({ v1: 0, v2: 0 }), 'v2', 1)).toBe(true);
  });

  it('is not news while another variant was in stock, or when stock merely grows or stays at nothing', () => {
    expect(cameBackInStock(seen({ v1: 3, v2: 0 }), 'v2', 5)).toBe(false);
    expect(cameBackInStock(seen({ v1: 3 }), 'v1', 5)).toBe(false);
    expect(cameBackInStock(seen({ v1: 0 }), 'v1', 0)).toBe(false);
  });
});
