import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { isDatabaseUnavailable } from '../db/unavailable.ts';
import { Problem, PROBLEM_BASE, type FieldError } from './problem.ts';

const CONTENT_TYPE = 'application/problem+json; charset=utf-8';

function send(reply: FastifyReply, request: FastifyRequest, problem: Problem) {
  const body: Record<string, unknown> = {
    type: problem.type,
    title: problem.title,
    status: problem.status,
    detail: problem.detail,
    instance: request.url.split('?')[0],
    ...(problem.errors ? { errors: problem.errors } : {}),
    ...(problem.extra ?? {}),
  };
  if (problem.headers) reply.headers(problem.headers);
  return reply.status(problem.status).type(CONTENT_TYPE).serializer(JSON.stringify).send(body);
}

function validationErrors(error: FastifyError): FieldError[] {
  return (error.validation ?? []).map((v) => {
    const params = v.params as Record<string, unknown>;
    const missing = typeof params?.missingProperty === 'string' ? `/${params.missingProperty}` : '';
    const extra = typeof params?.additionalProperty === 'string' ? `/${params.additionalProperty}` : '';
    const where = error.validationContext && error.validationContext !== 'body' ? `${error.validationContext}:` : '';
    return { path: `${where}${v.instancePath || ''}${missing}${extra}` || '/', message: v.message ?? 'is invalid' };
  });
}

/**
 * Errors Fastify's router raises before any hook or handler (passed as the `frameworkErrors` option):
 * a URL that does not decode, a path parameter over the router's length limit.
 */
export function frameworkError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (error.code === 'FST_ERR_MAX_PARAM_LENGTH') {
    return send(reply, request, new Problem({ status: 414, type: 'uri-too-long', title: 'URI too long', detail: 'A path segment is longer than any identifier' }));
  }
  if (error.code === 'FST_ERR_BAD_URL') {
    return send(reply, request, new Problem({ status: 400, type: 'invalid-input', title: 'Invalid input', detail: 'The URL is not valid percent-encoded UTF-8' }));
  }
  request.log.error({ err: error }, 'router error');
  return send(reply, request, new Problem({ status: 500, type: 'internal', title: 'Internal server error', detail: 'Something went wrong on our side; it has been logged' }));
}

/**
 * What Node's HTTP parser refuses before Fastify sees a request (headers over 16 KB, a malformed
 * request line, a client too slow to send its headers), written straight to the socket as
 * problem+json (the `clientErrorHandler` option); Fastify's own answer is plain JSON.
 */
export function clientError(error: NodeJS.ErrnoException, socket: Socket) {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  const [status, type, title, detail] =
    error.code === 'HPE_HEADER_OVERFLOW' ? [431, 'headers-too-large', 'Request headers too large', 'The request line and headers exceed 16 KB']
    : error.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? [408, 'request-timeout', 'Request timeout', 'The request was not received in time']
    : [400, 'invalid-input', 'Invalid input', 'The request is not valid HTTP'];
  const body = JSON.stringify({ type: PROBLEM_BASE + type, title, status, detail });
  if (socket.writable) {
    socket.write(`HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nContent-Type: ${CONTENT_TYPE}\r\nConnection: close\r\n\r\n${body}`);
  }
  socket.destroy(error);
}

/**
 * Text PostgreSQL cannot store: the NUL character, or a lone UTF-16 surrogate (`"\ud800"` is valid
 * JSON, but no character; PostgreSQL refuses it in text and jsonb alike).
 */
