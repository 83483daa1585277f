import { createHash } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql } from 'kysely';
import type { Db } from '../db/database.ts';
import { atCommit } from '../events/outbox.ts';
import type { WorkContext } from '../observability/context.ts';
import { badRequest, conflict } from './problem.ts';

/**
 * `Idempotency-Key` for unsafe requests (API.md, Conventions). The key row and the effect it guards
 * commit in ONE transaction: the row is inserted first (`on conflict do nothing`), so of two concurrent
 * requests with the same key the second waits on the first's uncommitted row (PostgreSQL's unique
 * index) or runs after it (PGlite's single connection), then finds it and replays the stored response.
 * A request that fails rolls its key row back with everything else, so retrying it is simply running
 * it again; only responses of requests that changed something are stored.
 */

export const IDEMPOTENCY_HEADER = 'idempotency-key';
export const IDEMPOTENCY_TTL_HOURS = 24;
const KEY = /^[\x21-\x7e]{1,255}$/;

export interface StoredResponse {
  statusCode: number;
  body: unknown;
}

/** The key a request carries, or undefined; a malformed one is a 400 rather than silently ignored. */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const raw = request.headers[IDEMPOTENCY_HEADER];
  if (raw === undefined) return undefined;
  const key = Array.isArray(raw) ? raw[0] : raw;
  if (typeof key !== 'string' || !KEY.test(key)) {
    throw badRequest('The Idempotency-Key header must be 1 to 255 visible ASCII characters', [
      { path: 'headers:/idempotency-key', message: 'is not a valid key' },
    ]);
  }
  return key;
}

/** A hash of what makes two requests "the same": canonical JSON, so key order in the body does not matter. */
export function fingerprint(value: unknown): string {
  return createHash('sha256').update(canonicalJson(value)).digest('hex');
}

function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}

/**
 * The statement that records the response to the request that used `key` first, inside the
 * transaction that did its work. It writes no row when the key is taken (by a request committed
 * meanwhile, or by one this statement waited for): the caller must roll back and answer with the
 * stored response. A key older than the TTL is free again: the same statement takes it over.
 */
function recordStatement(claim: { scope: string; key: string; requestHash: string }, response: StoredResponse) {
  return sql`
    insert into kernel.idempotency_keys (scope, key, request_hash, status_code, response)
    values (${claim.scope}, ${claim.key}, ${claim.requestHash}, ${response.statusCode}, ${JSON.stringify(response.body)}::jsonb)
    on conflict (scope, key) do update
      set request_hash = excluded.request_hash, status_code = excluded.status_code, response = excluded.response, created_at = now()
      where kernel.idempotency_keys.created_at < now() - ${IDEMPOTENCY_TTL_HOURS} * interval '1 hour'`;
}

/** Records the response now; false when the key is taken (see recordStatement). */
export async function recordIdempotentResponse(
  tx: Db,
  claim: { scope: string; key: string; requestHash: string },
  response: StoredResponse,
): Promise<boolean> {
  const { rows } = await sql`${recordStatement(claim, response)} returning key`.execute(tx);
  return rows.length === 1;
}

/** Thrown inside the transaction to undo a request whose key another request took first. */
class KeyTakenMeanwhile extends Error {}

/** The stored response for `key`, if the same request was answered before (a read, outside any transaction). */
export async function findIdempotentResponse(
  db: Db,
  claim: { scope: string; key: string; requestHash: string },
): Promise<StoredResponse | undefined> {
  const { rows } = await sql<{ request_hash: string; status_code: number | null; response: unknown }>`
    select request_hash, status_code, response from kernel.idempotency_keys
    where scope = ${claim.scope} and key = ${claim.key}
      and created_at >= now() - ${IDEMPOTENCY_TTL_HOURS} * interval '1 hour'`.execute(db);
  const row = rows[0];
  if (!row || row.status_code === null) return undefined;
  if (row.request_hash !== claim.requestHash) {
    throw conflict('idempotency-key-reused', 'This Idempotency-Key was already used with a different request');
  }
  return { statusCode: row.status_code, body: row.response };
}

/**
 * Runs `work` in one transaction guarded by the request's Idempotency-Key (if it has one) and sends its
 * response, or the stored response of the first request with that key. `scope` must separate callers
 * (e.g. `orders.place:<userId>`), and `requestBody` is what has to match for a replay.
 *
 * `prepare` runs first, outside the transaction (reads of other modules that must not wait on it).
 * Effects outside the database belong in `afterCommit` callbacks: a repeat's transaction rolls back.
 */
export async function respondIdempotently<P = undefined>(
  options: {
    request: FastifyRequest;
    reply: FastifyReply;
    db: Db;
    /** Opened with the request's work (`request.work`), so what it writes carries the request's ids. */
    transaction: <T>(work: (tx: Db) => Promise<T>, requestWork?: WorkContext) => Promise<T>;
    scope: string;
    requestBody: unknown;
    prepare?: () => Promise<P>;
  },
  work: (tx: Db, prepared: P) => Promise<StoredResponse>,
): Promise<FastifyReply> {
  const { request, reply, transaction, scope } = options;
  const key = idempotencyKeyOf(request);
  const claim = key ? { scope, key, requestHash: fingerprint(options.requestBody) } : undefined;
  const prepare = async () => (options.prepare ? await options.prepare() : undefined) as P;

  if (!claim) {
    const prepared = await prepare();
    const response = await transaction((tx) => work(tx, prepared), request.work);
    return reply.status(response.statusCode).send(response.body);
  }
  try {
    const prepared = await prepare();
    const response = await transaction(async (tx) => {
      const first = await work(tx, prepared);
      // Stored as JSON, so the replay is exactly what serialising the first response gives.
      const stored = { statusCode: first.statusCode, body: JSON.parse(JSON.stringify(first.body)) as unknown };
      // In the kernel's own transaction the key goes in with the outbox rows, one statement for both.
      const deferred = atCommit(tx, { statement: recordStatement(claim, stored), mustWrite: () => new KeyTakenMeanwhile() });
      if (!deferred && !(await recordIdempotentResponse(tx, claim, stored))) throw new KeyTakenMeanwhile();
      return stored;
    }, request.work);
    return reply.status(response.statusCode).send(response.body);
  } catch (error) {
    // Another request with this key may have finished first: then this is a repeat, whatever made this
    // attempt fail (throws 409 idempotency-key-reused when that request had another body).
    const stored = await findIdempotentResponse(options.db, claim);
    if (stored) return reply.header('idempotent-replayed', 'true').status(stored.statusCode).send(stored.body);
    if (error instanceof KeyTakenMeanwhile) {
      throw conflict('idempotency-request-in-progress', 'A request with this Idempotency-Key is still being processed');
    }
    throw error;
  }
}

/** Forgets keys past their TTL (run from a job). */
export async function purgeExpiredIdempotencyKeys(db: Db): Promise<number> {
  const result = await sql`
    delete from kernel.idempotency_keys where created_at < now() - ${IDEMPOTENCY_TTL_HOURS} * interval '1 hour'`.execute(db);
  return Number(result.numAffectedRows ?? 0);
}
