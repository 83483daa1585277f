import pino, { type Logger } from 'pino';
import type { Config } from '../config.ts';

export type { Logger };

/**
 * JSON logs (pino). A request's lines (Fastify's request logger) carry its request id, and its
 * correlation id when the client chose one; an event handler's lines (its context's logger) carry the
 * event's correlation and causation ids.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'bazaar' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.refreshToken', '*.accessToken'], censor: '[redacted]' },
  });
}
