import { setTimeout as sleep } from 'node:timers/promises';
import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerConfig,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { EventEnvelope } from './envelope.ts';
import { givesUp, retryDelay, type EventBus, type RetryPolicy, type Subscription } from './bus.ts';

export interface NatsBusOptions {
  url: string;
  /** Stream name and subject prefix; tests give each run its own so they never see each other's events. */
  stream: string;
  policy: RetryPolicy;
  logger: Logger;
}

const SUBJECT_SAFE = /[^A-Za-z0-9_-]/g;
const SECOND_NS = 1_000_000_000;
/** JetStream drops a second publish with the same message id (the event id) within this window. */
const DUPLICATE_WINDOW_NS = 2 * 60 * SECOND_NS;
/**
 * How long the stream keeps events. The outbox stays the record (rows are only marked published), so a
 * consumer down for longer than this is recovered by resetting `published_at` on the rows it missed.
 */
const RETENTION_NS = 7 * 24 * 3600 * SECOND_NS;
/** A delivery not acked within this is redelivered: it bounds how long a crashed consumer's events wait. */
const ACK_WAIT_NS = 30 * SECOND_NS;

/**
 * NATS JetStream as the bus between processes. Each module is a durable pull consumer that survives
 * restarts and resumes where it stopped. JetStream deduplicates publishes by message id (the event id)
 * within its window, and the consumers' inboxes drop any repeat that gets through. A failed delivery
 * is nak'ed with a backoff delay; after `maxAttempts` deliveries it is dead-lettered and acked.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<EventBus> {
  const { policy, logger } = options;
  const stream = options.stream.replace(SUBJECT_SAFE, '_');
  const nc: NatsConnection = await connect({ servers: options.url, name: `bazaar-${process.pid}`, maxReconnectAttempts: -1 });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js: JetStreamClient = jetstream(nc);
  const subject = (type: string) => `${stream}.${type}`;
  // Several filter subjects on one consumer need NATS 2.10; older servers get the whole stream and the
  // consumer skips types it has no handler for.
  const multipleFilters = atLeast(nc.info?.version, [2, 10, 0]);

  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], duplicate_window: DUPLICATE_WINDOW_NS, max_age: RETENTION_NS });
  }

  const closing = new AbortController();
  const running = new Set<ConsumerMessages>();
  const loops: Promise<void>[] = [];

  async function ensureConsumer(subscription: Subscription): Promise<string> {
    const durable = subscription.consumer.replace(SUBJECT_SAFE, '_');
    // No filter at all on older servers: the stream holds only this bus's subjects anyway.
    const filters: Partial<ConsumerConfig> = multipleFilters
      ? { filter_subjects: subscription.types.map(subject), filter_subject: undefined }
      : {};
    let existing: ConsumerConfig | undefined;
    try {
      existing = (await jsm.consumers.info(stream, durable)).config;
    } catch {
      existing = undefined;
    }
    if (!existing) {
      await jsm.consumers.add(stream, {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        // A module's first start receives what the stream still holds for it; its inbox makes that safe.
        deliver_policy: DeliverPolicy.All,
        ack_wait: ACK_WAIT_NS,
        max_deliver: -1,
        ...filters,
      });
    } else if (!sameFilters(existing, filters)) {
      // A module gained or lost a handler since the consumer was created.
      await jsm.consumers.update(stream, durable, filters);
    }
    return durable;
  }

  async function handle(subscription: Subscription, msg: JsMsg) {
    let event: EventEnvelope;
    try {
      event = msg.json<EventEnvelope>();
    } catch (error) {
      logger.error({ err: error, subject: msg.subject }, 'dropping a message that is not an event envelope');
      msg.term('not an event envelope');
      return;
    }
    if (!subscription.types.includes(event.type)) {
      msg.ack();
      return;
    }
    const attempt = msg.info.deliveryCount;
    try {
      await subscription.deliver(event);
      msg.ack();
    } catch (error) {
      if (!givesUp(policy, attempt, error)) {
        logger.warn({ err: error, consumer: subscription.consumer, eventType: event.type, eventId: event.id, attempt }, 'event handler failed; retrying');
        msg.nak(retryDelay(policy, attempt));
        return;
      }
      try {
        await subscription.deadLetter(event, error as Error, attempt);
        msg.ack();
      } catch (deadLetterError) {
        logger.error({ err: deadLetterError, eventId: event.id }, 'could not dead-letter an event; it will be redelivered');
        msg.nak(retryDelay(policy, attempt));
      }
    }
  }

  /**
   * Pulls and handles one message at a time, so a module sees a stream's events in order. If the pull
   * ever ends while the bus is open (a server-side error), it starts over after a pause rather than
   * leaving the module deaf until the next restart.
   */
  async function consumeUntilClosed(subscription: Subscription, durable: string) {
    while (!closing.signal.aborted) {
      let messages: ConsumerMessages | undefined;
      let failure: unknown;
      try {
        const consumer = await js.consumers.get(stream, durable);
        messages = await consumer.consume({ max_messages: 32 });
        running.add(messages);
        if (closing.signal.aborted) messages.stop();
        for await (const msg of messages) await handle(subscription, msg);
      } catch (error) {
        failure = error;
      } finally {
        if (messages) running.delete(messages);
      }
      if (closing.signal.aborted) return;
      logger.error({ err: failure, consumer: subscription.consumer }, 'event consumer ended while the bus is open; restarting it');
      try {
        await sleep(1_000, undefined, { signal: closing.signal });
        await ensureConsumer(subscription);
      } catch (error) {
        if (!closing.signal.aborted) logger.error({ err: error, consumer: subscription.consumer }, 'could not recreate the event consumer');
      }
    }
  }

  return {
    kind: 'nats',
    async publish(event: EventEnvelope) {
      await js.publish(subject(event.type), JSON.stringify(event), { msgID: event.id });
    },
    async subscribe(subscription: Subscription) {
      const durable = await ensureConsumer(subscription);
      loops.push(consumeUntilClosed(subscription, durable));
    },
    async ping() {
      await nc.flush();
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      // Messages already pulled are handled before the loops end, so none waits out the ack timeout.
      for (const messages of running) messages.stop();
      await Promise.allSettled(loops);
      await nc.drain();
    },
  };
}

function sameFilters(existing: ConsumerConfig, wanted: Partial<ConsumerConfig>): boolean {
  const have = existing.filter_subjects?.length ? existing.filter_subjects : existing.filter_subject ? [existing.filter_subject] : [];
  const want = wanted.filter_subjects ?? (wanted.filter_subject ? [wanted.filter_subject] : []);
  return have.length === want.length && [...have].sort().every((s, i) => s === [...want].sort()[i]);
}

function atLeast(version: string | undefined, minimum: [number, number, number]): boolean {
  const parts = (version ?? '0.0.0').split(/[.-]/).slice(0, 3).map((p) => Number.parseInt(p, 10) || 0);
  for (let i = 0; i < 3; i++) {
    if ((parts[i] ?? 0) !== minimum[i]) return (parts[i] ?? 0) > minimum[i]!;
  }
  return true;
}
