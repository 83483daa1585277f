import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import {
  categoryCreated,
  categorySnapshot,
  namesOf,
  productCreated,
  productSnapshot,
  publishAndSettle,
  search,
  stockChanged,
  stockOf,
  eventually,
} from '../../../test/support/search.ts';
import type { ProductSnapshot } from '../catalog/contract.ts';
import { searchModule } from './index.ts';
import { postgresSearchIndex } from './store.ts';

/**
 * A small catalog that every test reads and none changes (freshness has its own file):
 *
 *   Electronics > Phones > Smartphones   iPhone 15, iPhone 15 Pro, Galaxy S24
 *   Electronics > Phones                 Phone Case (its description names the iPhone 15)
 *   Electronics > Audio                  Wireless Headphones, Bluetooth Speaker
 *   Home > Kitchen                       Chef Knife, Coffee Grinder
 *   Fashion                              Leather Wallet, Card Holder (its description says wallet thrice)
 *   hidden                               a draft, an archived product, one of a suspended seller
 */
describe('search', () => {
  let t: TestApp;
  const electronics = categorySnapshot('Electronics');
  const phones = categorySnapshot('Phones', electronics);
  const smartphones = categorySnapshot('Smartphones', phones);
  const audio = categorySnapshot('Audio', electronics);
  const home = categorySnapshot('Home');
  const kitchen = categorySnapshot('Kitchen', home);
  const fashion = categorySnapshot('Fashion');

  const warranty = 'Two year warranty.';
  const p = {
    iphone: productSnapshot({ name: 'iPhone 15', brand: 'Apple', category: smartphones, prices: [79900, 89900], description: `The latest smartphone. ${warranty}` }),
    iphonePro: productSnapshot({ name: 'iPhone 15 Pro', brand: 'Apple', category: smartphones, prices: [99900], description: `Titanium. ${warranty}` }),
    galaxy: productSnapshot({ name: 'Galaxy S24', brand: 'Samsung', category: smartphones, prices: [69900], description: `Android phone. ${warranty}` }),
    phoneCase: productSnapshot({ name: 'Phone Case', brand: 'Spigen', category: phones, prices: [1999], description: `Protective case for the iPhone 15. ${warranty}` }),
    headphones: productSnapshot({ name: 'Wireless Headphones', brand: 'Sony', category: audio, prices: [14999], description: `Noise cancelling. ${warranty}` }),
    speaker: productSnapshot({ name: 'Bluetooth Speaker', brand: 'Sony', category: audio, prices: [4999], description: `Loud and small. ${warranty}` }),
    knife: productSnapshot({ name: 'Chef Knife', brand: 'Wusthof', category: kitchen, prices: [8999], description: 'Forged steel' }),
    grinder: productSnapshot({ name: 'Coffee Grinder', brand: null, category: kitchen, prices: [3499], description: 'Burr grinder' }),
    wallet: productSnapshot({ name: 'Leather Wallet', brand: 'Fossil', category: fashion, prices: [2999], description: 'Full grain leather' }),
    cardHolder: productSnapshot({
      name: 'Card Holder',
      brand: 'Fossil',
      category: fashion,
      prices: [1499],
      description: 'A slim wallet alternative: wallet sized, fits in any wallet',
    }),
  };
  const hidden = {
    draft: productSnapshot({ name: 'Draft Phone', brand: 'Apple', category: smartphones, status: 'draft' }),
    archived: productSnapshot({ name: 'Archived Phone', brand: 'Apple', category: smartphones, status: 'archived' }),
    suspended: productSnapshot({ name: 'Suspended Seller Phone', brand: 'Apple', category: smartphones, sellerActive: false }),
  };
  const all = Object.values(p);
  const byName = new Map(all.map((product) => [product.name, product]));
  const ids = (products: ProductSnapshot[]) => products.map((x) => x.id).sort();

  beforeAll(async () => {
    t = await startTestApp({}, { modules: [searchModule] });
    await publishAndSettle(t, ...[electronics, phones, smartphones, audio, home, kitchen, fashion].map(categoryCreated));
    await publishAndSettle(t, ...[...all, ...Object.values(hidden)].map(productCreated));
    await publishAndSettle(
      t,
      stockChanged(stockOf(p.iphone, 5)),
      stockChanged(stockOf(p.iphone, 2, 1)),
      stockChanged(stockOf(p.galaxy, 0)),
      stockChanged(stockOf(p.headphones, 3)),
      stockChanged(stockOf(p.knife, 1)),
    );
    // Ratings come from reviews, which has no events yet; the index takes them directly.
    await t.app.ctx.transaction(async (tx) => {
      await postgresSearchIndex.setRating(tx, p.iphone.id, { average: 4.5, count: 10 });
      await postgresSearchIndex.setRating(tx, p.iphonePro.id, { average: 4.8, count: 3 });
      await postgresSearchIndex.setRating(tx, p.galaxy.id, { average: 4.5, count: 20 });
      await postgresSearchIndex.setRating(tx, p.headphones.id, { average: 3.9, count: 50 });
    });
  });
  afterAll(() => t.close());

  describe('full text', () => {
    it('finds products by words of their name, brand or description, and shows what a shopper needs', async () => {
      const res = await search(t, { q: 'iphone' });
      expect(res.status).toBe(200);
      expect(namesOf(res.body).sort()).toEqual(['Phone Case', 'iPhone 15', 'iPhone 15 Pro']);
      expect(res.body.total).toBe(3);
      const iphone = res.body.items.find((i: { name: string }) => i.name === 'iPhone 15');
      expect(iphone).toEqual({
        id: p.iphone.id,
        name: 'iPhone 15',
        brand: 'Apple',
        price: { amount: 79900, currency: 'USD' },
        rating: { average: 4.5, count: 10 },
        image: p.iphone.images[0]!.url,
        categoryId: smartphones.id,
        sellerId: p.iphone.sellerId,
        available: 7,
        inStock: true,
      });
      expect(namesOf(await search(t, { q: 'samsung' }).then((r) => r.body))).toEqual(['Galaxy S24']);
    });

    it('ranks a match in the name above a match only in the description', async () => {
      const iphone = await search(t, { q: 'iphone' });
      expect(namesOf(iphone.body).at(-1)).toBe('Phone Case');
      // The card holder says "wallet" three times in its description; the wallet says it once, in its name.
      const wallet = await search(t, { q: 'wallet' });
      expect(namesOf(wallet.body)).toEqual(['Leather Wallet', 'Card Holder']);
    });

    it('stems words, so a plural finds the singular', async () => {
      expect(namesOf((await search(t, { q: 'knives' })).body)).toEqual(['Chef Knife']);
      expect(namesOf((await search(t, { q: 'speakers' })).body)).toEqual(['Bluetooth Speaker']);
    });

    it('tolerates typos: "iphnoe" finds the iPhones and says what it searched for instead', async () => {
      const res = await search(t, { q: 'iphnoe' });
      expect(res.status).toBe(200);
      expect(namesOf(res.body).slice(0, 2).sort()).toEqual(['iPhone 15', 'iPhone 15 Pro']);
      expect(res.body.corrections).toEqual({ iphnoe: ['iphone'] });
      expect(namesOf((await search(t, { q: 'wireles headphnes' })).body)).toEqual(['Wireless Headphones']);
      expect(namesOf((await search(t, { q: 'galaxi' })).body)).toEqual(['Galaxy S24']);
    });

    it('does not bend a word it knows, and finds nothing for gibberish', async () => {
      const res = await search(t, { q: 'qzxvbnm' });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ items: [], total: 0, nextCursor: null });
      expect(res.body.corrections).toBeUndefined();
    });

    it('never shows drafts, archived products or products of suspended sellers', async () => {
      const res = await search(t, { q: 'phone', limit: 100 });
      for (const name of ['Draft Phone', 'Archived Phone', 'Suspended Seller Phone']) expect(namesOf(res.body)).not.toContain(name);
      const browse = await search(t, { limit: 100 });
      expect(browse.body.total).toBe(all.length);
      expect(ids(browse.body.items)).toEqual(ids(all));
    });
  });

  describe('filters', () => {
    it('filters by category, including every category below it', async () => {
      const inPhones = await search(t, { categoryId: phones.id });
      expect(ids(inPhones.body.items)).toEqual(ids([p.iphone, p.iphonePro, p.galaxy, p.phoneCase]));
      expect(inPhones.body.total).toBe(4);
      const inElectronics = await search(t, { categoryId: electronics.id });
      expect(inElectronics.body.total).toBe(6);
      const unknown = await search(t, { categoryId: "no-such-category' or '1'='1" });
      expect(unknown.status).toBe(200);
      expect(unknown.body.total).toBe(0);
    });

    it('filters by brand, case-insensitively, repeated or comma-separated', async () => {
      expect(ids((await search(t, { brand: 'apple' })).body.items)).toEqual(ids([p.iphone, p.iphonePro]));
      expect(ids((await search(t, { brand: ['Apple', 'SONY'] })).body.items)).toEqual(ids([p.iphone, p.iphonePro, p.headphones, p.speaker]));
      expect(ids((await search(t, { brand: 'apple,sony' })).body.items)).toEqual(ids([p.iphone, p.iphonePro, p.headphones, p.speaker]));
    });

    it('filters by the shown price, both bounds inclusive, in minor units', async () => {
      const res = await search(t, { minPrice: 4999, maxPrice: 14999 });
      expect(ids(res.body.items)).toEqual(ids([p.speaker, p.knife, p.headphones]));
      // The iPhone's cheapest variant is 799.00: that is its price, not the 899.00 variant.
      expect(namesOf((await search(t, { minPrice: 80000 })).body)).toEqual(['iPhone 15 Pro']);
      expect(ids((await search(t, { maxPrice: 1999 })).body.items)).toEqual(ids([p.cardHolder, p.phoneCase]));
    });

    it('filters by minimum rating', async () => {
      expect(ids((await search(t, { minRating: 4.5 })).body.items)).toEqual(ids([p.iphone, p.iphonePro, p.galaxy]));
      expect(ids((await search(t, { minRating: 3.9 })).body.items)).toEqual(ids([p.iphone, p.iphonePro, p.galaxy, p.headphones]));
    });

    it('filters to products with stock available in any variant', async () => {
      const res = await search(t, { inStock: true });
      expect(ids(res.body.items)).toEqual(ids([p.iphone, p.headphones, p.knife]));
      expect(res.body.items.every((i: { inStock: boolean; available: number }) => i.inStock && i.available > 0)).toBe(true);
      expect((await search(t, { inStock: false })).body.total).toBe(all.length);
    });

    it('combines filters and text', async () => {
      const res = await search(t, { categoryId: electronics.id, brand: 'sony', maxPrice: 10000 });
      expect(namesOf(res.body)).toEqual(['Bluetooth Speaker']);
      const withText = await search(t, { q: 'warranty', categoryId: smartphones.id, minRating: 4.5, inStock: true });
      expect(namesOf(withText.body)).toEqual(['iPhone 15']);
      expect(withText.body.total).toBe(1);
    });
  });

  describe('facets', () => {
    it('counts top-level categories, brands and price buckets over everything when nothing is selected', async () => {
      const { facets, total } = (await search(t)).body;
      expect(total).toBe(10);
      expect(facets.category).toEqual([
        { value: electronics.id, label: 'Electronics', count: 6 },
        { value: fashion.id, label: 'Fashion', count: 2 },
        { value: home.id, label: 'Home', count: 2 },
      ]);
      expect(facets.brand).toEqual([
        { value: 'Apple', count: 2 },
        { value: 'Fossil', count: 2 },
        { value: 'Sony', count: 2 },
        { value: 'Samsung', count: 1 },
        { value: 'Spigen', count: 1 },
        { value: 'Wusthof', count: 1 },
      ]);
      expect(facets.price).toEqual([
        { value: '0-2500', minPrice: 0, maxPrice: 2499, count: 2 },
        { value: '2500-5000', minPrice: 2500, maxPrice: 4999, count: 3 },
        { value: '5000-10000', minPrice: 5000, maxPrice: 9999, count: 1 },
        { value: '10000-25000', minPrice: 10000, maxPrice: 24999, count: 1 },
        { value: '50000-100000', minPrice: 50000, maxPrice: 99999, count: 3 },
      ]);
    });

    it('shows the children of the selected category, and counts only what the filters let through', async () => {
      const inElectronics = (await search(t, { categoryId: electronics.id })).body.facets;
      expect(inElectronics.category).toEqual([
        { value: phones.id, label: 'Phones', count: 4 },
        { value: audio.id, label: 'Audio', count: 2 },
      ]);
      expect(inElectronics.brand).toEqual([
        { value: 'Apple', count: 2 },
        { value: 'Sony', count: 2 },
        { value: 'Samsung', count: 1 },
        { value: 'Spigen', count: 1 },
      ]);
      const cheapPhones = (await search(t, { categoryId: phones.id, maxPrice: 80000 })).body;
      expect(cheapPhones.total).toBe(3);
      expect(cheapPhones.facets.category).toEqual([{ value: smartphones.id, label: 'Smartphones', count: 2 }]);
      expect(cheapPhones.facets.price).toEqual([
        { value: '0-2500', minPrice: 0, maxPrice: 2499, count: 1 },
        { value: '50000-100000', minPrice: 50000, maxPrice: 99999, count: 2 },
      ]);
    });

    it('gives bucket bounds that select exactly the bucket it counted', async () => {
      const { facets } = (await search(t)).body;
      for (const bucket of facets.price) {
        const res = await search(t, { minPrice: bucket.minPrice, maxPrice: bucket.maxPrice });
        expect(res.body.total).toBe(bucket.count);
      }
    });
  });

  describe('sorting and pagination', () => {
    it('sorts by price both ways, by lowest variant price', async () => {
      const ascending = namesOf((await search(t, { sort: 'price_asc', limit: 100 })).body);
      expect(ascending).toEqual([
        'Card Holder', 'Phone Case', 'Leather Wallet', 'Coffee Grinder', 'Bluetooth Speaker',
        'Chef Knife', 'Wireless Headphones', 'Galaxy S24', 'iPhone 15', 'iPhone 15 Pro',
      ]);
      expect(namesOf((await search(t, { sort: 'price_desc', limit: 100 })).body)).toEqual([...ascending].reverse());
    });

    it('sorts by rating, more ratings first on a tie, unrated last', async () => {
      const names = namesOf((await search(t, { sort: 'rating', limit: 100 })).body);
      expect(names.slice(0, 4)).toEqual(['iPhone 15 Pro', 'Galaxy S24', 'iPhone 15', 'Wireless Headphones']);
      expect(names).toHaveLength(10);
    });

    it('sorts newest first, and browsing without text does the same', async () => {
      const expected = [...all].sort((a, b) => b.createdAt.localeCompare(a.createdAt)).map((x) => x.name);
      expect(namesOf((await search(t, { sort: 'newest', limit: 100 })).body)).toEqual(expected);
      expect(namesOf((await search(t, { limit: 100 })).body)).toEqual(expected);
    });

    it('sorts by relevance when there is text', async () => {
      const names = namesOf((await search(t, { q: 'iphone 15', sort: 'relevance' })).body);
      expect(names.slice(0, 2).sort()).toEqual(['iPhone 15', 'iPhone 15 Pro']);
      expect(names[2]).toBe('Phone Case');
    });

    it.each([
      ['relevance', { q: 'warranty' }, 6],
      ['relevance', {}, 10],
      ['price_asc', {}, 10],
      ['price_desc', { categoryId: electronics.id }, 6],
      ['rating', {}, 10],
      ['newest', {}, 10],
    ] as const)('pages through sort=%s %j without repeating or skipping an item', async (sort, filters, expectedTotal) => {
      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const res = await search(t, { ...filters, sort, limit: 3, cursor });
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(expectedTotal);
        expect(res.body.items.length).toBeLessThanOrEqual(3);
        seen.push(...res.body.items.map((i: { id: string }) => i.id));
        cursor = res.body.nextCursor ?? undefined;
        pages++;
      } while (cursor && pages < 10);
      expect(seen).toHaveLength(expectedTotal);
      expect(new Set(seen).size).toBe(expectedTotal);
      expect(pages).toBe(Math.ceil(expectedTotal / 3));
    });

    it('pages a corrected (typo) query the same way', async () => {
      const first = await search(t, { q: 'iphnoe', limit: 1 });
      const second = await search(t, { q: 'iphnoe', limit: 1, cursor: first.body.nextCursor });
      expect(second.status).toBe(200);
      expect(second.body.items[0].id).not.toBe(first.body.items[0].id);
      expect(second.body.total).toBe(first.body.total);
    });
  });

  describe('suggest', () => {
    it('completes product names from a prefix, case-insensitively, even from two letters', async () => {
      const res = await t.get('/api/v1/suggest?prefix=iph');
      expect(res.status).toBe(200);
      expect(res.body.suggestions).toEqual(
        expect.arrayContaining([
          { text: 'iPhone 15', productId: p.iphone.id },
          { text: 'iPhone 15 Pro', productId: p.iphonePro.id },
        ]),
      );
      const short = await t.get('/api/v1/suggest?prefix=Ip');
      expect(short.body.suggestions.map((s: { text: string }) => s.text)).toEqual(expect.arrayContaining(['iPhone 15', 'iPhone 15 Pro']));
      const inner = await t.get('/api/v1/suggest?prefix=headph');
      expect(inner.body.suggestions).toEqual([{ text: 'Wireless Headphones', productId: p.headphones.id }]);
      expect(byName.get('Wireless Headphones')).toBeDefined();
    });

    it('completes a misspelt word from the words it knows', async () => {
      const res = await t.get('/api/v1/suggest?prefix=wirless');
      expect(res.body.suggestions).toEqual([{ text: 'Wireless Headphones', productId: p.headphones.id }]);
      const later = await t.get(`/api/v1/suggest?${new URLSearchParams({ prefix: 'bluetooth spaek' })}`);
      expect(later.body.suggestions).toContainEqual({ text: 'Bluetooth Speaker', productId: p.speaker.id });
    });

    it('never suggests hidden products, and honours the limit', async () => {
      const res = await t.get('/api/v1/suggest?prefix=dra');
      expect(res.body.suggestions).toEqual([]);
      const limited = await t.get('/api/v1/suggest?prefix=i&limit=1');
      expect(limited.body.suggestions).toHaveLength(1);
    });

    it('suggests searches other shoppers ran that found something, before product names', async () => {
      for (let i = 0; i < 3; i++) expect((await search(t, { q: 'Bluetooth  speaker!' })).body.total).toBe(1);
      for (let i = 0; i < 3; i++) expect((await search(t, { q: 'blurgh' })).body.total).toBe(0);
      const suggestions = await eventually(async () => {
        const res = await t.get('/api/v1/suggest?prefix=blu');
        const list = res.body.suggestions as { text: string; productId?: string }[];
        return list.some((s) => s.text === 'bluetooth speaker' && !s.productId) ? list : undefined;
      }, 'the popular search to be suggested');
      expect(suggestions[0]).toEqual({ text: 'bluetooth speaker' });
      expect(suggestions).toContainEqual({ text: 'Bluetooth Speaker', productId: p.speaker.id });
      expect(suggestions.map((s) => s.text)).not.toContain('blurgh');
    });

    it('treats wildcards in the prefix as text', async () => {
      for (const prefix of ['%', '_', '\\', "'", '%25%25', 'a%']) {
        const res = await t.get(`/api/v1/suggest?prefix=${encodeURIComponent(prefix)}`);
        expect(res.status).toBe(200);
        expect(res.body.suggestions).toEqual([]);
      }
      expect((await t.get('/api/v1/suggest')).status).toBe(400);
      expect((await t.get(`/api/v1/suggest?prefix=${'a'.repeat(101)}`)).status).toBe(400);
    });
  });

  describe('hostile input', () => {
    const hostile = [
      "'; drop table search.documents; --",
      "iphone' or '1'='1",
      '\\',
      '\\\\\\',
      '"',
      '"unclosed quote',
      'a & b | !c:* (d) <-> e',
      '&|!:*()',
      '!!!',
      '-',
      'or',
      'the',
      '%_%',
      '$1 $$ ::text',
      '<script>alert(1)</script>',
      'iphone\u0000x',
      '\u0000',
      '\u202e\ud83d\ude00 ☃ 日本語',
      '\ud800',
      'a'.repeat(200),
      'iphone '.repeat(28),
    ];

    it.each(hostile.map((q) => [q.length > 40 ? `${q.slice(0, 20)}… (${q.length} chars)` : JSON.stringify(q), q]))(
      'answers q=%s as plain text, never a 500',
      async (_label, q) => {
        const res = await search(t, { q });
        expect(res.status).toBe(200);
        expect(res.body.total).toBeGreaterThanOrEqual(0);
        const suggest = await t.get(`/api/v1/suggest?${new URLSearchParams({ prefix: q.slice(0, 100) })}`);
        expect(suggest.status).toBe(200);
      },
    );

    it('answers malformed percent-encoding without a 500', async () => {
      for (const raw of ['%FF', '%ED%A0%80', '%E0%A4%A', '%', '%%00', 'iphone%00']) {
        const res = await t.get(`/api/v1/search?q=${raw}`);
        expect(res.status === 200 || res.status === 400).toBe(true);
        expect((await t.get(`/api/v1/suggest?prefix=${raw}`)).status).toBeLessThan(500);
      }
    });

    it('still finds the product when the query carries SQL-looking noise', async () => {
      expect(namesOf((await search(t, { q: "iphone' or '1'='1" })).body)).not.toContain('Chef Knife');
      expect(namesOf((await search(t, { q: 'galaxy & (s24)' })).body)).toEqual(['Galaxy S24']);
    });

    it('refuses an over-long query with 400 problem+json', async () => {
      const res = await search(t, { q: 'x'.repeat(10_000) });
      expect(res.status).toBe(400);
      expect(res.headers['content-type']).toContain('application/problem+json');
      expect((await search(t, { q: 'x'.repeat(201) })).status).toBe(400);
    });

    it.each([
      ['a negative price', { minPrice: -1 }],
      ['a price that is not a number', { maxPrice: 'cheap' }],
      ['a fractional price', { minPrice: 10.5 }],
      ['minPrice above maxPrice', { minPrice: 500, maxPrice: 100 }],
      ['a rating above 5', { minRating: 6 }],
      ['an unknown sort', { sort: 'random' }],
      ['a limit over 100', { limit: 101 }],
      ['a limit of 0', { limit: 0 }],
      ['inStock that is not a boolean', { inStock: 'maybe' }],
      ['a cursor that is not one', { cursor: "'; drop table x; --" }],
      ['a cursor for another sort', { cursor: Buffer.from(JSON.stringify(['price_asc', 1, 'x'])).toString('base64url'), sort: 'newest' }],
      ['a forged cursor with a NUL', { cursor: Buffer.from(JSON.stringify(['price_asc', 1, 'a\u0000'])).toString('base64url'), sort: 'price_asc' }],
      ['a forged cursor with a bad date', { cursor: Buffer.from(JSON.stringify(['newest', 'yesterday', 'x'])).toString('base64url') }],
      ['too many brands', { brand: Array.from({ length: 21 }, (_, i) => `b${i}`) }],
    ] as const)('refuses %s with 400', async (_label, params) => {
      const res = await search(t, params as Record<string, string>);
      expect(res.status).toBe(400);
      expect(res.body.status).toBe(400);
    });

    it('treats hostile brand and category values as values that match nothing', async () => {
      for (const value of ["' or 1=1 --", '\\', '%', 'x\u0000y']) {
        const res = await search(t, { brand: value, categoryId: value });
        expect(res.status).toBe(200);
        expect(res.body.total).toBe(0);
      }
      // A value that is nothing but control characters is no filter at all.
      expect((await search(t, { brand: '\u0000', categoryId: '\u0000' })).body.total).toBe(10);
    });
  });
});
