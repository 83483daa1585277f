import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCategory, createProduct, screenshots, signIn, signUpSeller, startShop, waitForSearch, watchConsole, type SellerFixture, type Shop } from './support.ts';
import type { Page } from 'playwright-core';
import sharp from 'sharp';

/**
 * Admin portal journeys: a seller lists a product (with variants and stock) that shoppers can find
 * seconds later, changes its stock, and an admin reviews users and the audit log. A seller sees only
 * what its role allows.
 */

const ADMIN = { ADMIN_EMAIL: 'root@admin.test', ADMIN_PASSWORD: 'root-pass-2026' };

let shop: Shop;
let seller: SellerFixture;

beforeAll(async () => {
  shop = await startShop(ADMIN);
  const { t } = shop;
  const admin = await signIn(t, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
  const outdoors = await createCategory(t, admin, 'Outdoors');
  await createCategory(t, admin, 'Footwear', outdoors.id);
  seller = await signUpSeller(t, 'trailhead@admin.test', 'Trailhead Supply');
  // Another seller's product, which the first seller must not see in its list.
  const other = await signUpSeller(t, 'rival@admin.test', 'Rival Gear');
  await createProduct(t, other.token, { name: 'Rival Tent', brand: 'Rival', categoryId: outdoors.id, variants: [{ sku: 'RT-1', price: 19900, stock: 4 }] });
  await waitForSearch(t, 1);
});

afterAll(async () => {
  await shop?.close();
});

async function signInToAdmin(page: Page, email: string, password: string) {
  await page.goto('/admin/');
  await page.getByLabel('Email').fill(email);
  await page.getByLabel('Password').fill(password);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { level: 1, name: /^Hello/ }).waitFor();
}

