import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const root = fileURLToPath(new URL('../../', import.meta.url));

function configError(env: Record<string, string>): string {
  try {
    loadConfig(env);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return (error as Error).message;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(env)}`);
}

describe('configuration from the environment', () => {
  it('runs with no environment at all on the documented defaults', () => {
    const config = loadConfig({});
    expect(config).toMatchObject({
      PORT: 3000,
      HOST: '0.0.0.0',
      DATA_DIR: './data',
      DEMO_DATA: true,
      LOG_LEVEL: 'info',
      ACCESS_TOKEN_TTL_SECONDS: 900,
      dataDirIsMemory: false,
    });
    expect(config.DATABASE_URL).toBeUndefined();
    expect(config.REDIS_URL).toBeUndefined();
  });

  it('reads numbers, switches and memory data dirs from their string form', () => {
    const config = loadConfig({ PORT: '8080', DEMO_DATA: 'off', DATA_DIR: 'memory://', LOG_LEVEL: 'warn', DATABASE_URL: 'postgresql://u@h/db' });
    expect(config).toMatchObject({ PORT: 8080, DEMO_DATA: false, dataDirIsMemory: true, LOG_LEVEL: 'warn', DATABASE_URL: 'postgresql://u@h/db' });
  });

  it('treats an empty variable as unset', () => {
    const config = loadConfig({ PORT: '', REDIS_URL: '' });
    expect(config.PORT).toBe(3000);
    expect(config.REDIS_URL).toBeUndefined();
  });

  it.each([
    [{ PORT: 'abc' }, 'PORT', 'whole number'],
    [{ PORT: '3.5' }, 'PORT', 'whole number'],
    [{ PORT: '70000' }, 'PORT', '65535'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL', 'debug'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL', 'postgres'],
    [{ DEMO_DATA: 'maybe' }, 'DEMO_DATA', 'true'],
    [{ ENCRYPTION_KEY: 'abc' }, 'ENCRYPTION_KEY', '64'],
    [{ REDIS_URL: 'http://cache' }, 'REDIS_URL', 'redis'],
  ])('rejects %j with one line naming the variable', (env, name, hint) => {
    const message = configError(env);
    expect(message).toContain(name);
    expect(message).toContain(hint);
    expect(message).not.toContain('\n');
  });

  it('refuses an admin email without a password', () => {
    expect(configError({ ADMIN_EMAIL: 'admin@example.com' })).toMatch(/ADMIN_EMAIL.*ADMIN_PASSWORD/);
  });

  it('stops the real CLI with one line on stderr and exit code 1 on a bad value', () => {
    const { PORT: _port, ...inherited } = process.env;
    const result = spawnSync(process.execPath, ['bin/bazaar.js', 'start'], {
      cwd: root,
      env: { ...inherited, PORT: 'abc', DATA_DIR: 'memory://', DATABASE_URL: '' },
      encoding: 'utf8',
      timeout: 30_000,
    });
    expect(result.status).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^bazaar: Invalid PORT="abc"/);
    expect(result.stdout).toBe('');
  });
});
