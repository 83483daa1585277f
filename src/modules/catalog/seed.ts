import { sql } from 'kysely';
import type { Db } from '../../kernel/db/database.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { DEMO_SELLERS } from '../identity/contract.ts';
import { DEMO_LOCATIONS, STOCK_PORT, type StockPort } from '../inventory/contract.ts';
import { CatalogEvents, type CategoryChanged, type ProductChanged } from './contract.ts';
import { freeSlug, placeholderKey, slugify, toSnapshot, type ImageRecord, type ProductRecord, type VariantRecord } from './service.ts';
import * as store from './store.ts';

/**
 * Demo and benchmark catalogs. Everything is generated from a seeded PRNG, so two runs produce the
 * same names, prices and stock; rows go in with multi-row inserts, a batch per transaction.
 */

/** mulberry32: tiny, fast, good enough for made-up catalogs, and the same sequence on every run. */
function prng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (min: number, max: number) => min + Math.floor(next() * (max - min + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)]!,
    chance: (p: number) => next() < p,
  };
}
type Rng = ReturnType<typeof prng>;

interface Kind {
  /** Leaf category name. */
  leaf: string;
  nouns: string[];
  brands: string[];
  /** Price range of the cheapest variant, in cents. */
  price: [number, number];
  /** Variant dimensions: each product uses one or two of them. */
  options: Record<string, string[]>;
  /** Extra per step along the first dimension (e.g. more storage costs more), in cents. */
  step?: number;
  weight: [number, number];
  attributes: (rng: Rng) => Record<string, string | number | boolean>;
}

const COLOURS = ['Black', 'White', 'Navy', 'Red', 'Forest Green', 'Grey', 'Sand', 'Sky Blue'];
const ADJECTIVES = ['Classic', 'Essential', 'Pro', 'Ultra', 'Lite', 'Everyday', 'Signature', 'Urban', 'Trail', 'Studio', 'Prime', 'Nova', 'Aero', 'Heritage'];
const MATERIALS = ['cotton', 'recycled polyester', 'merino wool', 'linen', 'leather', 'canvas'];

const kind = (k: Kind) => k;