describe('admin portal', () => {
  it('a seller creates a product with variants and stock, and shoppers find it on the storefront within seconds', async () => {
    const context = await shop.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signInToAdmin(page, seller.email, seller.password);

    // A seller's menu: its own catalog, stock, orders and coupons, nothing of the platform's.
    const nav = page.getByRole('navigation', { name: 'Sections' });
    for (const section of ['Products', 'Inventory', 'Orders', 'Coupons']) await nav.getByRole('link', { name: section }).waitFor();
    for (const hidden of ['Users & roles', 'Audit log', 'Dead letters', 'Categories']) expect(await nav.getByRole('link', { name: hidden }).count()).toBe(0);
    await screenshots(page, 'admin-seller-dashboard');

    await nav.getByRole('link', { name: 'Products' }).click();
    await page.getByRole('heading', { level: 1, name: 'Products' }).waitFor();
    await page.getByText('No products yet').waitFor();
    expect(await page.getByText('Rival Tent').count()).toBe(0);

    await page.getByRole('link', { name: 'New product' }).click();
    await page.getByLabel('Name').fill('Trail Runner 2');
    await page.getByLabel('Description').fill('A light trail shoe with a grippy sole.');
    await page.getByLabel('Category').selectOption({ label: '\u2003Footwear' });
    await page.getByLabel('Brand').fill('Trailhead');
    await page.getByLabel('Options').fill('size');
    const first = page.locator('fieldset.variant-row').nth(0);
    await first.getByLabel('SKU').fill('TR2-42');
    await first.getByLabel('Price (USD)').fill('89.50');
    await first.getByLabel('Initial stock').fill('7');
    await first.getByLabel('Size').fill('42');
    await page.getByRole('button', { name: 'Add a variant' }).click();
    const second = page.locator('fieldset.variant-row').nth(1);
    await second.getByLabel('SKU').fill('TR2-43');
    await second.getByLabel('Initial stock').fill('0');
    await second.getByLabel('Size').fill('43');
    await screenshots(page, 'admin-product-editor');
    await page.getByRole('button', { name: 'Create product' }).click();
    await page.getByText('Product created').waitFor();
    const productId = new URL(page.url()).pathname.split('/').pop()!;
    expect(await page.getByText('7 available').count()).toBe(1);

    // A photo, described for shoppers who cannot see it.
    const photo = await sharp({ create: { width: 640, height: 480, channels: 3, background: '#2f8f5b' } }).png().toBuffer();
    await page.getByLabel('Add a photo').setInputFiles({ name: 'side.png', mimeType: 'image/png', buffer: photo });
    await page.getByLabel('Describe the photo').fill('Trail Runner 2, green, side view');
    await page.getByRole('button', { name: 'Upload photo' }).click();
    await page.getByRole('img', { name: 'Trail Runner 2, green, side view' }).waitFor();

    // The storefront's search picks the new product up within seconds.
    const store = await context.newPage();
    const deadline = Date.now() + 10_000;
    for (;;) {
      await store.goto('/search?q=trail%20runner');
      const found = await store.getByRole('link', { name: /Trail Runner 2/ }).waitFor({ timeout: 1000 }).then(() => true, () => false);
      if (found) break;
      if (Date.now() > deadline) throw new Error('Trail Runner 2 did not show up in search within 10 s');
    }
    await store.getByRole('link', { name: /Trail Runner 2/ }).click();
    await store.getByRole('heading', { level: 1, name: 'Trail Runner 2' }).waitFor();
    const hero = store.getByRole('img', { name: 'Trail Runner 2, green, side view' });
    await hero.waitFor();
    expect(await hero.evaluate((img) => getComputedStyle(img.parentElement!).aspectRatio)).toBe('1 / 1');
    expect(await hero.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth > 0)).toBe(true);
    // Further down a page, pictures wait until they are scrolled to.
    await store.goto('/');
    const shelf = store.getByRole('region', { name: 'Just arrived' });
    await shelf.getByRole('link', { name: /Trail Runner 2/ }).waitFor();
    expect(await shelf.locator('img').first().getAttribute('loading')).toBe('lazy');
    await store.goto(`/p/${productId}`);
    expect(await store.locator('.product-price').textContent()).toContain('$89.50');
    expect(await store.getByTestId('availability').textContent()).toBe('In stock');
    await store.getByText('43', { exact: true }).click();
    expect(await store.getByTestId('availability').textContent()).toBe('Out of stock');

    // Restocking size 43 in the seller center shows in the ledger and on the storefront.
    await page.goto(`/admin/inventory?product=${productId}`);
    await page.getByLabel('Variant').selectOption({ label: 'TR2-43 · 43' });
    expect(await page.getByTestId('stock-available').textContent()).toBe('0');
    await page.getByLabel('Change').fill('5');
    await page.getByLabel('Reason').fill('Delivery from the factory');
    await page.getByRole('button', { name: 'Apply adjustment' }).click();
    await page.getByText('Stock added: 5.').waitFor();
    expect(await page.getByTestId('stock-available').textContent()).toBe('5');
    await page.getByRole('cell', { name: 'Delivery from the factory' }).waitFor();
    await screenshots(page, 'admin-inventory');
    await store.reload();
    await store.getByText('43', { exact: true }).click();
    expect(await store.getByTestId('availability').textContent()).toBe('Only 5 left');

    expect(problems).toEqual([]);
    await context.close();
  });

  it('an admin sees every user with their roles, and the audit log of what sellers did', async () => {
    const context = await shop.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signInToAdmin(page, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    const nav = page.getByRole('navigation', { name: 'Sections' });
    for (const section of ['Products', 'Categories', 'Inventory', 'Users & roles', 'Dead letters', 'Audit log']) await nav.getByRole('link', { name: section }).waitFor();
    await page.getByTestId('stat-Users').filter({ hasText: /\d/ }).waitFor();
    await screenshots(page, 'admin-dashboard');

    await nav.getByRole('link', { name: 'Users & roles' }).click();
    const trailhead = page.getByRole('row').filter({ hasText: 'trailhead@admin.test' });
    await trailhead.waitFor();
    expect(await trailhead.textContent()).toContain('Seller');
    expect(await trailhead.textContent()).toContain('Trailhead Supply');
    await page.getByLabel('Search').fill('rival');
    await page.getByRole('row').filter({ hasText: 'trailhead@admin.test' }).waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: 'rival@admin.test' }).waitFor();
    await screenshots(page, 'admin-users');

    await nav.getByRole('link', { name: 'Audit log' }).click();
    await page.getByRole('cell', { name: 'catalog.product.create' }).first().waitFor();
    await page.getByLabel('Action').fill('catalog.category.create');
    await page.getByRole('cell', { name: 'catalog.product.create' }).first().waitFor({ state: 'detached' });
    expect(await page.getByRole('cell', { name: 'catalog.category.create' }).count()).toBe(2);
    await screenshots(page, 'admin-audit-log');

    await nav.getByRole('link', { name: 'Dead letters' }).click();
    await page.getByText('Nothing is stuck').waitFor();

    expect(problems).toEqual([]);
    await context.close();
  });

  it('an admin makes a colleague warehouse staff, who then sees inventory only and moves any seller’s stock', async () => {
    await shop.t.post('/api/v1/auth/signup', { email: 'wes@admin.test', password: 'wes-pass-2026', name: 'Wes Warehouse' });
    const adminContext = await shop.newContext();
    const admin = await adminContext.newPage();
    await signInToAdmin(admin, ADMIN.ADMIN_EMAIL, ADMIN.ADMIN_PASSWORD);
    await admin.goto('/admin/users');
    const row = admin.getByRole('row').filter({ hasText: 'wes@admin.test' });
    await row.getByRole('button', { name: 'Edit roles of Wes Warehouse' }).click();
    await row.getByRole('checkbox', { name: 'Warehouse' }).check();
    await row.getByRole('checkbox', { name: 'Customer' }).uncheck();
    await row.getByRole('button', { name: 'Save roles' }).click();
    // Saved: the row leaves edit mode and shows the new roles as badges.
    await row.getByRole('button', { name: 'Edit roles of Wes Warehouse' }).waitFor();
    await row.getByText('Warehouse', { exact: true }).waitFor();
    expect(await row.getByText('Customer', { exact: true }).count()).toBe(0);
    await adminContext.close();

    const context = await shop.newContext();
    const page = await context.newPage();
    const problems = watchConsole(page);
    await signInToAdmin(page, 'wes@admin.test', 'wes-pass-2026');
    const nav = page.getByRole('navigation', { name: 'Sections' });
    await nav.getByRole('link', { name: 'Inventory' }).waitFor();
    for (const hidden of ['Products', 'Orders', 'Coupons', 'Users & roles', 'Audit log']) expect(await nav.getByRole('link', { name: hidden }).count()).toBe(0);

    await nav.getByRole('link', { name: 'Inventory' }).click();
    await page.getByLabel('New location').fill('East warehouse');
    await page.getByRole('button', { name: 'Add', exact: true }).click();
    await page.getByText('East warehouse').first().waitFor();

    await page.getByRole('button', { name: /Rival Tent/ }).click();
    expect(await page.getByTestId('stock-available').textContent()).toBe('4');
    await page.getByLabel('From', { exact: true }).selectOption({ label: 'Main warehouse' });
    await page.getByLabel('To', { exact: true }).selectOption({ label: 'East warehouse' });
    await page.getByLabel('Quantity', { exact: true }).fill('3');
    await page.getByRole('button', { name: 'Transfer', exact: true }).click();
    await page.getByText('Moved 3.').waitFor();
    const table = page.getByRole('table').first();
    await table.getByRole('row').filter({ hasText: 'East warehouse' }).filter({ hasText: '3' }).waitFor();
    // Both warehouses sell online: moving stock between them leaves what shoppers can buy unchanged.
    expect(await page.getByTestId('stock-available').textContent()).toBe('4');
    await page.getByRole('cell', { name: 'Transfer in' }).waitFor();
    expect(problems).toEqual([]);
    await context.close();
  });

  it('a customer account is turned away from the portal', async () => {
    const { t } = shop;
    await t.post('/api/v1/auth/signup', { email: 'casey@admin.test', password: 'casey-pass-2026', name: 'Casey' });
    const context = await shop.newContext();
    const page = await context.newPage();
    await page.goto('/admin/');
    await page.getByLabel('Email').fill('casey@admin.test');
    await page.getByLabel('Password').fill('casey-pass-2026');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'No access' }).waitFor();
    expect(await page.getByRole('navigation', { name: 'Sections' }).count()).toBe(0);
    await context.close();
  });
});
