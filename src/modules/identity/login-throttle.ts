import { createHash } from 'node:crypto';
import type { Logger } from 'pino';
import type { Cache } from '../../kernel/cache/cache.ts';
import { normaliseEmail } from './service.ts';

/**
 * Per-account brute-force brake. After `maxFailures` wrong passwords within `lockMinutes` of the first
 * one, the account refuses every login (the right password too) for `lockMinutes`. Counters live in the
 * shared cache (Redis when configured) so every instance sees them, and are keyed by the hash of the
 * email as typed, existing or not: an account that does not exist locks the same way, so a 429 does
 * not reveal which emails are registered.
 */
export interface LoginThrottle {
  /** Seconds until this account may try again; 0 when it is not locked. */
  lockedFor(email: string): Promise<number>;
  recordFailure(email: string): Promise<void>;
  clear(email: string): Promise<void>;
}

/**
 * When the shared cache (Redis) cannot be reached the brake is off (logged): logins keep working
 * through a cache outage, without the lockout, rather than all failing.
 */
export function createLoginThrottle(cache: Cache, options: { maxFailures: number; lockMinutes: number; logger?: Logger }): LoginThrottle {
  const windowMs = options.lockMinutes * 60_000;
  const orOff = async <T>(work: () => Promise<T>, off: T): Promise<T> => {
    try {
      return await work();
    } catch (error) {
      options.logger?.warn({ err: error }, 'login throttle off: shared cache unavailable');
      return off;
    }
  };
  const key = (kind: string, email: string) =>
    `identity:login-${kind}:${createHash('sha256').update(normaliseEmail(email)).digest('base64url')}`;
  return {
    async lockedFor(email) {
      const until = await orOff(() => cache.get<number>(key('lock', email)), undefined);
      if (!until) return 0;
      const seconds = Math.ceil((until - Date.now()) / 1000);
      return seconds > 0 ? seconds : 0;
    },
    async recordFailure(email) {
      await orOff(async () => {
        const failures = await cache.increment(key('failures', email), 1, windowMs);
        if (failures >= options.maxFailures) {
          await cache.set(key('lock', email), Date.now() + windowMs, windowMs);
          await cache.delete(key('failures', email));
        }
      }, undefined);
    },
    async clear(email) {
      await orOff(() => cache.delete(key('failures', email)), undefined);
    },
  };
}
