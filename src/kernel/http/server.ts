import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import cors from '@fastify/cors';
import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from '../config.ts';
import type { HttpApp } from '../module.ts';
import type { Metrics } from '../observability/metrics.ts';
import { inRequestScope, type WorkContext } from '../observability/context.ts';
import { clientError, frameworkError, installErrorHandling, refuseUnstorableText } from './errors.ts';
import { requestValidator } from './finite-numbers.ts';
import { Money, ProblemDetails } from './schemas.ts';

const ID_HEADER = /^[A-Za-z0-9._:-]{1,128}$/;

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

declare module 'fastify' {
  interface FastifyRequest {
    /** This request's ids: hand them to the transactions it opens. */
    work: WorkContext;
  }
}

/**
 * The Fastify app every process serves: problem+json errors, security headers, CORS, request and
 * correlation ids (on the response, on the request's log lines, and as `request.work` for what the
 * request writes), RED metrics per route, health, readiness and OpenAPI.
 */
export async function createHttpServer(options: {
  config: Config;
  logger: Logger;
  metrics: Metrics;
  readiness: ReadinessCheck[];
}): Promise<HttpApp> {
  const { config, logger, metrics } = options;
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    bodyLimit: config.BODY_LIMIT_BYTES,
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && ID_HEADER.test(given) ? given : randomUUID();
    },
    trustProxy: true,
    ajv: { customOptions: { removeAdditional: false, coerceTypes: 'array', useDefaults: true, allErrors: true } },
    schemaController: { compilersFactory: { buildValidator: requestValidator() } },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
    frameworkErrors: frameworkError,
    clientErrorHandler: clientError,
  }).withTypeProvider<TypeBoxTypeProvider>();

  app.decorateRequest('work', undefined as unknown as WorkContext);
  installErrorHandling(app as unknown as FastifyInstance);
  refuseUnstorableText(app as unknown as FastifyInstance);
  app.addSchema(ProblemDetails);
  app.addSchema(Money);

  app.addHook('onRequest', (request, reply, done) => {
    const given = request.headers['x-correlation-id'];
    const correlationId = typeof given === 'string' && ID_HEADER.test(given) ? given : request.id;
    reply.header('x-request-id', request.id);
    reply.header('x-correlation-id', correlationId);
    // Handlers hand `request.work` to the transactions they open (ctx.transaction(fn, request.work)),
    // so the events and audit rows a request writes carry its ids; Fastify's request logger already
    // names the request, and says the correlation when the client chose one.
    request.work = { requestId: request.id, correlationId };
    if (correlationId !== request.id) request.log = request.log.child({ correlationId });
    inRequestScope(request.work, done);
  });

  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const labels = { method: request.method, route, status: String(reply.statusCode) };
    metrics.httpRequests.inc(labels);
    metrics.httpDuration.observe(labels, reply.elapsedTime / 1000);
  });

  await app.register(helmet, {
    contentSecurityPolicy: {
      directives: {
        defaultSrc: ["'self'"],
        imgSrc: ["'self'", 'data:', 'blob:'],
        styleSrc: ["'self'", "'unsafe-inline'"],
        scriptSrc: ["'self'"],
        connectSrc: ["'self'"],
        // TLS is terminated in front of Bazaar in production; on plain HTTP (a laptop, a LAN address)
        // this directive would make browsers fetch the apps' scripts over https and fail.
        upgradeInsecureRequests: null,
      },
    },
    // Likewise HSTS belongs to whoever terminates TLS.
    strictTransportSecurity: false,
    crossOriginResourcePolicy: { policy: 'same-site' },
    // Applied globally, @fastify/helmet builds helmet's middleware (parsing the CSP) on every request,
    // about a tenth of the CPU of a cached catalog read. The headers never vary, so they are captured
    // once and copied onto each reply below.
    global: false,
  });
  let securityHeaders: Record<string, string | number | string[]> | undefined;
  app.addHook('onRequest', (_request, reply, done) => {
    if (!securityHeaders) {
      reply.helmet();
      const captured: Record<string, string | number | string[]> = {};
      for (const [name, value] of Object.entries(reply.raw.getHeaders())) if (value !== undefined) captured[name] = value;
      securityHeaders = captured;
    }
    reply.headers(securityHeaders);
    done();
  });
  const origins = config.CORS_ORIGINS.split(',').map((o) => o.trim()).filter(Boolean);
  await app.register(cors, {
    origin: origins.includes('*') ? true : origins,
    credentials: !origins.includes('*'),
    exposedHeaders: ['x-request-id', 'x-correlation-id', 'x-cart-token', 'ratelimit-limit', 'ratelimit-remaining', 'ratelimit-reset', 'retry-after'],
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: { title: 'Bazaar API', version: '1.0.0', description: 'Multi-seller commerce platform. Errors are RFC 9457 problem+json.' },
      servers: [{ url: '/' }],
      components: {
        securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } },
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });

  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  app.get('/healthz', { schema: { hide: true } }, async () => ({ status: 'ok' }));

  app.get('/readyz', { schema: { hide: true } }, async (_request, reply) => {
    const results = await Promise.all(
      options.readiness.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), 2000);
          return { name, ok: true };
        } catch (error) {
          return { name, ok: false, error: (error as Error).message };
        }
      }),
    );
    const ready = results.every((r) => r.ok);
    return reply.status(ready ? 200 : 503).send({ status: ready ? 'ready' : 'not ready', checks: results });
  });

  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) => {
    reply.type(metrics.registry.contentType);
    return metrics.registry.metrics();
  });

  return app as unknown as HttpApp;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms`)), ms);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
