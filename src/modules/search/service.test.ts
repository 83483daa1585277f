import { describe, expect, it } from 'vitest';
import { encodeCursor } from '../../kernel/http/schemas.ts';
import { productSnapshot } from '../../../test/support/search.ts';
import {
  canonicalQuery,
  chooseCompletion,
  chooseCorrections,
  decodeSearchCursor,
  documentFromSnapshot,
  editDistance,
  encodeSearchCursor,
  likePrefix,
  normalizeText,
  priceBucket,
  queryWords,
} from './service.ts';

/** The rules behind search, as plain functions (the HTTP tests show them from a shopper's side). */
describe('search rules', () => {
  it('counts a swap of neighbouring letters as one edit', () => {
    expect(editDistance('iphnoe', 'iphone')).toBe(1);
    expect(editDistance('iphnoe', 'phone')).toBe(2);
    expect(editDistance('headphnes', 'headphones')).toBe(1);
    expect(editDistance('same', 'same')).toBe(0);
  });

  it('corrects to the closest known words only, never short words or numbers', () => {
    expect(chooseCorrections('iphnoe', ['iphones', 'phone', 'iphone', 'ipad'])).toEqual(['iphone']);
    expect(chooseCorrections('tv', ['tvs'])).toEqual([]);
    expect(chooseCorrections('4090', ['4080'])).toEqual([]);
    expect(chooseCorrections('qzxvbnm', ['iphone'])).toEqual([]);
  });

  it('completes a misspelt beginning of a word', () => {
    expect(chooseCompletion('wirless', ['wire', 'wireless', 'wild'])).toBe('wireless');
    expect(chooseCompletion('spaek', ['speaker', 'sparrow'])).toBe('speaker');
    expect(chooseCompletion('zzzz', ['speaker'])).toBeUndefined();
  });

  it('keeps the words of a query and drops what is not a word', () => {
    expect(normalizeText('  iphone\u0000 15\n pro ')).toBe('iphone 15 pro');
    expect(normalizeText('\u0000\t')).toBeUndefined();
    expect(queryWords("iPhone' OR '1'='1 & (case)")).toEqual(['iphone', 'or', '1', 'case']);
    expect(canonicalQuery('  Bluetooth  speaker!! ')).toBe('bluetooth speaker');
    expect(canonicalQuery('!')).toBeUndefined();
  });

  it('names price buckets and the filter bounds that select exactly each', () => {
    expect(priceBucket(0)).toEqual({ value: '0-2500', minPrice: 0, maxPrice: 2499 });
    expect(priceBucket(1)).toEqual({ value: '2500-5000', minPrice: 2500, maxPrice: 4999 });
    expect(priceBucket(6)).toEqual({ value: '100000+', minPrice: 100000 });
  });

  it('builds a document that shows the cheapest variant and hides what shoppers may not see', () => {
    const doc = documentFromSnapshot(productSnapshot({ name: 'Desk Lamp', brand: ' Acme ', prices: [4500, 2500, 9900] }));
    expect(doc).toMatchObject({ minPrice: 2500, maxPrice: 9900, currency: 'USD', brand: 'Acme', visible: true });
    expect(doc.terms).toEqual(expect.arrayContaining(['desk', 'lamp', 'acme']));
    expect(documentFromSnapshot(productSnapshot({ name: 'A', status: 'draft' })).visible).toBe(false);
    expect(documentFromSnapshot(productSnapshot({ name: 'A', sellerActive: false })).visible).toBe(false);
    expect(documentFromSnapshot(productSnapshot({ name: 'A', prices: [] })).visible).toBe(false);
  });

  it('reads back the cursors it issues, and refuses others', () => {
    const key = { sort: 'rating' as const, average: 4.5, count: 10, id: 'p1' };
    expect(decodeSearchCursor(encodeSearchCursor(key), 'rating')).toEqual(key);
    expect(() => decodeSearchCursor(encodeSearchCursor(key), 'newest')).toThrow();
    expect(() => decodeSearchCursor(encodeCursor(['price_asc', 1.5, 'p']), 'price_asc')).toThrow();
    expect(() => decodeSearchCursor('not-a-cursor', 'newest')).toThrow();
  });

  it('escapes LIKE wildcards in a prefix', () => {
    expect(likePrefix('50%_off\\')).toBe('50\\%\\_off\\\\%');
  });
});