/** Top > middle > leaf, each leaf with what its products look like. */
const TREE: { name: string; children: { name: string; leaves: Kind[] }[] }[] = [
  {
    name: 'Electronics',
    children: [
      {
        name: 'Phones',
        leaves: [
          kind({ leaf: 'Smartphones', nouns: ['Smartphone', 'Phone'], brands: ['Nimbus', 'Photon', 'Zenith'], price: [19900, 109900], step: 10000, options: { storage: ['64 GB', '128 GB', '256 GB', '512 GB'], colour: COLOURS }, weight: [150, 230], attributes: (r) => ({ screenInches: r.pick([6.1, 6.4, 6.7]), fiveG: r.chance(0.8), cameraMp: r.pick([12, 48, 50, 108]) }) }),
          kind({ leaf: 'Feature Phones', nouns: ['Flip Phone', 'Feature Phone'], brands: ['Photon', 'Sturdy'], price: [2900, 8900], options: { colour: COLOURS }, weight: [80, 130], attributes: (r) => ({ batteryDays: r.int(7, 30), dualSim: r.chance(0.5) }) }),
          kind({ leaf: 'Phone Cases', nouns: ['Case', 'Folio Case', 'Bumper'], brands: ['Armorline', 'Nimbus'], price: [990, 4900], options: { model: ['Nimbus 12', 'Nimbus 13', 'Photon X', 'Zenith S'], colour: COLOURS }, weight: [20, 60], attributes: (r) => ({ dropTestedMetres: r.pick([1.2, 2, 3]) }) }),
        ],
      },
      {
        name: 'Computers',
        leaves: [
          kind({ leaf: 'Laptops', nouns: ['Laptop', 'Notebook', 'Ultrabook'], brands: ['Zenith', 'Corvid', 'Lumen'], price: [49900, 249900], step: 20000, options: { memory: ['8 GB', '16 GB', '32 GB'], storage: ['256 GB SSD', '512 GB SSD', '1 TB SSD'] }, weight: [1100, 2400], attributes: (r) => ({ screenInches: r.pick([13.3, 14, 15.6, 16]), cpuCores: r.pick([8, 10, 12, 16]) }) }),
          kind({ leaf: 'Tablets', nouns: ['Tablet', 'Slate'], brands: ['Nimbus', 'Lumen'], price: [14900, 89900], step: 8000, options: { storage: ['64 GB', '128 GB', '256 GB'], colour: ['Silver', 'Space Grey', 'Rose'] }, weight: [300, 700], attributes: (r) => ({ screenInches: r.pick([8.3, 10.9, 12.9]), stylus: r.chance(0.5) }) }),
          kind({ leaf: 'Monitors', nouns: ['Monitor', 'Display'], brands: ['Corvid', 'Vista'], price: [12900, 79900], options: { size: ['24"', '27"', '32"'] }, step: 7000, weight: [3500, 8000], attributes: (r) => ({ refreshHz: r.pick([60, 144, 165, 240]), panel: r.pick(['IPS', 'VA', 'OLED']) }) }),
        ],
      },
      {
        name: 'Audio',
        leaves: [
          kind({ leaf: 'Headphones', nouns: ['Headphones', 'Earbuds', 'Headset'], brands: ['Sonora', 'Echo Lane', 'Bassline'], price: [2900, 39900], options: { colour: COLOURS }, weight: [40, 320], attributes: (r) => ({ noiseCancelling: r.chance(0.6), batteryHours: r.int(6, 60), wireless: r.chance(0.85) }) }),
          kind({ leaf: 'Speakers', nouns: ['Speaker', 'Soundbar', 'Bookshelf Speakers'], brands: ['Sonora', 'Bassline'], price: [3900, 59900], options: { colour: ['Black', 'White', 'Walnut'] }, weight: [400, 6000], attributes: (r) => ({ watts: r.pick([10, 20, 40, 100, 200]), waterproof: r.chance(0.4) }) }),
        ],
      },
    ],
  },
  {
    name: 'Fashion',
    children: [
      {
        name: 'Men',
        leaves: [
          kind({ leaf: 'Shoes', nouns: ['Sneakers', 'Running Shoes', 'Loafers', 'Boots'], brands: ['Stride', 'Northpeak', 'Oak & Ash'], price: [3900, 18900], options: { size: ['40', '41', '42', '43', '44', '45'], colour: ['Black', 'White', 'Brown', 'Navy'] }, weight: [600, 1200], attributes: (r) => ({ material: r.pick(['leather', 'mesh', 'suede', 'canvas']) }) }),
          kind({ leaf: 'Shirts', nouns: ['Oxford Shirt', 'T-Shirt', 'Polo', 'Flannel Shirt'], brands: ['Oak & Ash', 'Harbor Co.'], price: [1500, 7900], options: { size: ['S', 'M', 'L', 'XL', 'XXL'], colour: COLOURS }, weight: [150, 350], attributes: (r) => ({ material: r.pick(MATERIALS), fit: r.pick(['slim', 'regular', 'relaxed']) }) }),
          kind({ leaf: 'Jackets', nouns: ['Rain Jacket', 'Puffer Jacket', 'Denim Jacket'], brands: ['Northpeak', 'Harbor Co.'], price: [5900, 29900], options: { size: ['S', 'M', 'L', 'XL'], colour: ['Black', 'Olive', 'Navy', 'Rust'] }, weight: [500, 1400], attributes: (r) => ({ waterproof: r.chance(0.5), insulated: r.chance(0.4) }) }),
        ],
      },
      {
        name: 'Women',
        leaves: [
          kind({ leaf: 'Shoes', nouns: ['Sneakers', 'Ankle Boots', 'Flats', 'Sandals'], brands: ['Stride', 'Lumière'], price: [3500, 17900], options: { size: ['36', '37', '38', '39', '40', '41'], colour: ['Black', 'White', 'Tan', 'Blush'] }, weight: [400, 1000], attributes: (r) => ({ material: r.pick(['leather', 'suede', 'knit', 'canvas']) }) }),
          kind({ leaf: 'Dresses', nouns: ['Wrap Dress', 'Midi Dress', 'Shirt Dress', 'Maxi Dress'], brands: ['Lumière', 'Harbor Co.'], price: [2900, 14900], options: { size: ['XS', 'S', 'M', 'L', 'XL'], colour: COLOURS }, weight: [200, 500], attributes: (r) => ({ material: r.pick(MATERIALS), length: r.pick(['mini', 'midi', 'maxi']) }) }),
          kind({ leaf: 'Handbags', nouns: ['Tote', 'Crossbody Bag', 'Shoulder Bag'], brands: ['Lumière', 'Oak & Ash'], price: [3900, 24900], options: { colour: ['Black', 'Cognac', 'Cream', 'Olive'] }, weight: [300, 900], attributes: (r) => ({ material: r.pick(['leather', 'canvas', 'vegan leather']) }) }),
        ],
      },
      {
        name: 'Kids',
        leaves: [
          kind({ leaf: 'Kids Clothing', nouns: ['Hoodie', 'Pyjama Set', 'Raincoat'], brands: ['Little Oak', 'Harbor Co.'], price: [1200, 4900], options: { age: ['2-3 y', '4-5 y', '6-7 y', '8-9 y'], colour: COLOURS }, weight: [100, 400], attributes: (r) => ({ material: r.pick(MATERIALS) }) }),
        ],
      },
    ],
  },
  {
    name: 'Home',
    children: [
      {
        name: 'Kitchen',
        leaves: [
          kind({ leaf: 'Cookware', nouns: ['Frying Pan', 'Dutch Oven', 'Saucepan', 'Wok'], brands: ['Ironclad', 'Copperleaf'], price: [2500, 29900], options: { size: ['20 cm', '24 cm', '28 cm'] }, step: 1500, weight: [900, 5500], attributes: (r) => ({ material: r.pick(['cast iron', 'stainless steel', 'copper', 'carbon steel']), inductionReady: r.chance(0.7) }) }),
          kind({ leaf: 'Knives', nouns: ['Chef Knife', 'Santoku', 'Bread Knife', 'Paring Knife'], brands: ['Ironclad', 'Kōhaku'], price: [1900, 24900], options: { length: ['15 cm', '20 cm', '24 cm'] }, step: 1000, weight: [80, 300], attributes: (r) => ({ steel: r.pick(['VG-10', 'X50CrMoV15', 'AUS-8']) }) }),
          kind({ leaf: 'Coffee Makers', nouns: ['Espresso Machine', 'Pour-Over Kit', 'French Press', 'Drip Coffee Maker'], brands: ['Crema', 'Copperleaf'], price: [2900, 79900], options: { colour: ['Black', 'Steel', 'Cream'] }, weight: [500, 9000], attributes: (r) => ({ cups: r.int(1, 12), programmable: r.chance(0.4) }) }),
        ],
      },
      {
        name: 'Furniture',
        leaves: [
          kind({ leaf: 'Chairs', nouns: ['Office Chair', 'Dining Chair', 'Lounge Chair'], brands: ['Fernwood', 'Nordform'], price: [7900, 59900], options: { colour: ['Oak', 'Walnut', 'Black', 'Grey Fabric'] }, weight: [5000, 18000], attributes: (r) => ({ assemblyRequired: r.chance(0.7), maxLoadKg: r.pick([110, 130, 150]) }) }),
          kind({ leaf: 'Desks', nouns: ['Standing Desk', 'Writing Desk', 'Corner Desk'], brands: ['Fernwood', 'Nordform'], price: [14900, 89900], options: { width: ['120 cm', '140 cm', '160 cm'] }, step: 5000, weight: [15000, 45000], attributes: (r) => ({ adjustableHeight: r.chance(0.5) }) }),
        ],
      },
      {
        name: 'Bedding',
        leaves: [
          kind({ leaf: 'Pillows', nouns: ['Pillow', 'Memory Foam Pillow', 'Down Pillow'], brands: ['Dreamwell', 'Nordform'], price: [1900, 8900], options: { size: ['Standard', 'Queen', 'King'] }, step: 1000, weight: [500, 1500], attributes: (r) => ({ firmness: r.pick(['soft', 'medium', 'firm']) }) }),
          kind({ leaf: 'Duvets', nouns: ['Duvet', 'Quilt', 'Comforter'], brands: ['Dreamwell'], price: [4900, 29900], options: { size: ['Single', 'Double', 'King'], warmth: ['Light', 'All Season', 'Winter'] }, step: 2000, weight: [1000, 3000], attributes: (r) => ({ filling: r.pick(['down', 'wool', 'microfibre']) }) }),
        ],
      },
    ],
  },
  {
    name: 'Sports & Outdoors',
    children: [
      {
        name: 'Camping',
        leaves: [
          kind({ leaf: 'Tents', nouns: ['Dome Tent', 'Backpacking Tent', 'Family Tent'], brands: ['Northpeak', 'Basecamp'], price: [7900, 69900], options: { capacity: ['1 person', '2 person', '4 person', '6 person'] }, step: 6000, weight: [1200, 9000], attributes: (r) => ({ seasons: r.pick([2, 3, 4]), freestanding: r.chance(0.6) }) }),
          kind({ leaf: 'Backpacks', nouns: ['Daypack', 'Hiking Backpack', 'Travel Pack'], brands: ['Northpeak', 'Basecamp', 'Stride'], price: [3900, 27900], options: { volume: ['20 L', '35 L', '50 L', '65 L'], colour: ['Black', 'Olive', 'Orange', 'Blue'] }, step: 2000, weight: [600, 2200], attributes: (r) => ({ rainCover: r.chance(0.5) }) }),
        ],
      },
      {
        name: 'Fitness',
        leaves: [
          kind({ leaf: 'Yoga Mats', nouns: ['Yoga Mat', 'Travel Mat', 'Cork Mat'], brands: ['Lotus Line', 'Flexa'], price: [1900, 12900], options: { thickness: ['3 mm', '5 mm', '8 mm'], colour: ['Teal', 'Plum', 'Charcoal', 'Sand'] }, weight: [900, 3000], attributes: (r) => ({ nonSlip: r.chance(0.9) }) }),
          kind({ leaf: 'Dumbbells', nouns: ['Dumbbell Pair', 'Adjustable Dumbbell', 'Kettlebell'], brands: ['Ironclad', 'Flexa'], price: [1900, 39900], options: { weight: ['2 kg', '5 kg', '10 kg', '20 kg'] }, step: 1500, weight: [2000, 20000], attributes: (r) => ({ coating: r.pick(['neoprene', 'rubber', 'cast iron']) }) }),
        ],
      },
    ],
  },
  {
    name: 'Books',
    children: [
      {
        name: 'Fiction',
        leaves: [
          kind({ leaf: 'Mystery', nouns: ['Murder at', 'The Secret of', 'Shadows over', 'The Case of'], brands: ['Quill House', 'Lantern Press'], price: [899, 2999], options: { format: ['Paperback', 'Hardcover', 'E-book'] }, step: 700, weight: [200, 700], attributes: (r) => ({ pages: r.int(180, 620), language: 'English' }) }),
          kind({ leaf: 'Science Fiction', nouns: ['Beyond', 'The Last Orbit of', 'Stars over', 'Signal from'], brands: ['Quill House', 'Orbit Line'], price: [899, 2999], options: { format: ['Paperback', 'Hardcover', 'E-book'] }, step: 700, weight: [200, 800], attributes: (r) => ({ pages: r.int(200, 820), language: 'English' }) }),
        ],
      },
      {
        name: 'Non-fiction',
        leaves: [
          kind({ leaf: 'Cookbooks', nouns: ['Cooking with', 'The Joy of', 'Weeknight'], brands: ['Lantern Press'], price: [1499, 4499], options: { format: ['Paperback', 'Hardcover'] }, step: 900, weight: [400, 1500], attributes: (r) => ({ pages: r.int(120, 420), recipes: r.int(40, 250) }) }),
          kind({ leaf: 'History', nouns: ['A History of', 'The Rise of', 'Empires of'], brands: ['Quill House', 'Lantern Press'], price: [1299, 3999], options: { format: ['Paperback', 'Hardcover', 'E-book'] }, step: 800, weight: [300, 1200], attributes: (r) => ({ pages: r.int(220, 900) }) }),
        ],
      },
    ],
  },
];

