import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import './formats.ts';

/**
 * Every environment variable Bazaar reads, in one schema. The README's configuration table mirrors
 * this list; a value that does not fit fails start-up with one line naming the variable.
 */
const Env = Type.Object({
  PORT: Type.Integer({ minimum: 0, maximum: 65535, default: 3000 }),
  HOST: Type.String({ default: '0.0.0.0' }),
  DATABASE_URL: Type.Optional(Type.String({ pattern: '^postgres(ql)?://' })),
  DATABASE_POOL_SIZE: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
  DATABASE_PREPARED_STATEMENTS: Type.Boolean({ default: true }),
  DATABASE_LOCAL_SOCKET: Type.Boolean({ default: true }),
  DATA_DIR: Type.String({ default: './data' }),
  ADMIN_EMAIL: Type.Optional(Type.String({ format: 'email' })),
  ADMIN_PASSWORD: Type.Optional(Type.String({ minLength: 8 })),
  DEMO_DATA: Type.Boolean({ default: true }),
  RATE_LIMIT_AUTH_PER_MIN: Type.Integer({ minimum: 0, default: 30 }),
  LOGIN_MAX_FAILURES: Type.Integer({ minimum: 1, default: 5 }),
  LOGIN_LOCK_MINUTES: Type.Integer({ minimum: 1, default: 15 }),
  ENCRYPTION_KEY: Type.Optional(Type.String({ pattern: '^[0-9a-fA-F]{64}$' })),
  JWT_SECRET: Type.Optional(Type.String({ minLength: 32 })),
  ACCESS_TOKEN_TTL_SECONDS: Type.Integer({ minimum: 30, default: 900 }),
  REFRESH_TOKEN_TTL_DAYS: Type.Integer({ minimum: 1, default: 30 }),
  /** log2 of scrypt's N for new password hashes; stored hashes keep their own and are upgraded at login. */
  PASSWORD_HASH_COST: Type.Integer({ minimum: 10, maximum: 20, default: 15 }),
  REDIS_URL: Type.Optional(Type.String({ pattern: '^rediss?://' })),
  NATS_URL: Type.Optional(Type.String({ pattern: '^(nats|tls)://' })),
  LOG_LEVEL: Type.Union(
    ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'].map((l) => Type.Literal(l)),
    { default: 'info' },
  ),
  CORS_ORIGINS: Type.String({ default: '*' }),
  BODY_LIMIT_BYTES: Type.Integer({ minimum: 1024, default: 1_048_576 }),
  EVENT_MAX_ATTEMPTS: Type.Integer({ minimum: 1, default: 5 }),
  EVENT_RETRY_BASE_MS: Type.Integer({ minimum: 1, default: 200 }),
  RELAY_INTERVAL_MS: Type.Integer({ minimum: 10, default: 500 }),
  /** Published outbox rows and inbox rows older than this are deleted hourly; more than the NATS stream's 7 days. */
  EVENT_RETENTION_DAYS: Type.Integer({ minimum: 8, default: 14 }),
  MODULES: Type.Optional(Type.String()),
  /** A cart with items and no change for this long is marked abandoned (and cart.cart.abandoned is emitted). */
  CART_ABANDONED_AFTER_MINUTES: Type.Integer({ minimum: 1, default: 1440 }),
  /** An order's stock is held this long for its payment; unpaid orders are then cancelled. */
  ORDER_PAYMENT_TIMEOUT_MINUTES: Type.Integer({ minimum: 1, default: 30 }),
  /** How long one call to the payment provider may take before it counts as timed out (and is retried). */
  PAYMENT_PROVIDER_TIMEOUT_MS: Type.Integer({ minimum: 10, default: 10_000 }),
  /** Built-in test gateway: share of calls that are processed but answered too late (0..1), and latency per call. */
  PAYMENT_TEST_TIMEOUT_RATE: Type.Number({ minimum: 0, maximum: 1, default: 0 }),
  PAYMENT_TEST_LATENCY_MS: Type.Integer({ minimum: 0, default: 0 }),
  /** HMAC secret of the test gateway's webhooks; a random one per process when unset. */
  PAYMENT_WEBHOOK_SECRET: Type.Optional(Type.String({ minLength: 16 })),
  /** Lets a seller refund its own part (fulfilment group) of an order. */
  SELLER_REFUNDS_ENABLED: Type.Boolean({ default: false }),
});

export type Config = Static<typeof Env> & { dataDirIsMemory: boolean };

export class ConfigError extends Error {}

const truthy = new Set(['1', 'true', 'yes', 'on']);
const falsy = new Set(['0', 'false', 'no', 'off']);

export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  const raw: Record<string, unknown> = {};
  for (const key of Object.keys(Env.properties)) {
    const value = env[key];
    if (value === undefined || value === '') continue;
    raw[key] = value;
  }
  for (const [key, schema] of Object.entries(Env.properties)) {
    if (schema.type !== 'boolean' || typeof raw[key] !== 'string') continue;
    const v = raw[key].toLowerCase();
    if (truthy.has(v)) raw[key] = true;
    else if (falsy.has(v)) raw[key] = false;
  }
  // Value.Convert truncates "3.5" to 3; an integer setting must be written as one, or start-up fails.
  for (const [key, schema] of Object.entries(Env.properties)) {
    if (schema.type === 'integer' && typeof raw[key] === 'string' && !/^\s*-?\d+\s*$/.test(raw[key])) {
      throw new ConfigError(`Invalid ${key}=${JSON.stringify(raw[key])}: expected a whole number`);
    }
  }
  const withDefaults = Value.Default(Env, Value.Convert(Env, raw)) as Record<string, unknown>;
  const error = Value.Errors(Env, withDefaults).First();
  if (error) {
    const name = error.path.replace(/^\//, '') || 'environment';
    throw new ConfigError(`Invalid ${name}=${JSON.stringify(env[name] ?? '')}: ${describeExpected(error.schema) ?? error.message}`);
  }
  const parsed = withDefaults as Static<typeof Env>;
  if (parsed.ADMIN_EMAIL && !parsed.ADMIN_PASSWORD) {
    throw new ConfigError('ADMIN_EMAIL is set but ADMIN_PASSWORD is not: set both or neither');
  }
  return { ...parsed, dataDirIsMemory: parsed.DATA_DIR.startsWith('memory://') };
}

/** "Expected union value" helps nobody: name the values an enumerated setting accepts. */
function describeExpected(schema: TSchema): string | undefined {
  const choices = (schema.anyOf as TSchema[] | undefined)?.map((s) => s.const);
  if (choices && choices.length > 0 && choices.every((c) => typeof c === 'string')) return `expected one of ${choices.join(', ')}`;
  if (schema.type === 'boolean') return `expected one of ${[...truthy, ...falsy].join(', ')}`;
  return undefined;
}
