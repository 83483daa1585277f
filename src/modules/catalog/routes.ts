import multipart from '@fastify/multipart';
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { hasPermission, principalOf, requirePermission } from '../../kernel/http/auth.ts';
import { badRequest, forbidden, notFound, Problem } from '../../kernel/http/problem.ts';
import { decodeCursor, encodeCursor, errorResponses, ListQuery, Page } from '../../kernel/http/schemas.ts';
import type { HttpApp, ModuleContext } from '../../kernel/module.ts';
import { MAX_PRICE } from './contract.ts';
import { createCategoryService } from './categories.ts';
import { MEDIA_KEY, renderPlaceholder, type MediaStore } from './media.ts';
import { createProductService, isUuid, republish, type Actor } from './products.ts';
import { createReadCache, type ReadCache } from './read-cache.ts';
import { attributeErrors, listScope, MAX_IMAGE_BYTES, type Viewer } from './service.ts';
import * as store from './store.ts';

// ---------------------------------------------------------------- schemas

/**
 * Ajv's `nullable` rather than a union with null: the request validator coerces types, and in a union
 * the first branch would coerce a value (null to "", 0 to null) before the right branch is tried.
 */
const nullable = <T>(schema: Record<string, unknown>) => Type.Unsafe<T | null>({ ...schema, nullable: true });

const Uuid = Type.String({ format: 'uuid' });
const Name = Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' });
const Sku = Type.String({ minLength: 1, maxLength: 64, pattern: '^[A-Za-z0-9][A-Za-z0-9._/-]*$', description: 'Unique among one seller\'s live variants' });
const MoneyInput = Type.Object(
  {
    amount: Type.Integer({ minimum: 0, maximum: MAX_PRICE, description: 'Integer minor units' }),
    currency: Type.String({ pattern: '^[A-Z]{3}$' }),
  },
  { additionalProperties: false },
);
const Price = Type.Union([MoneyInput, Type.Integer({ minimum: 0, maximum: MAX_PRICE, description: 'Bare integer: minor units of USD' })], {
  description: 'Money `{ amount, currency }`, or a bare integer of US cents',
});
const Options = Type.Record(Type.String(), Type.String({ maxLength: 100 }), {
  maxProperties: 10,
  propertyNames: { minLength: 1, maxLength: 50 },
  description: 'What tells variants apart, e.g. { "size": "M", "colour": "red" }',
});
// Values are checked by `attributeErrors` (string, number or boolean): a schema union would coerce them.
const Attributes = Type.Record(Type.String(), Type.Unknown({ description: 'A string (at most 1,000 characters), number or boolean' }), {
  maxProperties: 50,
  propertyNames: { minLength: 1, maxLength: 60 },
});
const Stock = Type.Integer({ minimum: 0, maximum: 1_000_000, description: 'Initial stock at the default warehouse' });
const WeightGrams = nullable<number>({ type: 'integer', minimum: 0, maximum: 1_000_000 });
const Brand = nullable<string>({ type: 'string', minLength: 1, maxLength: 100 });

const NewVariant = Type.Object(
  { sku: Sku, price: Price, stock: Type.Optional(Stock), options: Type.Optional(Options), weightGrams: Type.Optional(WeightGrams) },
  { additionalProperties: false },
);
const VariantPatch = Type.Object(
  {
    id: Type.Optional(Type.String({ format: 'uuid', description: 'Edit this variant; leave out to add a new one' })),
    sku: Type.Optional(Sku),
    price: Type.Optional(Price),
    stock: Type.Optional(Stock),
    options: Type.Optional(Options),
    weightGrams: Type.Optional(WeightGrams),
  },
  { additionalProperties: false },
);

const NewProduct = Type.Object(
  {
    name: Name,
    description: Type.String({ maxLength: 20_000 }),
    categoryId: Uuid,
    brand: Type.Optional(Brand),
    attributes: Type.Optional(Attributes),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active')], { default: 'active' })),
    sellerId: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: 'Admins only: create on behalf of this seller' })),
    variants: Type.Array(NewVariant, { minItems: 1, maxItems: 100 }),
  },
  { additionalProperties: false },
);

