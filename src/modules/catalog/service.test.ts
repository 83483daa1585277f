import { describe, expect, it } from 'vitest';
import { attributeErrors, buildTree, freeSlug, listScope, maySee, moveCreatesCycle, placeholderKey, planVariantChanges, slugify, sniffImageFormat, toMoney } from './service.ts';

describe('catalog rules', () => {
  it('derives readable ASCII slugs and de-duplicates them', () => {
    expect(slugify("Men's Shoes & Boots")).toBe('men-s-shoes-boots');
    expect(slugify('Crème Brûlée')).toBe('creme-brulee');
    expect(slugify('!!!')).toBe('category');
    expect(slugify('x'.repeat(200))).toHaveLength(80);
    expect(freeSlug('shoes', new Set(['shoes', 'shoes-2']))).toBe('shoes-3');
    expect(freeSlug('bags', new Set(['shoes']))).toBe('bags');
  });

  it('nests categories and sorts siblings by name; refuses moves into a category\'s own subtree', () => {
    const tree = buildTree([
      { id: 'c', name: 'Zeta', slug: 'zeta', parentId: 'a' },
      { id: 'a', name: 'Root', slug: 'root', parentId: null },
      { id: 'b', name: 'Alpha', slug: 'alpha', parentId: 'a' },
    ]);
    expect(tree).toEqual([{ id: 'a', name: 'Root', slug: 'root', parentId: null, children: [
      { id: 'b', name: 'Alpha', slug: 'alpha', parentId: 'a', children: [] },
      { id: 'c', name: 'Zeta', slug: 'zeta', parentId: 'a', children: [] },
    ] }]);
    expect(moveCreatesCycle('a', ['a', 'b'])).toBe(true);
    expect(moveCreatesCycle('b', ['c'])).toBe(false);
  });

  it('reads a bare integer price as US cents', () => {
    expect(toMoney(1999)).toEqual({ amount: 1999, currency: 'USD' });
    expect(toMoney({ amount: 500, currency: 'EUR' })).toEqual({ amount: 500, currency: 'EUR' });
  });

  it('shows drafts only to their seller and admins, and lets only them filter by status', () => {
    const seller = { userId: 's', managesAnyProduct: false, writesOwnProducts: true };
    const boss = { userId: 'b', managesAnyProduct: true, writesOwnProducts: true };
    const draft = { sellerId: 's', status: 'draft' as const, sellerActive: true };
    expect(maySee(undefined, draft)).toBe(false);
    expect(maySee({ ...seller, userId: 'other' }, draft)).toBe(false);
    expect(maySee(seller, draft)).toBe(true);
    expect(maySee(boss, draft)).toBe(true);
    expect(maySee(undefined, { ...draft, status: 'active', sellerActive: false })).toBe(false);
    expect(listScope(undefined, {})).toEqual({ kind: 'storefront' });
    expect(listScope(seller, { sellerId: 's', status: 'all' })).toEqual({ kind: 'managed', sellerId: 's', status: undefined });
    expect(listScope(seller, { sellerId: 'x', status: 'draft' })).toEqual({ kind: 'forbidden' });
    expect(listScope(undefined, { status: 'active' })).toEqual({ kind: 'storefront' });
  });

  it('checks variant edits: known ids, at least one left, SKUs unique', () => {
    const existing = [{ id: '1', sku: 'A' }, { id: '2', sku: 'B' }];
    const add = (sku: string) => ({ sku, price: { amount: 1, currency: 'USD' }, options: {}, weightGrams: null });
    expect(planVariantChanges(existing, { add: [add('C')], update: [], remove: ['1'] })).toEqual({ ok: true, newSkus: ['C'] });
    expect(planVariantChanges(existing, { add: [], update: [{ id: '9' }], remove: [] })).toEqual({ ok: false, error: { kind: 'unknown-variant', id: '9' } });
    expect(planVariantChanges(existing, { add: [], update: [], remove: ['1', '2'] })).toEqual({ ok: false, error: { kind: 'no-variants-left' } });
    expect(planVariantChanges(existing, { add: [add('B')], update: [], remove: [] })).toEqual({ ok: false, error: { kind: 'duplicate-sku', skus: ['B'] } });
    expect(planVariantChanges(existing, { add: [add('A')], update: [], remove: ['1'] })).toEqual({ ok: true, newSkus: [] });
  });

  it('knows images by their signatures, not their names', () => {
    expect(sniffImageFormat(Buffer.from([0xff, 0xd8, 0xff, 0xe0]))).toBe('jpeg');
    expect(sniffImageFormat(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0]))).toBe('png');
    expect(sniffImageFormat(Buffer.from('RIFF\x00\x00\x00\x00WEBPVP8 '))).toBe('webp');
    expect(sniffImageFormat(Buffer.from('GIF89a'))).toBeUndefined();
    expect(sniffImageFormat(Buffer.from('RIFF\x00\x00\x00\x00WAVE'))).toBeUndefined();
  });

  it('draws the same placeholder for the same name', () => {
    expect(placeholderKey('Nimbus Nova Phone')).toBe(placeholderKey('Nimbus Nova Phone'));
    expect(placeholderKey('nimbus nova')).toMatch(/^placeholder\/NN\/[0-9a-f]{6}-\{size\}\.webp$/);
    expect(placeholderKey('???')).toMatch(/^placeholder\/B\//);
  });

  it('accepts flat attribute values only', () => {
    expect(attributeErrors({ a: 'x', b: 2, c: false })).toEqual([]);
    expect(attributeErrors({ a: { b: 1 }, 'x/y': [1], long: 'x'.repeat(1001) }).map((e) => e.path)).toEqual(['/attributes/a', '/attributes/x~1y', '/attributes/long']);
  });
});
