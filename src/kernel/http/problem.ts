/**
 * Errors are values with a type. Domain code throws a Problem (or one of the helpers below) and the
 * HTTP layer renders it as RFC 9457 application/problem+json, in one place (errors.ts).
 */
export interface FieldError {
  path: string;
  message: string;
}

export const PROBLEM_BASE = 'https://bazaar.dev/problems/';

export class Problem extends Error {
  readonly status: number;
  readonly type: string;
  readonly title: string;
  readonly detail?: string;
  readonly errors?: FieldError[];
  readonly extra?: Record<string, unknown>;
  readonly headers?: Record<string, string>;

  constructor(options: {
    status: number;
    type: string;
    title: string;
    detail?: string;
    errors?: FieldError[];
    extra?: Record<string, unknown>;
    headers?: Record<string, string>;
  }) {
    super(options.detail ?? options.title);
    this.status = options.status;
    this.type = options.type.startsWith('http') || options.type === 'about:blank' ? options.type : PROBLEM_BASE + options.type;
    this.title = options.title;
    this.detail = options.detail;
    this.errors = options.errors;
    this.extra = options.extra;
    this.headers = options.headers;
  }
}

export const badRequest = (detail: string, errors?: FieldError[]) =>
  new Problem({ status: 400, type: 'invalid-input', title: 'Invalid input', detail, errors });
export const unauthorized = (detail = 'Authentication is required') =>
  new Problem({ status: 401, type: 'unauthorized', title: 'Not authenticated', detail });
export const forbidden = (detail = 'You are not allowed to do this') =>
  new Problem({ status: 403, type: 'forbidden', title: 'Forbidden', detail });
export const notFound = (what = 'Resource') =>
  new Problem({ status: 404, type: 'not-found', title: 'Not found', detail: `${what} not found` });
export const conflict = (type: string, detail: string, extra?: Record<string, unknown>) =>
  new Problem({ status: 409, type, title: 'Conflict', detail, extra });
export const unprocessable = (type: string, detail: string, extra?: Record<string, unknown>) =>
  new Problem({ status: 422, type, title: 'Unprocessable request', detail, extra });
export const tooManyRequests = (detail: string, retryAfterSeconds: number) =>
  new Problem({
    status: 429,
    type: 'rate-limited',
    title: 'Too many requests',
    detail,
    headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
  });
