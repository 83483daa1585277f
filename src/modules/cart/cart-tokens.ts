import { createHash, randomBytes } from 'node:crypto';

/**
 * A guest's cart is reached by an opaque random token sent in `X-Cart-Token`. Only its SHA-256 is
 * stored: 256 random bits need no slow hash, and a leaked table does not hand out carts.
 */
export const CART_TOKEN_HEADER = 'x-cart-token';

const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export const newCartToken = (): string => randomBytes(32).toString('base64url');

export const hashCartToken = (token: string): string => createHash('sha256').update(token).digest('hex');

/** Anything else in the header cannot be one of ours; it is treated as no token at all. */
export const looksLikeCartToken = (value: unknown): value is string => typeof value === 'string' && TOKEN_SHAPE.test(value);
