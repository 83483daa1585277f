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

/** Exponential backoff with full jitter, capped at 30 s. */
export function retryDelay(policy: RetryPolicy, attempt: number): number {
  const ceiling = Math.min(30_000, policy.baseDelayMs * 2 ** (attempt - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}