const ProductPatch = Type.Object(
  {
    name: Type.Optional(Name),
    description: Type.Optional(Type.String({ maxLength: 20_000 })),
    categoryId: Type.Optional(Uuid),
    brand: Type.Optional(Brand),
    attributes: Type.Optional(Attributes),
    status: Type.Optional(Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('archived')])),
    variants: Type.Optional(Type.Array(VariantPatch, { maxItems: 100 })),
    removeVariantIds: Type.Optional(Type.Array(Uuid, { maxItems: 100 })),
  },
  { additionalProperties: false, minProperties: 1 },
);

const MoneyOut = Type.Object({ amount: Type.Integer(), currency: Type.String() });
const Image = Type.Object({
  id: Type.String(),
  url: Type.String(),
  alt: Type.String(),
  urls: Type.Object({ small: Type.String(), medium: Type.String(), large: Type.String() }),
});
const Product = Type.Object({
  id: Type.String(),
  sellerId: Type.String(),
  name: Type.String(),
  description: Type.String(),
  categoryId: Type.String(),
  categoryPath: Type.Array(Type.String()),
  brand: Type.Union([Type.String(), Type.Null()]),
  attributes: Type.Record(Type.String(), Type.Unknown()),
  status: Type.String(),
  variants: Type.Array(
    Type.Object({
      id: Type.String(),
      sku: Type.String(),
      price: MoneyOut,
      options: Type.Record(Type.String(), Type.String()),
      weightGrams: Type.Union([Type.Integer(), Type.Null()]),
      available: Type.Integer({ description: 'Sellable stock: on hand minus reserved' }),
    }),
  ),
  images: Type.Array(Image),
  rating: Type.Object({ average: Type.Number(), count: Type.Integer() }),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const Category = Type.Object({
  id: Type.String(),
  name: Type.String(),
  slug: Type.String(),
  parentId: Type.Union([Type.String(), Type.Null()]),
  path: Type.Array(Type.String(), { description: 'Ids from the root down to this category' }),
});
const CategoryNode = Type.Recursive(
  (Node) =>
    Type.Object({
      id: Type.String(),
      name: Type.String(),
      slug: Type.String(),
      parentId: Type.Union([Type.String(), Type.Null()]),
      children: Type.Array(Node),
    }),
  { $id: 'CatalogCategoryNode' },
);

const ProductList = Type.Object({
  ...ListQuery,
  categoryId: Type.Optional(Type.String({ format: 'uuid', description: 'This category or any below it' })),
  sellerId: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  status: Type.Optional(
    Type.Union([Type.Literal('draft'), Type.Literal('active'), Type.Literal('archived'), Type.Literal('all')], {
      description: 'Owner (with sellerId = self) or admin only, except `active`',
    }),
  ),
  q: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Name contains (use /search for real search)' })),
});

const ProductParams = Type.Object({ id: Uuid });
const bearer = [{ bearer: [] }];
const tags = ['catalog'];

// ---------------------------------------------------------------- routes

function checkAttributes(attributes: Record<string, unknown> | undefined) {
  const errors = attributeErrors(attributes ?? {});
  if (errors.length > 0) throw badRequest('Attribute values must be short strings, numbers or booleans', errors);
}

function viewerOf(request: FastifyRequest): Viewer | undefined {
  if (!request.principal) return undefined;
  return {
    userId: request.principal.userId,
    managesAnyProduct: hasPermission(request, 'catalog:write-any-product'),
    writesOwnProducts: hasPermission(request, 'catalog:write-own-products'),
  };
}

function actorOf(request: FastifyRequest): Actor {
  const principal = principalOf(request);
  return {
    userId: principal.userId,
    viewer: viewerOf(request)!,
    audit: { actorId: principal.userId, actorRoles: principal.roles, ip: request.ip },
    work: request.work,
  };
}

/**
 * Serves an anonymous read from the read cache, or runs `read` and keeps its serialized body.
 * Signed-in viewers may see drafts and their own products, so only anonymous requests are cached.
 */
async function cachedRead<T>(request: FastifyRequest, reply: FastifyReply, readCache: ReadCache, read: () => Promise<T>): Promise<T | void> {
  if (request.principal || request.headers.authorization !== undefined) return read();
  let generation: number;
  try {
    generation = await readCache.generation();
  } catch (error) {
    // The shared cache (Redis) is down: a cache is an optimisation, the database still answers.
    request.log.warn({ err: error }, 'shared cache unavailable; answering from the database');
    return read();
  }
  let body = readCache.get(generation, request.url);
  if (body === undefined) {
    // The route's own response serializer, so a cached body is byte for byte what it would have sent.
    body = reply.serialize(await read()) as string;
    readCache.set(generation, request.url, body);
  }
  reply.type('application/json; charset=utf-8').send(body);
}

export async function catalogRoutes(app: HttpApp, ctx: ModuleContext, media: MediaStore) {
  // Only this plugin's routes accept multipart; everywhere else a multipart body stays a 415.
  await app.register(multipart, {
    limits: { fileSize: MAX_IMAGE_BYTES, files: 1, fields: 5, fieldSize: 2000, parts: 6 },
  });

  const products = createProductService(ctx, media);
  const categories = createCategoryService(ctx, republish);

  const readCache = createReadCache(ctx.cache);
  // Every successful catalog write has committed by the time its response is sent: orphan cached
  // reads before the client can ask again.
  app.addHook('onSend', async (request, reply, payload) => {
    if (request.method !== 'GET' && request.method !== 'HEAD' && reply.statusCode < 400) {
      // The write has committed: a cache that cannot be told must not turn it into a 500. Bodies
      // cached before it lapse within their one-second lifetime.
      await readCache.bump().catch((error) => request.log.warn({ err: error }, 'shared cache unavailable; cached catalog reads lapse by themselves'));
    }
    return payload;
  });

  // ------------------------------------------------------------ categories

  app.get('/categories', {
    schema: { tags, response: { 200: Type.Object({ items: Type.Array(CategoryNode) }) } },
  }, async () => ({ items: await categories.tree() }));

  app.post('/categories', {
    preHandler: requirePermission('catalog:manage-categories'),
    schema: {
      tags,
      security: bearer,
      body: Type.Object({ name: Name, parentId: Type.Optional(nullable<string>({ type: 'string', format: 'uuid' })) }, { additionalProperties: false }),
      response: { 201: Category, ...errorResponses(400, 401, 403) },
    },
  }, async (request, reply) => reply.status(201).send(await categories.create(actorOf(request), request.body)));

  app.patch('/categories/:id', {
    preHandler: requirePermission('catalog:manage-categories'),
    schema: {
      tags,
      security: bearer,
      params: ProductParams,
      body: Type.Object(
        { name: Type.Optional(Name), parentId: Type.Optional(nullable<string>({ type: 'string', format: 'uuid', description: 'null moves it to the top' })) },
        { additionalProperties: false, minProperties: 1 },
      ),
      response: { 200: Category, ...errorResponses(400, 401, 403, 404, 409) },
    },
  }, async (request) => categories.update(actorOf(request), request.params.id, request.body));

  app.delete('/categories/:id', {
    preHandler: requirePermission('catalog:manage-categories'),
    schema: { tags, security: bearer, params: ProductParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404, 409) } },
  }, async (request, reply) => {
    await categories.remove(actorOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  // ------------------------------------------------------------ products

  app.get('/products', {
    schema: { tags, querystring: ProductList, response: { 200: Page(Product), ...errorResponses(400, 403) } },
  }, async (request, reply) => cachedRead(request, reply, readCache, async () => {
    const { limit, cursor, categoryId, sellerId, status, q } = request.query;
    const scope = listScope(viewerOf(request), { sellerId, status });
    if (scope.kind === 'forbidden') throw forbidden('Only the owner (sellerId = yourself) or an admin may list products by status');
    const before = decodeCursor(cursor, 1);
    if (before && !isUuid(String(before[0]))) throw badRequest('The cursor is not valid');
    const rows = await products.page({
      storefrontOnly: scope.kind === 'storefront',
      status: scope.kind === 'managed' ? scope.status : undefined,
      sellerId: scope.kind === 'managed' ? scope.sellerId : sellerId,
      categoryId,
      q,
      beforeId: before ? String(before[0]) : undefined,
      limit: limit + 1,
    });
    const page = rows.slice(0, limit);
    return {
      items: page,
      nextCursor: rows.length > limit ? encodeCursor([page[page.length - 1]!.id]) : null,
    };
  }));

  app.post('/products', {
    preHandler: requirePermission('catalog:write-own-products'),
    schema: { tags, security: bearer, body: NewProduct, response: { 201: Product, ...errorResponses(400, 401, 403, 409) } },
  }, async (request, reply) => {
    checkAttributes(request.body.attributes);
    return reply.status(201).send(await products.create(actorOf(request), request.body));
  });

  app.get('/products/:id', {
    schema: { tags, params: ProductParams, response: { 200: Product, ...errorResponses(400, 404) } },
  }, async (request, reply) => cachedRead(request, reply, readCache, () => products.get(viewerOf(request), request.params.id)));

  app.patch('/products/:id', {
    preHandler: requirePermission('catalog:write-own-products'),
    schema: { tags, security: bearer, params: ProductParams, body: ProductPatch, response: { 200: Product, ...errorResponses(400, 401, 403, 404, 409) } },
  }, async (request) => {
    checkAttributes(request.body.attributes);
    return products.update(actorOf(request), request.params.id, request.body);
  });

  app.delete('/products/:id', {
    preHandler: requirePermission('catalog:write-own-products'),
    schema: { tags, security: bearer, params: ProductParams, response: { 204: Type.Null(), ...errorResponses(401, 403, 404) } },
  }, async (request, reply) => {
    await products.remove(actorOf(request), request.params.id);
    return reply.status(204).send(null);
  });

  // ------------------------------------------------------------ images

  app.post('/products/:id/images', {
    preHandler: requirePermission('catalog:write-own-products'),
    schema: {
      tags,
      security: bearer,
      description: 'multipart/form-data with one file part (JPEG, PNG or WebP, at most 5 MB) and an optional `alt` field before it (or `?alt=`).',
      consumes: ['multipart/form-data'],
      params: ProductParams,
      querystring: Type.Object({ alt: Type.Optional(Type.String({ maxLength: 300 })) }),
      response: { 201: Image, ...errorResponses(400, 401, 403, 404, 409, 413, 415) },
    },
  }, async (request, reply) => {
    if (!request.isMultipart()) {
      throw new Problem({ status: 415, type: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Send multipart/form-data with one image file' });
    }
    const file = await request.file();
    if (!file) throw badRequest('No file in the form', [{ path: '/file', message: 'is required' }]);
    const bytes = await file.toBuffer();
    const field = file.fields.alt;
    const fieldAlt = field && !Array.isArray(field) && field.type === 'field' ? String(field.value) : undefined;
    const alt = (fieldAlt ?? request.query.alt ?? '').slice(0, 300);
    return reply.status(201).send(await products.addImage(actorOf(request), request.params.id, { bytes, alt }));
  });

  app.delete('/products/:id/images/:imageId', {
    preHandler: requirePermission('catalog:write-own-products'),
    schema: {
      tags,
      security: bearer,
      params: Type.Object({ id: Uuid, imageId: Uuid }),
      response: { 204: Type.Null(), ...errorResponses(400, 401, 403, 404) },
    },
  }, async (request, reply) => {
    await products.removeImage(actorOf(request), request.params.id, request.params.imageId);
    return reply.status(204).send(null);
  });

  // Keys name a rendition that never changes (a new upload gets a new id), so caches may keep it forever.
  app.get('/media/*', {
    schema: { tags, params: Type.Object({ '*': Type.String({ maxLength: 200 }) }), produces: ['image/webp'], response: errorResponses(404) },
  }, async (request, reply) => {
    const key = request.params['*'];
    if (!MEDIA_KEY.test(key)) throw notFound('Media');
    let data = await media.get(key);
    if (!data && key.startsWith('placeholder/')) {
      // Demo products' art is drawn on first request instead of at start-up (1,000 images would slow it).
      const [, initials, rest] = key.split('/');
      const [colour, size] = rest!.replace('.webp', '').split('-');
      data = await renderPlaceholder(initials!, colour!, Number(size));
      await media.put(key, data);
    }
    if (!data) throw notFound('Media');
    return reply.header('cache-control', 'public, max-age=31536000, immutable').type('image/webp').send(data);
  });
}
