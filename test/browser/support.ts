import { execFileSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { startTestApp, type TestApp } from '../support/app.ts';

/**
 * What every browser test needs: the web apps built, the real server listening on a random port on
 * this file's test database, and Debian's Chromium driven by playwright-core.
 */

const repo = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const SCREENSHOTS = join(repo, 'artifacts', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const PHONE = { width: 375, height: 812 };
export const DESKTOP = { width: 1440, height: 900 };

/** Builds web/dist when it is missing or older than the sources (a no-op otherwise, and safe in parallel). */
export function ensureWebBuilt() {
  execFileSync(process.execPath, [join(repo, 'scripts', 'build-web.mjs'), '--if-stale', '--quiet'], { stdio: 'inherit', timeout: 180_000 });
}

export interface Shop {
  t: TestApp;
  baseUrl: string;
  browser: Browser;
  /** A fresh browser profile's worth of state: its own cookies and localStorage. */
  newContext(viewport?: { width: number; height: number }): Promise<BrowserContext>;
  close(): Promise<void>;
}

export async function startShop(env: Record<string, string> = {}): Promise<Shop> {
  ensureWebBuilt();
  const t = await startTestApp(env);
  await t.app.http.listen({ port: 0, host: '127.0.0.1' });
  const { port } = t.app.http.server.address() as AddressInfo;
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    // Playwright runs each launch on a fresh temporary --user-data-dir of its own.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    t,
    baseUrl,
    browser,
    async newContext(viewport = DESKTOP) {
      const context = await browser.newContext({ baseURL: baseUrl, viewport, deviceScaleFactor: 1, locale: 'en-US', timezoneId: 'UTC' });
      // Generous: two test files share two cores with their servers and browsers.
      context.setDefaultTimeout(30_000);
      return context;
    },
    async close() {
      await browser.close();
      await t.close();
    },
  };
}

/**
 * Saves the page at phone and desktop widths to artifacts/screenshots/<name>-<width>.png, for people
 * to look at (not compared by the tests). Restores the viewport it found.
 */
export async function screenshots(page: Page, name: string) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const original = page.viewportSize();
  for (const viewport of [PHONE, DESKTOP]) {
    await page.setViewportSize(viewport);
    // From the top: a page scrolled by the test would draw its sticky header mid-page.
    await page.evaluate(async () => {
      window.scrollTo(0, 0);
      await document.fonts.ready;
    });
    await page.waitForTimeout(150);
    await page.screenshot({ path: join(SCREENSHOTS, `${name}-${viewport.width}.png`), fullPage: true });
  }
  if (original) await page.setViewportSize(original);
}

/** Collects what the browser complained about: CSP violations and script errors fail a journey. */
export function watchConsole(page: Page): string[] {
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource: the server responded with a status of (401|404|409)/.test(message.text())) {
      problems.push(`console: ${message.text()}`);
    }
  });
  return problems;
}

// ---------------------------------------------------------------- catalog fixtures, through the API

export interface SellerFixture {
  token: string;
  userId: string;
  email: string;
  password: string;
}

export async function signUpSeller(t: TestApp, email: string, storeName: string): Promise<SellerFixture> {
  const password = 'seller-pass-2026';
  const res = await t.post('/api/v1/auth/signup', { email, password, name: `${storeName} Owner`, role: 'seller', storeName });
  if (res.status !== 201) throw new Error(`seller signup failed: ${res.status} ${JSON.stringify(res.body)}`);
  return { token: res.body.accessToken, userId: res.body.user.id, email, password };
}

export async function signIn(t: TestApp, email: string, password: string): Promise<string> {
  const res = await t.post('/api/v1/auth/login', { email, password });
  if (res.status !== 200) throw new Error(`login failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.accessToken;
}

export async function createCategory(t: TestApp, adminToken: string, name: string, parentId?: string): Promise<{ id: string; slug: string }> {
  const res = await t.post('/api/v1/categories', { name, ...(parentId ? { parentId } : {}) }, { token: adminToken });
  if (res.status !== 201) throw new Error(`category failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

export interface ProductSpec {
  name: string;
  brand: string;
  categoryId: string;
  description?: string;
  variants: { sku: string; price: number; stock: number; options?: Record<string, string> }[];
}

export async function createProduct(t: TestApp, sellerToken: string, spec: ProductSpec): Promise<{ id: string; variants: { id: string; sku: string }[] }> {
  const res = await t.post(
    '/api/v1/products',
    {
      name: spec.name,
      description: spec.description ?? `${spec.name} by ${spec.brand}. Well made and built to last.`,
      categoryId: spec.categoryId,
      brand: spec.brand,
      variants: spec.variants.map((v) => ({ sku: v.sku, price: { amount: v.price, currency: 'USD' }, stock: v.stock, options: v.options ?? {} })),
    },
    { token: sellerToken },
  );
  if (res.status !== 201) throw new Error(`product failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

/** Search is a read model fed by events: wait until it holds `count` products. */
export async function waitForSearch(t: TestApp, count: number, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await t.get('/api/v1/search?limit=1');
    if (res.status === 200 && res.body.total >= count) return;
    if (Date.now() > deadline) throw new Error(`search holds ${res.body?.total} products, expected ${count}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
