import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWAITED_AREAS, endpoints } from '../../web/shared/endpoints.ts';
import { createCategory, createProduct, PHONE, screenshots, signIn, signUpSeller, startShop, waitForSearch, watchConsole, type Shop } from './support.ts';

/**
 * Storefront journeys in a real browser against the real server: search with a typo, narrow with a
 * facet, open a product, create an account. The catalog is built through the API first.
 */

const ADMIN = { ADMIN_EMAIL: 'root@shop.test', ADMIN_PASSWORD: 'root-pass-2026' };

let shop: Shop;
let iphoneId: string;

beforeAll(async () => {
  shop = await startShop(ADMIN);
  const { t } = shop;
  const admin = await signIn(t, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
  const electronics = await createCategory(t, admin, 'Electronics');
  const phones = await createCategory(t, admin, 'Phones', electronics.id);
  const home = await createCategory(t, admin, 'Home & Kitchen');
  const seller = await signUpSeller(t, 'northwind@shop.test', 'Northwind Goods');

  const iphone = await createProduct(t, seller.token, {
    name: 'iPhone 15 Pro',
    brand: 'Apple',
    categoryId: phones.id,
    description: 'A titanium phone with a 48 MP camera and all-day battery.',
    variants: [
      { sku: 'IP15P-128', price: 99900, stock: 12, options: { storage: '128 GB' } },
      { sku: 'IP15P-256', price: 109900, stock: 0, options: { storage: '256 GB' } },
    ],
  });
  iphoneId = iphone.id;
  await createProduct(t, seller.token, {
    name: 'iPhone 15 Clear Case',
    brand: 'Spigen',
    categoryId: phones.id,
    description: 'A slim clear case for the iPhone 15.',
    variants: [{ sku: 'SPG-IP15', price: 1999, stock: 40 }],
  });
  await createProduct(t, seller.token, { name: 'Pixel 8', brand: 'Google', categoryId: phones.id, variants: [{ sku: 'PX8', price: 69900, stock: 5 }] });
  await createProduct(t, seller.token, { name: 'Galaxy S24', brand: 'Samsung', categoryId: phones.id, variants: [{ sku: 'GS24', price: 79900, stock: 8 }] });
  await createProduct(t, seller.token, { name: 'Electric Kettle 1.7 L', brand: 'Bosch', categoryId: home.id, variants: [{ sku: 'KET-17', price: 4999, stock: 30 }] });
  await createProduct(t, seller.token, { name: 'Cast Iron Skillet', brand: 'Lodge', categoryId: home.id, variants: [{ sku: 'SKL-10', price: 3499, stock: 3 }] });
  await waitForSearch(t, 6);
});

afterAll(async () => {
  await shop?.close();
});

describe('storefront', () => {
  it('a shopper searches with a typo, narrows by brand and opens the product', async () => {
    const context = await shop.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);

    await page.goto('/');
    await page.getByRole('heading', { level: 1, name: /independent shops/ }).waitFor();
    await page.getByRole('link', { name: 'Electronics' }).first().waitFor();
    await page.getByRole('link', { name: /Pixel 8/ }).first().waitFor();
    await screenshots(page, 'shop-home');

    // Suggestions appear while typing.
    const box = page.getByRole('combobox', { name: 'Search products' });
    await box.fill('iph');
    const suggestion = page.getByRole('option').filter({ hasText: /iphone/i }).first();
    await suggestion.waitFor();
    expect(await box.getAttribute('aria-expanded')).toBe('true');

    // A typo still finds the phone, and the page says what it searched for instead.
    await box.fill('iphnoe');
    await box.press('Enter');
    await page.waitForURL(/\/search\?q=iphnoe/);
    await page.getByRole('link', { name: /iPhone 15 Pro/ }).waitFor();
    await page.getByRole('link', { name: /iPhone 15 Clear Case/ }).waitFor();
    expect(await page.getByTestId('corrected-query').textContent()).toBe('iphone');

    // The brand facet narrows the results and lands in the URL (shareable, reloadable).
    await page.getByRole('checkbox', { name: /Apple/ }).check();
    await page.waitForURL(/brand=Apple/);
    await page.getByRole('link', { name: /iPhone 15 Clear Case/ }).waitFor({ state: 'detached' });
    await page.reload();
    expect(await page.getByRole('checkbox', { name: /Apple/ }).isChecked()).toBe(true);
    await page.getByRole('link', { name: /iPhone 15 Pro/ }).waitFor();
    await screenshots(page, 'shop-search');

    await page.getByRole('link', { name: /iPhone 15 Pro/ }).click();
    await page.waitForURL(`**/p/${iphoneId}`);
    await page.getByRole('heading', { level: 1, name: 'iPhone 15 Pro' }).waitFor();
    expect(await page.locator('.product-price').textContent()).toContain('$999.00');
    expect(await page.getByTestId('availability').textContent()).toBe('In stock');

    // The sold-out storage option says so, and cannot be added to the cart.
    await page.getByText('256 GB').click();
    expect(await page.getByTestId('availability').textContent()).toBe('Out of stock');
    expect(await page.locator('.product-price').textContent()).toContain('$1,099.00');
    expect(await page.getByRole('button', { name: 'Sold out' }).isDisabled()).toBe(true);
    await page.getByText('128 GB').click();
    expect(await page.getByRole('button', { name: 'Add to cart' }).isEnabled()).toBe(true);

    // Images sit in fixed-ratio boxes and load lazily; every image has a text alternative.
    const boxes = await page.locator('.image-box').evaluateAll((els) => els.map((el) => getComputedStyle(el).aspectRatio));
    expect(boxes.length).toBeGreaterThan(0);
    expect(boxes.every((ratio) => ratio !== 'auto')).toBe(true);
    await screenshots(page, 'shop-product');

    expect(problems).toEqual([]);
    await context.close();
  });

  it('fits a 375 px phone without sideways scrolling, and the filters fold away', async () => {
    const context = await shop.newContext(PHONE);
    const page = await context.newPage();
    await page.goto('/search?q=kettle');
    await page.getByRole('link', { name: /Electric Kettle/ }).waitFor();
    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    expect(await page.locator('details.facets').getAttribute('open')).toBeNull();
    await page.getByText('Filters').click();
    await page.getByRole('checkbox', { name: /Bosch/ }).waitFor();
    await context.close();
  });

  it('reaches a product from the keyboard alone, with a visible focus ring', async () => {
    const context = await shop.newContext();
    const page = await context.newPage();
    await page.goto('/');
    await page.getByRole('link', { name: /Pixel 8/ }).first().waitFor();
    await page.keyboard.press('Tab');
    expect(await page.evaluate(() => document.activeElement?.textContent?.trim())).toBe('Skip to content');
    const box = page.getByRole('combobox', { name: 'Search products' });
    await box.focus();
    await page.keyboard.type('skillet');
    await page.keyboard.press('Enter');
    await page.waitForURL(/\/search\?q=skillet/);
    const link = page.getByRole('region', { name: 'Products' }).getByRole('link', { name: /Cast Iron Skillet/ });
    await link.waitFor();
    await link.focus();
    const outline = await link.evaluate((el) => getComputedStyle(el).outlineStyle);
    expect(outline).toBe('solid');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Cast Iron Skillet' }).waitFor();
    expect(await page.getByTestId('availability').textContent()).toBe('Only 3 left');
    await context.close();
  });

  it('a new shopper creates an account, is told what a weak password lacks, and is signed in', async () => {
    const context = await shop.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await page.goto('/');
    await page.getByRole('link', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Create an account' }).click();
    await page.getByLabel('Full name').fill('Robin Shopper');
    await page.getByLabel('Email').fill('robin@shop.test');
    await page.getByLabel('Password').fill('short');
    await page.getByRole('button', { name: 'Create account' }).click();
    expect(await page.getByText('Use at least 8 characters, with a letter and a digit').isVisible()).toBe(true);
    await screenshots(page, 'shop-signup');

    await page.getByLabel('Password').fill('robin-likes-2026');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.waitForURL((url) => url.pathname === '/');
    await page.getByRole('button', { name: /Robin/ }).waitFor();

    // The account exists on the server, and the same email cannot sign up twice.
    const login = await shop.t.post('/api/v1/auth/login', { email: 'robin@shop.test', password: 'robin-likes-2026' });
    expect(login.status).toBe(200);
    await page.getByRole('button', { name: /Robin/ }).click();
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.goto('/signup');
    await page.getByLabel('Full name').fill('Robin Again');
    await page.getByLabel('Email').fill('robin@shop.test');
    await page.getByLabel('Password').fill('robin-likes-2026');
    await page.getByRole('button', { name: 'Create account' }).click();
    await page.getByText('An account with this email already exists').waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });
});

describe('sessions', () => {
  it('renews an expired access token with the refresh token, and signs out when that is spent too', async () => {
    const signup = await shop.t.post('/api/v1/auth/signup', { email: 'sam@shop.test', password: 'sam-shops-2026', name: 'Sam Sleeper' });
    const { user, refreshToken } = signup.body;
    const context = await shop.newContext();
    await context.addInitScript(
      ([session]) => {
        if (!sessionStorage.getItem('seeded')) {
          localStorage.setItem('bazaar.shop.session', session!);
          sessionStorage.setItem('seeded', '1');
        }
      },
      [JSON.stringify({ accessToken: 'expired.access.token', refreshToken, user })],
    );
    const page = await context.newPage();
    await page.goto('/wishlist');
    await page.getByText('Nothing saved yet').waitFor();
    const renewed = await page.evaluate(() => JSON.parse(localStorage.getItem('bazaar.shop.session')!));
    expect(renewed.accessToken).not.toBe('expired.access.token');
    expect(renewed.refreshToken).not.toBe(refreshToken);

    // The first refresh token was rotated away: a session still holding it cannot be renewed.
    await page.evaluate(
      ([stale]) => localStorage.setItem('bazaar.shop.session', stale!),
      [JSON.stringify({ accessToken: 'expired.access.token', refreshToken, user })],
    );
    await page.goto('/wishlist');
    await page.waitForURL(/\/signin\?next=(%2F|\/)wishlist/);
    expect(await page.evaluate(() => localStorage.getItem('bazaar.shop.session'))).toBeNull();
    await context.close();
  });
});

describe('the web apps on the server', () => {
  it('call only API paths and methods the server documents in /openapi.json', async () => {
    const doc = (await shop.t.get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const documented = (path: string, method: string) => !!doc.paths[`/api/v1${path}`]?.[method.toLowerCase()];
    // An area still being built may be missing as a whole (the pages say "not available yet"); once
    // any of its paths is documented, every call the apps make to it must be.
    const present = new Set(Object.values(endpoints).filter((e) => doc.paths[`/api/v1${e.path}`]).map((e) => e.area));
    const checked = Object.entries(endpoints).filter(([, e]) => !AWAITED_AREAS.includes(e.area) || present.has(e.area));
    const missing = checked.filter(([, e]) => !documented(e.path, e.method)).map(([name, e]) => `${name}: ${e.method} ${e.path}`);
    expect(missing).toEqual([]);
    expect(checked.length).toBeGreaterThan(30);
  });

  it('serves both apps next to the API, under the CSP, with no inline script', async () => {
    const { t } = shop;
    const pages: [string, string][] = [['/', 'Bazaar'], ['/p/anything', 'Bazaar'], ['/admin/', 'Bazaar Admin'], ['/admin/users', 'Bazaar Admin']];
    for (const [url, title] of pages) {
      const res = await t.get(url);
      expect(res.status, url).toBe(200);
      expect(res.body, url).toContain(`<title>${title}</title>`);
      expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
      // Every script is a file the CSP allows; an inline one would be blocked.
      expect(res.body.match(/<script(?![^>]*\ssrc=)[^>]*>/g), url).toBeNull();
    }
    const missing = await t.get('/api/v1/no-such-thing');
    expect(missing.status).toBe(404);
    expect(missing.headers['content-type']).toContain('application/problem+json');
    expect((await t.get('/openapi.json')).status).toBe(200);
    expect((await t.get('/healthz')).status).toBe(200);
  });
});
