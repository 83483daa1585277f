import { Type, type TSchema } from '@sinclair/typebox';
import { badRequest } from './problem.ts';

/** Shapes every module's routes share, so the OpenAPI document names them once. */

export const Money = Type.Object(
  { amount: Type.Integer({ description: 'Integer minor units (cents)' }), currency: Type.String({ minLength: 3, maxLength: 3 }) },
  { $id: 'Money' },
);

/** Money in a route's schema: a reference to the one shared `Money`, which a schema may use many times. */
export const MoneyRef = Type.Unsafe<{ amount: number; currency: string }>({ $ref: 'Money#' });

export const ProblemDetails = Type.Object(
  {
    type: Type.String(),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.Optional(Type.String()),
    instance: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ path: Type.String(), message: Type.String() }))),
  },
  { $id: 'Problem', additionalProperties: true },
);

export const ListQuery = {
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  cursor: Type.Optional(Type.String({ maxLength: 512 })),
};

export const IdParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: 100 }) });

export const Page = <T extends TSchema>(item: T) =>
  Type.Object({ items: Type.Array(item), nextCursor: Type.Union([Type.String(), Type.Null()]) });

/** Opaque keyset cursors: the values of the sort key of the last item returned. */
export function encodeCursor(values: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(values)).toString('base64url');
}

export function decodeCursor(cursor: string | undefined, arity: number): (string | number)[] | undefined {
  if (!cursor) return undefined;
  try {
    const values = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(values) && values.length === arity && values.every((v) => typeof v === 'string' || typeof v === 'number')) {
      return values;
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest('The cursor is not valid', [{ path: 'querystring:/cursor', message: 'is not a cursor this API issued' }]);
}

const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const notOurs = () => badRequest('The cursor is not valid', [{ path: 'querystring:/cursor', message: 'is not a cursor this API issued' }]);

/**
 * The id a list's cursor carries, checked to be one: a cursor is opaque to the client but made of
 * its bytes, and an edited one reached PostgreSQL's uuid cast as a 500.
 */
export function decodeIdCursor(cursor: string | undefined): string | undefined {
  const values = decodeCursor(cursor, 1);
  if (!values) return undefined;
  if (typeof values[0] !== 'string' || !UUID_TEXT.test(values[0])) throw notOurs();
  return values[0];
}

/** The sequence number a list's cursor carries, checked to be one (see decodeIdCursor). */
export function decodeSeqCursor(cursor: string | undefined): number | undefined {
  const values = decodeCursor(cursor, 1);
  if (!values) return undefined;
  const seq = Number(values[0]);
  if (!Number.isSafeInteger(seq) || seq < 0) throw notOurs();
  return seq;
}

/** Common error responses for the OpenAPI document. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(statuses.map((s) => [s, { $ref: 'Problem#' }]));