const BOOK_TOPICS = ['Ravenmoor', 'the Silent Harbor', 'Kestrel Bay', 'the Glass Tower', 'Andromeda', 'the Northern Line', 'Saffron', 'Rome', 'the Tide', 'Venice', 'Midnight', 'the Orchard'];

interface Leaf {
  id: string;
  path: string[];
  kind: Kind;
}

/** Creates the demo category tree, or finds it when an earlier seed made it. Returns its leaves. */
async function ensureCategoryTree(ctx: ModuleContext, tx: Db): Promise<Leaf[]> {
  const existing = await store.listCategories(tx);
  const taken = new Set(existing.map((c) => c.slug));
  const leaves: Leaf[] = [];
  async function ensure(name: string, parent: store.CategoryRow | undefined): Promise<store.CategoryRow> {
    const found = existing.find((c) => c.name === name && c.parentId === (parent?.id ?? null));
    if (found) return found;
    const id = newId();
    const slug = freeSlug(slugify(name), taken);
    taken.add(slug);
    const category: store.CategoryRow = { id, name, slug, parentId: parent?.id ?? null, path: [...(parent?.path ?? []), id] };
    await store.insertCategory(tx, category);
    existing.push(category);
    const data: CategoryChanged = { category: { id, name, slug, parentId: category.parentId, path: category.path } };
    await ctx.publish(tx, { type: CatalogEvents.CategoryCreated, aggregateId: id, data });
    return category;
  }
  for (const top of TREE) {
    const root = await ensure(top.name, undefined);
    for (const middle of top.children) {
      const mid = await ensure(middle.name, root);
      for (const k of middle.leaves) {
        const leaf = await ensure(k.leaf, mid);
        leaves.push({ id: leaf.id, path: leaf.path, kind: k });
      }
    }
  }
  return leaves;
}

