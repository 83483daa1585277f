import { connect, type NatsConnection } from '@nats-io/transport-node';
import {
  AckPolicy,
  DeliverPolicy,
  jetstream,
  jetstreamManager,
  type ConsumerMessages,
  type JetStreamClient,
  type JetStreamManager,
} from '@nats-io/jetstream';
import type { Logger } from 'pino';
import type { EventEnvelope } from './envelope.ts';
import { retryDelay, type EventBus, type RetryPolicy, type Subscription } from './bus.ts';

export interface NatsBusOptions {
  url: string;
  /** Stream name and subject prefix; tests give each run its own so they never see each other's events. */
  stream: string;
  policy: RetryPolicy;
  logger: Logger;
}

const SUBJECT_SAFE = /[^A-Za-z0-9_-]/g;

/**
 * NATS JetStream as the bus between processes. Each module is a durable pull consumer that survives
 * restarts and resumes where it stopped. JetStream deduplicates publishes by message id (the event id)
 * within its window, and the consumers' inboxes drop any repeat that gets through.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<EventBus> {
  const { policy, logger } = options;
  const stream = options.stream.replace(SUBJECT_SAFE, '_');
  const nc: NatsConnection = await connect({ servers: options.url, name: `bazaar-${process.pid}`, maxReconnectAttempts: -1 });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js: JetStreamClient = jetstream(nc);
  const subject = (type: string) => `${stream}.${type}`;

  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], duplicate_window: 2 * 60 * 1_000_000_000 });
  }

  const running: ConsumerMessages[] = [];
  const loops: Promise<void>[] = [];

  return {
    kind: 'nats',
    async publish(event: EventEnvelope) {
      await js.publish(subject(event.type), JSON.stringify(event), { msgID: event.id });
    },
    async subscribe(subscription: Subscription) {
      const durable = subscription.consumer.replace(SUBJECT_SAFE, '_');
      const config = {
        durable_name: durable,
        ack_policy: AckPolicy.Explicit,
        deliver_policy: DeliverPolicy.All,
        filter_subjects: subscription.types.map(subject),
        ack_wait: 30 * 1_000_000_000,
        max_deliver: -1,
      };
      try {
        await jsm.consumers.info(stream, durable);
        await jsm.consumers.update(stream, durable, { filter_subjects: config.filter_subjects });
      } catch {
        await jsm.consumers.add(stream, config);
      }
      const consumer = await js.consumers.get(stream, durable);
      const messages = await consumer.consume({ max_messages: 64 });
      running.push(messages);
      loops.push(
        (async () => {
          for await (const msg of messages) {
            let event: EventEnvelope;
            try {
              event = msg.json<EventEnvelope>();
            } catch (error) {
              logger.error({ err: error, subject: msg.subject }, 'dropping a message that is not an event envelope');
              msg.term('not an event envelope');
              continue;
            }
            const attempt = msg.info.deliveryCount;
            try {
              await subscription.deliver(event);
              msg.ack();
            } catch (error) {
              if (attempt >= policy.maxAttempts) {
                try {
                  await subscription.deadLetter(event, error as Error, attempt);
                  msg.ack();
                } catch (deadLetterError) {
                  logger.error({ err: deadLetterError }, 'could not dead-letter an event; it will be redelivered');
                  msg.nak(retryDelay(policy, attempt));
                }
              } else {
                logger.warn({ err: error, consumer: subscription.consumer, eventId: event.id, attempt }, 'event handler failed; retrying');
                msg.nak(retryDelay(policy, attempt));
              }
            }
          }
        })(),
      );
    },
    async ping() {
      await nc.flush();
    },
    async close() {
      for (const messages of running) messages.stop();
      await Promise.allSettled(loops);
      await nc.drain();
    },
  };
}
