import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
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
    request.log.error({ err: error }, 'unhandled error');
    return send(reply, request, new Problem({ status: 500, type: 'internal', title: 'Internal server error', detail: 'Something went wrong on our side; it has been logged' }));
  });

  app.setNotFoundHandler((request, reply) =>
    send(reply, request, new Problem({ status: 404, type: 'not-found', title: 'Not found', detail: `No route ${request.method} ${request.url.split('?')[0]}` })),
  );
}

export { PROBLEM_BASE };
