import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { EventEnvelope } from './envelope.ts';
import { retryDelay, type EventBus, type RetryPolicy, type Subscription } from './bus.ts';

/**
 * The default bus of a single process. `publish` returns only after every subscriber has handled the
 * event or dead-lettered it, so the relay marks an outbox row published only when nothing is left to
 * do: a crash mid-way republishes the row on restart, and the inboxes drop what was already handled.
 */
export function createInProcessBus(policy: RetryPolicy, logger: Logger): EventBus {
  const subscriptions: Subscription[] = [];
  let closed = false;

  async function deliverWithRetries(subscription: Subscription, event: EventEnvelope) {
    for (let attempt = 1; ; attempt++) {
      try {
        await subscription.deliver(event);
        return;
      } catch (error) {
        if (attempt >= policy.maxAttempts || closed) {
          if (closed && attempt < policy.maxAttempts) throw error; // leave it in the outbox for the next start
          await subscription.deadLetter(event, error as Error, attempt);
          return;
        }
        logger.warn({ err: error, consumer: subscription.consumer, eventType: event.type, eventId: event.id, attempt }, 'event handler failed; retrying');
        await sleep(retryDelay(policy, attempt));
      }
    }
  }

  return {
    kind: 'in-process',
    async publish(event) {
      const targets = subscriptions.filter((s) => s.types.includes(event.type));
      await Promise.all(targets.map((s) => deliverWithRetries(s, event)));
    },
    async subscribe(subscription) {
      subscriptions.push(subscription);
    },
    async ping() {},
    async close() {
      closed = true;
    },
  };
}
