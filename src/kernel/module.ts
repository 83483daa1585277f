import type { FastifyInstance, FastifyBaseLogger, RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import type { Config } from './config.ts';
import type { Db } from './db/database.ts';
import type { Migrations } from './db/migrations.ts';
import type { EventEnvelope } from './events/envelope.ts';
import type { NewEvent } from './events/outbox.ts';
import type { Cache } from './cache/cache.ts';
import type { TokenService } from './auth/tokens.ts';
import type { SecretBox } from './crypto.ts';
import type { AuditEntry } from './audit.ts';
import type { WorkContext } from './observability/context.ts';
import { APP_CONTEXT, appContextOf } from './per-app.ts';

/** The Fastify instance a module's routes are registered on: TypeBox schemas type the handlers. */
export type HttpApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  TypeBoxTypeProvider
>;

/** Consumes one event inside a transaction that also records it in the consumer's inbox; `ctx` is the consuming app's. */
export type EventHandler = (event: EventEnvelope<any>, tx: Db, ctx: ModuleContext) => Promise<void>;

const OUTSIDE_TRANSACTION = Symbol('bazaar.handler.outsideTransaction');

/**
 * A handler whose whole effect lies outside the database and is harmless to repeat (bumping a cache
 * generation). It runs without a transaction or an inbox row: three statements saved on every event,
 * which matters for the busiest events (every stock change). Its `tx` argument is the plain `ctx.db`.
 */
export function outsideTransaction(handler: (event: EventEnvelope<any>, ctx: ModuleContext) => Promise<void>): EventHandler {
  const wrapped: EventHandler = (event, _db, ctx) => handler(event, ctx);
  (wrapped as any)[OUTSIDE_TRANSACTION] = true;
  return wrapped;
}

export function runsOutsideTransaction(handler: EventHandler): boolean {
  return (handler as any)[OUTSIDE_TRANSACTION] === true;
}

const IN_BATCHES = Symbol('bazaar.handler.inBatches');

export type BatchEventHandler = (events: EventEnvelope<any>[], tx: Db, ctx: ModuleContext) => Promise<void>;

/**
 * A handler that takes, all at once and in delivery order, the events of its type that a grouped
 * delivery (BazaarModule.groupDeliveries) holds in a row: one statement for many (the search index's
 * stock changes). Delivered alone, an event is a batch of one. Events a batch publishes are tied to
 * its first event.
 */
export function inBatches(handler: BatchEventHandler): EventHandler {
  const wrapped: EventHandler = (event, tx, ctx) => handler([event], tx, ctx);
  (wrapped as any)[IN_BATCHES] = handler;
  return wrapped;
}

export function batchHandlerOf(handler: EventHandler): BatchEventHandler | undefined {
  return (handler as any)[IN_BATCHES];
}

export interface JobDefinition {
  /** Unique across the cluster: the lease that keeps two instances from running it at once is keyed by it. */
  name: string;
  intervalMs: number;
  run(ctx: ModuleContext): Promise<void>;
}

/**
 * What the kernel hands every module. Nothing here carries business rules; a module reaches another
 * module only through `ports` (the other's contract.ts) or through events.
 */
export interface ModuleContext {
  config: Config;
  db: Db;
  logger: Logger;
  cache: Cache;
  tokens: TokenService;
  secrets: SecretBox;
  ports: PortRegistry;
  /**
   * Runs `fn` in one transaction; events written with `publish` are relayed right after commit. `work`:
   * whose work it is (a route passes `request.work`), so that its events and audit rows carry the
   * request's (or the handled event's) ids; without it, its events start a correlation of their own.
   */
  transaction<T>(fn: (tx: Db) => Promise<T>, work?: WorkContext): Promise<T>;
  /** Writes an event to the outbox in the caller's transaction. */
  publish<TData>(tx: Db, event: NewEvent<TData>): Promise<EventEnvelope<TData>>;
  /** Several events in one statement, in this order. */
  publishAll<TData>(tx: Db, events: NewEvent<TData>[]): Promise<EventEnvelope<TData>[]>;
  /** Records an admin/seller write in the audit log, in the caller's transaction. */
  audit(tx: Db, entry: AuditEntry): Promise<void>;
}

export interface PortRegistry {
  provide<T>(name: string, implementation: T): void;
  /** Throws when no module in this process (or client to a remote one) provides the port. */
  get<T>(name: string): T;
}

export interface BazaarModule {
  /** Also the name of the PostgreSQL schema the module owns. */
  name: string;
  migrations: Migrations;
  /** Registered as one Fastify plugin under /api/v1. */
  routes?(app: HttpApp, ctx: ModuleContext): Promise<void> | void;
  /** Event type -> handler. Each module is one durable consumer named after it. */
  handlers?: Record<string, EventHandler>;
  /**
   * Events delivered while a delivery to this consumer runs are handled together in its next
   * transaction (one begin, inbox write and commit for all). Only for handlers that take no row locks
   * other writers take in another order (a read model): otherwise a group could deadlock with them.
   * A group that fails runs again one event at a time, so a handler's effects outside the database
   * (other than afterCommit callbacks) may happen twice.
   */
  groupDeliveries?: boolean;
  /**
   * Every effect of this module's handlers is in their transaction (or an afterCommit callback): an
   * event delivered alone then has its inbox row written with the transaction's last statement
   * instead of before the handler, one statement fewer per event. A repeat delivery runs the handler
   * again and rolls back when it meets the row. With `groupDeliveries`, a group's rows go with its last
   * statement too; a group holding a repeat rolls back and is delivered again one event at a time.
   */
  inboxAtCommit?: boolean;
  jobs?: JobDefinition[];
  /** Ports this module provides to others; called before any module's routes or start. */
  providePorts?(ctx: ModuleContext): void;
  /** After migrations: ensure configured data (e.g. the admin user). */
  onStart?(ctx: ModuleContext): Promise<void>;
  /** After every module's onStart, on an empty database with DEMO_DATA on. */
  seedDemo?(ctx: ModuleContext): Promise<void>;
}

/**
 * `ctx` doing `work`: its transactions do that work unless told otherwise, and its logger names the
 * work's ids (made on first use). What an event handler gets, so the transactions and log lines that
 * follow from an event carry its correlation. Made for every delivery, so it is one small object on
 * a prototype made once per app.
 */
export function contextForWork(ctx: ModuleContext, work: WorkContext): ModuleContext {
  const scoped = Object.create(workPrototypeOf(appContextOf(ctx))) as ScopedContext;
  scoped[WORK] = work;
  return scoped;
}

const WORK = Symbol('bazaar.work');
const LOGGER = Symbol('bazaar.work-logger');
type ScopedContext = ModuleContext & { [WORK]: WorkContext; [LOGGER]?: Logger };

const workPrototypes = new WeakMap<ModuleContext, ModuleContext>();
function workPrototypeOf(app: ModuleContext): ModuleContext {
  let prototype = workPrototypes.get(app);
  if (!prototype) {
    prototype = Object.create(app, {
      [APP_CONTEXT]: { value: app },
      transaction: {
        value<T>(this: ScopedContext, fn: (tx: Db) => Promise<T>, given?: WorkContext) {
          return app.transaction(fn, given ?? this[WORK]);
        },
      },
      logger: {
        get(this: ScopedContext) {
          const work = this[WORK];
          return (this[LOGGER] ??= app.logger.child({ correlationId: work.correlationId, ...(work.causationId ? { causationId: work.causationId } : {}) }));
        },
      },
    }) as ModuleContext;
    workPrototypes.set(app, prototype);
  }
  return prototype;
}