interface Generated {
  product: ProductRecord;
  variants: (VariantRecord & { sellerId: string; position: number; stock: { locationId: string; quantity: number }[] })[];
  image: ImageRecord & { position: number };
  categoryPath: string[];
}

/** One made-up product: name, description, attributes, and a few variants with stock. */
function generateProduct(rng: Rng, leaf: Leaf, sellerId: string, serial: string, stockAt: (rng: Rng) => { locationId: string; quantity: number }[]): Generated {
  const k = leaf.kind;
  const brand = rng.pick(k.brands);
  const noun = rng.pick(k.nouns);
  const isBook = leaf.path.length === 3 && BOOK_LEAVES.has(k.leaf);
  const name = isBook ? `${noun} ${rng.pick(BOOK_TOPICS)}` : `${brand} ${rng.pick(ADJECTIVES)} ${noun} ${rng.pick(['', ' 2', ' X', ' S', ' Plus', ' Max', ' Mini', ` ${rng.int(100, 990)}`]).trim()}`.trim();
  const dims = Object.entries(k.options);
  // One or two dimensions, a few values each: 1 to 6 variants a product.
  const used = dims.slice(0, dims.length > 1 && rng.chance(0.5) ? 2 : 1).map(([dim, values]) => {
    const start = rng.int(0, Math.max(0, values.length - 2));
    return [dim, values.slice(start, start + rng.int(1, Math.min(3, values.length - start)))] as const;
  });
  const combos = used.reduce<Record<string, string>[]>((acc, [dim, values]) => acc.flatMap((o) => values.map((v) => ({ ...o, [dim]: v }))), [{}]);
  const base = Math.round(rng.int(k.price[0], k.price[1]) / 100) * 100 - 1;
  const productId = newId();
  const now = new Date();
  const description = isBook
    ? `${name} — a ${k.leaf.toLowerCase()} title from ${brand}. ${rng.pick(['A gripping read.', 'Praised by readers and critics alike.', 'The long-awaited follow-up.', 'Now in a new edition.'])}`
    : `The ${name} by ${brand}: ${rng.pick(['built to last', 'designed for everyday use', 'our best-selling design', 'lightweight and durable', 'made with care'])}. ${rng.pick(['Free returns within 30 days.', 'Ships within 2 business days.', 'Backed by a 2-year warranty.', 'Rated highly by our customers.'])}`;
  const firstDim = used[0]?.[1] ?? [];
  const variants = combos.map((options, position) => {
    const stepIndex = firstDim.indexOf(Object.values(options)[0] ?? '');
    return {
      id: newId(),
      productId,
      sellerId,
      sku: `${serial}-${position + 1}`,
      price: { amount: base + Math.max(0, stepIndex) * (k.step ?? 0), currency: 'USD' },
      options,
      weightGrams: rng.int(k.weight[0], k.weight[1]),
      position,
      stock: stockAt(rng),
    };
  });
  const product: ProductRecord = {
    id: productId,
    sellerId,
    name,
    description,
    categoryId: leaf.id,
    brand,
    attributes: k.attributes(rng),
    status: 'active',
    sellerActive: true,
    ratingAverage: 0,
    ratingCount: 0,
    createdAt: now,
    updatedAt: now,
  };
  const image = { id: newId(), productId, alt: name, mediaKey: placeholderKey(name), position: 0 };
  return { product, variants, image, categoryPath: leaf.path };
}

