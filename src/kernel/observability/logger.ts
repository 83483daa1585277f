import pino, { type Logger } from 'pino';
import type { Config } from '../config.ts';
import { currentWork } from './context.ts';

export type { Logger };

/**
 * JSON logs (pino). Every line written during a request or an event handler carries its request id and
 * correlation id, taken from the unit of work's context.
 */
export function createLogger(config: Pick<Config, 'LOG_LEVEL'>): Logger {
  return pino({
    level: config.LOG_LEVEL,
    base: { service: 'bazaar' },
    timestamp: pino.stdTimeFunctions.isoTime,
    redact: { paths: ['req.headers.authorization', 'req.headers.cookie', '*.password', '*.refreshToken', '*.accessToken'], censor: '[redacted]' },
    mixin() {
      const work = currentWork();
      if (!work) return {};
      return { requestId: work.requestId, correlationId: work.correlationId, ...(work.causationId ? { causationId: work.causationId } : {}) };
    },
  });
}
