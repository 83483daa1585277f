import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { isDatabaseUnavailable, whileDatabaseUnavailable } from './unavailable.ts';

const pgError = (code: string, message = 'x') => Object.assign(new Error(message), { code });

describe('telling a database that is away from a statement it refused', () => {
  it('knows the errors of a restart, a failover or a cut connection', async () => {
    for (const error of [
      pgError('57P01', 'terminating connection due to administrator command'),
      pgError('57P03', 'the database system is shutting down'),
      pgError('08006', 'connection failure'),
      pgError('ECONNREFUSED'),
      pgError('ECONNRESET'),
      new Error('Connection terminated unexpectedly'),
      new Error('Client has encountered a connection error and is not queryable'),
    ]) {
      expect(isDatabaseUnavailable(error), String(error)).toBe(true);
    }
    // A server that is not listening at all, as node-postgres reports it.
    const client = new pg.Client({ connectionString: 'postgres://root@127.0.0.1:1/none', connectionTimeoutMillis: 2000 });
    const refused = await client.connect().then(() => null, (error: unknown) => error);
    expect(isDatabaseUnavailable(refused)).toBe(true);
    // A server restarting behind its Unix socket: the socket file is gone until it listens again.
    const socketless = new pg.Client({ connectionString: 'postgres://root@localhost:5999/none?host=/tmp/bazaar-no-such-socket-dir', connectionTimeoutMillis: 2000 });
    const missing = await socketless.connect().then(() => null, (error: unknown) => error);
    expect((missing as { code?: string }).code).toBe('ENOENT');
    expect(isDatabaseUnavailable(missing)).toBe(true);
  });

  it('does not mistake a refused statement or a bug for an outage', () => {
    for (const error of [pgError('23505', 'duplicate key'), pgError('40001', 'could not serialize'), pgError('22021', 'invalid byte sequence'), pgError('ENOENT', 'no such file'), new TypeError('x is undefined'), null, undefined, 'text']) {
      expect(isDatabaseUnavailable(error)).toBe(false);
    }
  });

  it('retries work while the database is away, and nothing else', async () => {
    let calls = 0;
    const recorded = await whileDatabaseUnavailable(async () => {
      calls++;
      if (calls < 3) throw pgError('57P01');
      return 'recorded';
    }, [1, 1, 1]);
    expect(recorded).toBe('recorded');
    expect(calls).toBe(3);

    calls = 0;
    await expect(whileDatabaseUnavailable(async () => { calls++; throw pgError('23505'); }, [1, 1])).rejects.toThrow();
    expect(calls).toBe(1);

    calls = 0;
    await expect(whileDatabaseUnavailable(async () => { calls++; throw pgError('ECONNREFUSED'); }, [1, 1])).rejects.toThrow();
    expect(calls).toBe(3);
  });
});