const BOOK_LEAVES = new Set(['Mystery', 'Science Fiction', 'Cookbooks', 'History']);

/** Writes generated products with multi-row inserts, registers their stock, and announces each one. */
async function insertGenerated(ctx: ModuleContext, tx: Db, batch: Generated[], options: { events: boolean }) {
  await store.insertProducts(tx, batch.map((g) => g.product));
  await store.insertVariants(tx, batch.flatMap((g) => g.variants));
  await store.insertImages(tx, batch.map((g) => g.image));
  await ctx.ports.get<StockPort>(STOCK_PORT).registerVariants(
    tx,
    batch.flatMap((g) =>
      g.variants.flatMap((v) => v.stock.map((s) => ({ variantId: v.id, productId: v.productId, sellerId: v.sellerId, initialStock: s.quantity, locationId: s.locationId }))),
    ),
    null,
  );
  if (!options.events) return;
  for (const g of batch) {
    const data: ProductChanged = { product: toSnapshot(g.product, g.categoryPath, g.variants, [g.image]) };
    await ctx.publish(tx, { type: CatalogEvents.ProductCreated, aggregateId: g.product.id, data });
  }
}

export const DEMO_PRODUCT_COUNT = 1020;

/**
 * The demo storefront: ~1,000 active products over a three-level tree, from the three demo sellers,
 * with stock in two warehouses and the store. Images are placeholders drawn on first request.
 */
