import { setTimeout as sleep } from 'node:timers/promises';
import type { Logger } from 'pino';
import type { EventEnvelope } from './envelope.ts';
import { givesUp, retryDelay, type EventBus, type RetryPolicy, type Subscription } from './bus.ts';

export class BusClosedError extends Error {
  constructor() {
    super('The event bus is closed');
  }
}

/**
 * The default bus of a single process. `publish` returns only after every subscriber has handled the
 * event or dead-lettered it, so the relay marks an outbox row published only when nothing is left to
 * do: a crash mid-way republishes the row on restart, and the inboxes drop what was already handled.
 * Closing cuts retries short with an error, which leaves the row in the outbox for the next start.
 */
export function createInProcessBus(policy: RetryPolicy, logger: Logger): EventBus {
  const subscriptions: Subscription[] = [];
  const closing = new AbortController();

  async function deliverWithRetries(subscription: Subscription, event: EventEnvelope) {
    for (let attempt = 1; ; attempt++) {
      if (closing.signal.aborted) throw new BusClosedError();
      try {
        await subscription.deliver(event);
        return;
      } catch (error) {
        if (givesUp(policy, attempt, error)) {
          await subscription.deadLetter(event, error as Error, attempt);
          return;
        }
        logger.warn({ err: error, consumer: subscription.consumer, eventType: event.type, eventId: event.id, attempt }, 'event handler failed; retrying');
        try {
          await sleep(retryDelay(policy, attempt), undefined, { signal: closing.signal });
        } catch {
          throw new BusClosedError();
        }
      }
    }
  }

  return {
    kind: 'in-process',
    async publish(event) {
      if (closing.signal.aborted) throw new BusClosedError();
      const targets = subscriptions.filter((s) => s.types.includes(event.type));
      // Wait for every subscriber even when one fails, so no delivery is still running once this settles.
      const outcomes = await Promise.allSettled(targets.map((s) => deliverWithRetries(s, event)));
      const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
      if (failed) throw failed.reason;
    },
    async subscribe(subscription) {
      if (subscriptions.some((s) => s.consumer === subscription.consumer)) {
        throw new Error(`Consumer ${subscription.consumer} is already subscribed`);
      }
      subscriptions.push(subscription);
    },
    async ping() {},
    async close() {
      closing.abort();
    },
  };
}
