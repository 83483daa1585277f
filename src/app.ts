import { randomUUID } from 'node:crypto';
import { recordAudit } from './kernel/audit.ts';
import { createTokenService, loadSigningKey } from './kernel/auth/tokens.ts';
import { createCache, type Cache } from './kernel/cache/index.ts';
import type { Config } from './kernel/config.ts';
import { createSecretBox, loadEncryptionKey } from './kernel/crypto.ts';
import { openConfiguredDatabase, type Database } from './kernel/db/database.ts';
import { tableMaintenanceJob } from './kernel/db/maintenance.ts';
import { migrateSchema } from './kernel/db/migrations.ts';
import type { EventBus, Subscription } from './kernel/events/bus.ts';
import { createSubscription } from './kernel/events/consumers.ts';
import { createInProcessBus } from './kernel/events/in-process-bus.ts';
import { createNatsBus } from './kernel/events/nats-bus.ts';
import { writeAllToOutbox, writeToOutbox } from './kernel/events/outbox.ts';
import { runTransaction } from './kernel/events/transaction.ts';
import { eventPruningJob } from './kernel/events/pruning.ts';
import { createRelay, type Relay } from './kernel/events/relay.ts';
import { authentication } from './kernel/http/auth.ts';
import { createHttpServer, type ReadinessCheck } from './kernel/http/server.ts';
import { registerWebApps } from './kernel/http/web.ts';
import { createJobRunner, type JobRunner } from './kernel/jobs/scheduler.ts';
import { kernelMigrations } from './kernel/migrations.ts';
import type { BazaarModule, HttpApp, ModuleContext, PortRegistry } from './kernel/module.ts';
import { createLogger, type Logger } from './kernel/observability/logger.ts';
import { createMetrics, type Metrics } from './kernel/observability/metrics.ts';
import { registerPlatformRoutes } from './kernel/platform-routes.ts';
import { allModules } from './modules/index.ts';

export interface BuildOptions {
  config: Config;
  /** Defaults to every module, or those named in MODULES. */
  modules?: BazaarModule[];
  /** Injected by tests that share one database between app instances (e.g. a restart). */
  database?: Database;
  logger?: Logger;
  /** NATS stream name; tests use their own. */
  natsStream?: string;
  /** Redis key namespace; tests use their own. */
  cacheNamespace?: string;
  /** Relay, consumers' bus and jobs start only when true (tests may drive them by hand). */
  background?: boolean;
  /** Serve the built web apps (see web/). */
  serveWeb?: boolean;
}

export interface BazaarApp {
  http: HttpApp;
  ctx: ModuleContext;
  database: Database;
  bus: EventBus;
  relay: Relay;
  jobs: JobRunner;
  metrics: Metrics;
  cache: Cache;
  subscriptions: Map<string, Subscription>;
  modules: BazaarModule[];
  /** True when this start created the database (and so loaded demo data if enabled). */
  freshDatabase: boolean;
  close(): Promise<void>;
}

export function selectModules(config: Config): BazaarModule[] {
  if (!config.MODULES) return allModules;
  const wanted = config.MODULES.split(',').map((m) => m.trim()).filter(Boolean);
  const unknown = wanted.filter((name) => !allModules.some((m) => m.name === name));
  if (unknown.length > 0) throw new Error(`Unknown module(s) in MODULES: ${unknown.join(', ')}`);
  return allModules.filter((m) => wanted.includes(m.name));
}

/** Runs the kernel's and the given modules' migrations; returns whether the database was new. */
export async function migrateAll(database: Database, modules: BazaarModule[]): Promise<boolean> {
  const kernelApplied = await migrateSchema(database.db, 'kernel', kernelMigrations);
  for (const module of modules) await migrateSchema(database.db, module.name, module.migrations);
  return kernelApplied.includes('0001_events');
}