export async function seedDemoCatalog(ctx: ModuleContext): Promise<void> {
  const started = Date.now();
  const { rows } = await sql`select 1 from catalog.products limit 1`.execute(ctx.db);
  if (rows.length > 0) return;
  const rng = prng(20_260_101);
  const demoStock = (r: Rng) => [
    { locationId: DEMO_LOCATIONS.mainWarehouse.id, quantity: r.chance(0.08) ? 0 : r.int(3, 80) },
    { locationId: DEMO_LOCATIONS.eastWarehouse.id, quantity: r.chance(0.3) ? 0 : r.int(0, 40) },
    { locationId: DEMO_LOCATIONS.downtownStore.id, quantity: r.int(0, 8) },
  ];
  await ctx.transaction(async (tx) => {
    const leaves = await ensureCategoryTree(ctx, tx);
    const batch: Generated[] = [];
    for (let i = 0; i < DEMO_PRODUCT_COUNT; i++) {
      const leaf = leaves[i % leaves.length]!;
      const seller = DEMO_SELLERS[i % DEMO_SELLERS.length]!;
      batch.push(generateProduct(rng, leaf, seller.id, `DEMO-${String(i + 1).padStart(5, '0')}`, demoStock));
    }
    await insertGenerated(ctx, tx, batch, { events: true });
  });
  ctx.logger.info({ products: DEMO_PRODUCT_COUNT, ms: Date.now() - started }, 'demo catalog loaded');
}

/**
 * A big catalog for benchmarks (`bazaar seed --products N`): N active products in the demo tree from
 * the demo sellers, stock at the default warehouse, committed in batches. Returns how long it took.
 */
export async function seedLargeCatalog(
  ctx: ModuleContext,
  options: { products: number; batchSize?: number; events?: boolean; seed?: number },
): Promise<{ products: number; variants: number; ms: number }> {
  const started = Date.now();
  const batchSize = options.batchSize ?? 1000;
  const rng = prng(options.seed ?? 42);
  // SKUs must be unique per seller, and this may run more than once on one database.
  const run = Date.now().toString(36).toUpperCase();
  const leaves = await ctx.transaction((tx) => ensureCategoryTree(ctx, tx));
  const stockAt = (r: Rng) => [{ locationId: DEMO_LOCATIONS.mainWarehouse.id, quantity: r.int(0, 200) }];
  let variants = 0;
  for (let done = 0; done < options.products; done += batchSize) {
    const size = Math.min(batchSize, options.products - done);
    const batch: Generated[] = [];
    for (let i = done; i < done + size; i++) {
      const seller = DEMO_SELLERS[i % DEMO_SELLERS.length]!;
      batch.push(generateProduct(rng, leaves[i % leaves.length]!, seller.id, `BENCH-${run}-${i + 1}`, stockAt));
    }
    variants += batch.reduce((n, g) => n + g.variants.length, 0);
    await ctx.transaction((tx) => insertGenerated(ctx, tx, batch, { events: options.events ?? true }));
  }
  const ms = Date.now() - started;
  ctx.logger.info({ products: options.products, variants, ms }, 'large catalog seeded');
  return { products: options.products, variants, ms };
}
