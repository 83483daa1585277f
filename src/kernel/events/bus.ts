import { isDatabaseUnavailable } from '../db/unavailable.ts';
import type { EventEnvelope } from './envelope.ts';

/**
 * Delivers one event to one consumer: the consumer's inbox check, its handler and the inbox row in one
 * transaction. Resolves when the event is handled (or was already handled); rejects on failure, and
 * the bus decides about retrying.
 */
export type Delivery = (event: EventEnvelope) => Promise<'handled' | 'duplicate'>;

export interface Subscription {
  /** Durable consumer name: one per module. */
  consumer: string;
  types: string[];
  deliver: Delivery;
  /** Called once a delivery has failed `maxAttempts` times; the bus then stops retrying it. */
  deadLetter(event: EventEnvelope, error: Error, attempts: number): Promise<void>;
}

export interface EventBus {
  readonly kind: 'in-process' | 'nats';
  /**
   * Hands an event to the bus. Resolves once the bus has durably taken it: for NATS when JetStream
   * acknowledged it, in-process when every subscriber has handled or dead-lettered it. Only then may
   * the relay mark the outbox row published.
   */
  publish(event: EventEnvelope): Promise<void>;
  subscribe(subscription: Subscription): Promise<void>;
  ping(): Promise<void>;
  close(): Promise<void>;
}

export interface RetryPolicy {
  maxAttempts: number;
  baseDelayMs: number;
}

/**
 * Whether a delivery that failed `attempt` times with `error` goes to the dead letters. A handler
 * that failed because the database is away (a restart, a failover) says nothing about the event, and
 * its dead letter could not be written either: it is retried, with the capped backoff, until the
 * database is back, however many attempts that takes.
 */
export function givesUp(policy: RetryPolicy, attempt: number, error: unknown): boolean {
  return attempt >= policy.maxAttempts && !isDatabaseUnavailable(error);
}

/** Exponential backoff with full jitter, capped at 30 s. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(30_000, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