const unstorable = (text: string) => text.includes('\u0000') || !(text as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Walks with a stack of its own: a 1 MB body may nest half a million arrays deep. */
function holdsUnstorableText(root: unknown): boolean {
  const pending: unknown[] = [root];
  while (pending.length > 0) {
    const value = pending.pop();
    if (typeof value === 'string') {
      if (unstorable(value)) return true;
    } else if (value !== null && typeof value === 'object' && !ArrayBuffer.isView(value)) {
      for (const key in value) {
        if (unstorable(key)) return true;
        pending.push((value as Record<string, unknown>)[key]);
      }
    }
  }
  return false;
}

/**
 * Query values (strings, or lists of them) with each NUL character made a space, as search reads
 * control characters, and each lone surrogate the replacement character, as a browser shows it.
 */
function storable(query: Record<string, unknown>): Record<string, unknown> {
  const clean: Record<string, unknown> = {};
  const mend = (v: string) => (v.replaceAll('\u0000', ' ') as unknown as { toWellFormed(): string }).toWellFormed();
  const value = (v: unknown) => (typeof v === 'string' ? mend(v) : v);
  for (const [key, v] of Object.entries(query)) clean[mend(key)] = Array.isArray(v) ? v.map(value) : value(v);
  return clean;
}

/**
 * PostgreSQL cannot store the NUL character or a lone surrogate in text or jsonb: a string carrying
 * one (`\u0000` or `\ud800` in JSON, `%00` in a URL) failed as a 500 deep in a handler, after a
 * transaction began. In a body or a path it is refused as bad input, before validation. In a query
 * string, the free text of searches and filters, it is mended: a pasted search with a stray control
 * character still searches, as search has always read control characters.
 */
export function refuseUnstorableText(app: FastifyInstance) {
  // A callback hook, not an async one: it runs on every request, and a promise each is not free.
  app.addHook('preValidation', (request, _reply, done) => {
    if (request.query && typeof request.query === 'object' && holdsUnstorableText(request.query)) request.query = storable(request.query as Record<string, unknown>);
    const part = holdsUnstorableText(request.body) ? 'body' : holdsUnstorableText(request.params) ? 'path' : undefined;
    if (!part) return done();
    done(new Problem({
      status: 400,
      type: 'invalid-input',
      title: 'Invalid input',
      detail: `The ${part} holds a NUL character (\\u0000) or a lone UTF-16 surrogate (such as \\ud800), which no text field accepts`,
    }));
  });
}

/** Maps everything a request can fail with to problem+json. Bad input is a 4xx, never a 500. */
export function installErrorHandling(app: FastifyInstance) {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error instanceof Problem) return send(reply, request, error);
    if (error.validation) {
      return send(reply, request, new Problem({
        status: 400,
        type: 'invalid-input',
        title: 'Invalid input',
        detail: 'The request does not match the schema',
        errors: validationErrors(error),
      }));
    }
    const status = error.statusCode ?? 500;
    if (status === 413 || error.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return send(reply, request, new Problem({ status: 413, type: 'payload-too-large', title: 'Payload too large', detail: 'The request body is too large' }));
    }
    if (status === 415 || error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return send(reply, request, new Problem({ status: 415, type: 'unsupported-media-type', title: 'Unsupported media type', detail: 'Send application/json' }));
    }
    if (status === 429) {
      return send(reply, request, new Problem({ status: 429, type: 'rate-limited', title: 'Too many requests', detail: error.message }));
    }
    if (status >= 400 && status < 500) {
      // Malformed JSON, empty JSON body, bad content length, and the like.
      return send(reply, request, new Problem({ status, type: 'invalid-input', title: 'Invalid input', detail: error.message }));
    }
    if (isDatabaseUnavailable(error)) {
      // A database restart or failover: nothing was wrong with the request, and it may be sent again.
      request.log.warn({ err: error }, 'database unavailable');
      return send(reply, request, new Problem({ status: 503, type: 'service-unavailable', title: 'Service unavailable', detail: 'The database cannot be reached just now; try again in a moment', headers: { 'retry-after': '1' } }));
    }
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, request, new Problem({ status: 500, type: 'internal', title: 'Internal server error', detail: 'Something went wrong on our side; it has been logged' }));
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, request, new Problem({ status: 404, type: 'not-found', title: 'Not found', detail: `No route ${request.method} ${request.url.split('?')[0]}` })),
  );
}

export { PROBLEM_BASE };