export async function buildApp(options: BuildOptions): Promise<BazaarApp> {
  const { config } = options;
  const logger = options.logger ?? createLogger(config);
  const modules = options.modules ?? selectModules(config);
  const metrics = createMetrics();
  const instanceId = `${process.pid}-${randomUUID().slice(0, 8)}`;

  const database = options.database ?? (await openConfiguredDatabase(config));
  const freshDatabase = await migrateAll(database, modules);
  const { db } = database;

  const cache = createCache({ redisUrl: config.REDIS_URL, namespace: options.cacheNamespace });
  const policy = { maxAttempts: config.EVENT_MAX_ATTEMPTS, baseDelayMs: config.EVENT_RETRY_BASE_MS };
  const bus = config.NATS_URL
    ? await createNatsBus({ url: config.NATS_URL, stream: options.natsStream ?? 'BAZAAR', policy, logger })
    : createInProcessBus(policy, logger);
  const relay = createRelay({
    db,
    bus,
    logger,
    metrics,
    instanceId,
    intervalMs: config.RELAY_INTERVAL_MS,
    modules: config.MODULES ? modules.map((m) => m.name) : undefined,
  });

  const ports = createPortRegistry();
  const ctx: ModuleContext = {
    config,
    db,
    logger,
    cache,
    // Revocations reach the other instances through the cache only when it is shared (Redis).
    tokens: createTokenService(loadSigningKey(config), config.ACCESS_TOKEN_TTL_SECONDS, { sharedCache: config.REDIS_URL ? cache : undefined, logger }),
    secrets: createSecretBox(loadEncryptionKey(config)),
    ports,
    // Only a commit that wrote events needs a relay pass; the interval catches anything else.
    transaction: (fn, work) => runTransaction(db, fn, { logger, published: (eager) => relay.afterCommit(eager), work }),
    publish: (tx, event) => writeToOutbox(tx, event),
    publishAll: (tx, events) => writeAllToOutbox(tx, events),
    audit: (tx, entry) => recordAudit(tx, entry),
  };
  for (const module of modules) module.providePorts?.(ctx);

  const readiness: ReadinessCheck[] = [{ name: 'database', check: () => database.ping() }];
  if (config.REDIS_URL) readiness.push({ name: 'redis', check: () => cache.ping() });
  if (config.NATS_URL) readiness.push({ name: 'nats', check: () => bus.ping() });

  const http = await createHttpServer({ config, logger, metrics, readiness });
  await http.register(authentication, { tokens: ctx.tokens });

  const subscriptions = new Map<string, Subscription>();
  for (const module of modules) {
    if (!module.handlers || Object.keys(module.handlers).length === 0) continue;
    subscriptions.set(module.name, createSubscription({
      consumer: module.name,
      handlers: module.handlers,
      groupDeliveries: module.groupDeliveries === true,
      inboxAtCommit: module.inboxAtCommit === true,
      db,
      logger,
      metrics,
      ctx,
      afterPublished: (eager) => relay.afterCommit(eager),
    }));
  }

  await http.register(
    async (api) => {
      registerPlatformRoutes(api as HttpApp, db, subscriptions);
      for (const module of modules) {
        if (module.routes) await api.register(async (scoped) => module.routes!(scoped as HttpApp, ctx));
      }
    },
    { prefix: '/api/v1' },
  );
  // After the API: the web apps' catch-all route must never shadow an API path.
  if (options.serveWeb !== false) await http.register(async (web) => registerWebApps(web as HttpApp));

  for (const module of modules) await module.onStart?.(ctx);
  if (freshDatabase && config.DEMO_DATA) {
    for (const module of modules) {
      if (!module.seedDemo) continue;
      const started = Date.now();
      await module.seedDemo(ctx);
      logger.info({ module: module.name, ms: Date.now() - started }, 'demo data loaded');
    }
  }

  const kernelJobs = [eventPruningJob(config.EVENT_RETENTION_DAYS), tableMaintenanceJob(['kernel', ...modules.map((m) => m.name)], database.kind)];
  const jobs = createJobRunner({ db, logger, instanceId, jobs: [...kernelJobs, ...modules.flatMap((m) => m.jobs ?? [])], ctx });

  // In-process subscribers do nothing until something publishes, so they are always wired: a hand-driven
  // relay pass (background off) must not mark events published that no consumer ever saw.
  if (options.background !== false || bus.kind === 'in-process') {
    for (const subscription of subscriptions.values()) await bus.subscribe(subscription);
  }
  if (options.background !== false) {
    relay.start();
    jobs.start();
  }

  await http.ready();

  let closed = false;
  return {
    http,
    ctx,
    database,
    bus,
    relay,
    jobs,
    metrics,
    cache,
    subscriptions,
    modules,
    freshDatabase,
    async close() {
      if (closed) return;
      closed = true;
      await http.close();
      await jobs.stop();
      // Together: a relay pass may be waiting on in-process retries that only closing the bus cuts short.
      await Promise.all([relay.stop(), bus.close()]);
      await cache.close();
      if (!options.database) await database.close();
    },
  };
}

function createPortRegistry(): PortRegistry {
  const ports = new Map<string, unknown>();
  return {
    provide(name, implementation) {
      ports.set(name, implementation);
    },
    get<T>(name: string): T {
      if (!ports.has(name)) throw new Error(`No module provides the port "${name}" in this process`);
      return ports.get(name) as T;
    },
  };
}
