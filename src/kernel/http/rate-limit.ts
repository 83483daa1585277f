import type { FastifyRequest, preHandlerAsyncHookHandler } from 'fastify';
import type { Cache } from '../cache/cache.ts';
import { tooManyRequests } from './problem.ts';

export interface RateLimitRule {
  /** Counters of different rules never mix. */
  name: string;
  /** Requests allowed per window; 0 turns the rule off. */
  max: number;
  windowMs: number;
  key?: (request: FastifyRequest) => string;
}

/**
 * Fixed-window counter in the shared cache, so the limit holds across instances when REDIS_URL is set.
 * Sends RateLimit-* headers so well-behaved clients can slow down before they hit 429.
 */
export function rateLimit(cache: Cache, rule: RateLimitRule): preHandlerAsyncHookHandler {
  return async (request, reply) => {
    if (rule.max === 0) return;
    const window = Math.floor(Date.now() / rule.windowMs);
    const who = rule.key ? rule.key(request) : request.ip;
    let count: number;
    try {
      count = await cache.increment(`ratelimit:${rule.name}:${who}:${window}`, 1, rule.windowMs);
    } catch (error) {
      // The shared cache (Redis) is down: the limit fails open rather than turning every request away.
      request.log.warn({ err: error, rule: rule.name }, 'rate limit not applied: shared cache unavailable');
      return;
    }
    const resetSeconds = Math.ceil(((window + 1) * rule.windowMs - Date.now()) / 1000);
    reply.header('ratelimit-limit', rule.max);
    reply.header('ratelimit-remaining', Math.max(0, rule.max - count));
    reply.header('ratelimit-reset', resetSeconds);
    if (count > rule.max) throw tooManyRequests(`Too many requests; try again in ${resetSeconds} s`, resetSeconds);
  };
}
