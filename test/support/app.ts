import { randomBytes } from 'node:crypto';
import { buildApp, type BazaarApp, type BuildOptions } from '../../src/app.ts';
import { loadConfig } from '../../src/kernel/config.ts';
import type { Database } from '../../src/kernel/db/database.ts';
import { createTestDatabase, type TestDatabase } from './databases.ts';

export interface Response<T = any> {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: T;
}

export interface RequestOptions {
  body?: unknown;
  token?: string;
  headers?: Record<string, string>;
  /** Raw payload, sent as is (for malformed-input tests). */
  raw?: string | Buffer;
}

export interface TestApp {
  app: BazaarApp;
  database: Database;
  request<T = any>(method: string, url: string, options?: RequestOptions): Promise<Response<T>>;
  get<T = any>(url: string, options?: RequestOptions): Promise<Response<T>>;
  post<T = any>(url: string, body?: unknown, options?: RequestOptions): Promise<Response<T>>;
  patch<T = any>(url: string, body?: unknown, options?: RequestOptions): Promise<Response<T>>;
  put<T = any>(url: string, body?: unknown, options?: RequestOptions): Promise<Response<T>>;
  delete<T = any>(url: string, options?: RequestOptions): Promise<Response<T>>;
  /** Builds a second app instance on the same database (a restart, or a second node). */
  restart(env?: Record<string, string>, options?: Partial<BuildOptions>): Promise<TestApp>;
  /** Closes the app and drops the test database. */
  close(): Promise<void>;
}

export const testEnv = (env: Record<string, string> = {}) =>
  loadConfig({
    DATA_DIR: 'memory://',
    DEMO_DATA: '0',
    LOG_LEVEL: process.env.TEST_LOG_LEVEL ?? 'silent',
    RATE_LIMIT_AUTH_PER_MIN: '0',
    EVENT_RETRY_BASE_MS: '5',
    RELAY_INTERVAL_MS: '50',
    JWT_SECRET: 'test-secret-test-secret-test-secret-42',
    ENCRYPTION_KEY: '0'.repeat(64),
    ...env,
  });

/**
 * Boots Bazaar on this test file's own database (PGlite, or a fresh database on the real PostgreSQL
 * when DATABASE_URL is set) and talks to it through Fastify's inject: the whole HTTP stack, no port.
 */
export async function startTestApp(env: Record<string, string> = {}, options: Partial<BuildOptions> = {}): Promise<TestApp> {
  const testDb = await createTestDatabase();
  return wrap(testDb, env, options, true);
}

async function wrap(testDb: TestDatabase, env: Record<string, string>, options: Partial<BuildOptions>, owner: boolean): Promise<TestApp> {
  const config = testEnv(env);
  // Each test database has its own namespace in Redis, which its restarts (and second nodes) share.
  const cacheNamespace = options.cacheNamespace ?? `test:${randomBytes(4).toString('hex')}:`;
  const app = await buildApp({ config, database: testDb.database, ...options, cacheNamespace });

  async function request<T>(method: string, url: string, options: RequestOptions = {}): Promise<Response<T>> {
    const headers: Record<string, string> = { ...(options.headers ?? {}) };
    if (options.token) headers.authorization = `Bearer ${options.token}`;
    let payload: string | Buffer | undefined;
    if (options.raw !== undefined) payload = options.raw;
    else if (options.body !== undefined) {
      payload = JSON.stringify(options.body);
      headers['content-type'] ??= 'application/json';
    }
    const response = await app.http.inject({ method: method as any, url, headers, payload });
    const type = String(response.headers['content-type'] ?? '');
    const body = type.includes('json') && response.body.length > 0 ? response.json() : response.body;
    return { status: response.statusCode, headers: response.headers as Response['headers'], body };
  }

  const self: TestApp = {
    app,
    database: testDb.database,
    request,
    get: (url, o) => request('GET', url, o),
    post: (url, body, o) => request('POST', url, { ...o, body }),
    patch: (url, body, o) => request('PATCH', url, { ...o, body }),
    put: (url, body, o) => request('PUT', url, { ...o, body }),
    delete: (url, o) => request('DELETE', url, o),
    async restart(nextEnv = env, nextOptions = options) {
      return wrap({ ...testDb, drop: async () => {} }, nextEnv, { cacheNamespace, ...nextOptions }, false);
    },
    async close() {
      await app.close();
      if (owner) await testDb.drop();
    },
  };
  return self;
}
