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
/** Between a module's name and the entity in the names of its consumers on NATS < 2.10 (`orders__payments_payment`). */
const ENTITY_SEPARATOR = '__';
/** A delivery not acked within this is redelivered: it bounds how long a crashed consumer's events wait. */
const ACK_WAIT_NS = 30 * SECOND_NS;
/** How often a held message's ack deadline is pushed back: well within ACK_WAIT_NS. */
const KEEP_ALIVE_MS = 10_000;
/** Messages a consumer may hold behind failing aggregates before it stops pulling more. */
const MAX_HELD = 1_000;

/** A message whose delivery failed, or one waiting behind such a message of its aggregate. */
interface Held {
  msg: JsMsg;
  event: EventEnvelope;
  /** Its first delivery's failure, when it had one. */
  failure?: { error: unknown };
}

/** `<module>.<entity>` of an event type: the part of the relay's aggregate key that is not the id. */
function entityOf(type: string): string {
  return type.split('.', 2).join('.');
}

/** The relay's aggregate key: it publishes each one's events in order, so this is what must stay ordered. */
function aggregateKey(event: EventEnvelope): string {
  return `${entityOf(event.type)}:${event.aggregateId}`;
}

/**
 * NATS JetStream as the bus between processes. Each module is a durable pull consumer that survives
 * restarts and resumes where it stopped. JetStream deduplicates publishes by message id (the event id)
 * within its window, and the consumers' inboxes drop any repeat that gets through. A failed delivery
 * is retried in this process with the backoff, holding back its aggregate's later events; after
 * `maxAttempts` attempts it is dead-lettered and acked.
 */
export async function createNatsBus(options: NatsBusOptions): Promise<EventBus> {
  const { policy, logger } = options;
  const stream = options.stream.replace(SUBJECT_SAFE, '_');
  const nc: NatsConnection = await connect({ servers: options.url, name: `bazaar-${process.pid}`, maxReconnectAttempts: -1 });
  const jsm: JetStreamManager = await jetstreamManager(nc);
  const js: JetStreamClient = jetstream(nc);
  const subject = (type: string) => `${stream}.${type}`;
  // Several filter subjects on one consumer need NATS 2.10. Older servers (Debian 12 ships 2.9) get
  // one consumer per entity a module listens to, each filtered to `<module>.<entity>.>`: without
  // a filter every module would receive, and ack, every event in the stream.
  const multipleFilters = atLeast(nc.info?.version, [2, 10, 0]);

  try {
    await jsm.streams.info(stream);
  } catch {
    await jsm.streams.add({ name: stream, subjects: [`${stream}.>`], duplicate_window: DUPLICATE_WINDOW_NS, max_age: RETENTION_NS });
  }

  const closing = new AbortController();
  const running = new Set<ConsumerMessages>();
  const loops: Promise<void>[] = [];

  /**
   * The durable consumers a subscription reads from on this server. Split by entity, a module still
   * sees each aggregate's events in order: the relay orders events per `<module>.<entity>` and
   * aggregate id, and nothing across entities.
   */
  function consumersOf(subscription: Subscription): { durable: string; filters: Partial<ConsumerConfig> }[] {
    const module = subscription.consumer.replace(SUBJECT_SAFE, '_');
    if (multipleFilters) return [{ durable: module, filters: { filter_subjects: subscription.types.map(subject), filter_subject: undefined } }];
    const entities = [...new Set(subscription.types.map(entityOf))].sort();
    return entities.map((entity) => ({ durable: `${module}${ENTITY_SEPARATOR}${entity.replace(SUBJECT_SAFE, '_')}`, filters: { filter_subject: `${subject(entity)}.>` } }));
  }

  /**
   * Where a module's new consumers start when its consumers of the other layout exist (the server was
   * upgraded past 2.10, or Bazaar was upgraded on an older server): after the earliest event any of
   * them has not had acknowledged, so nothing published meanwhile is skipped. What is delivered again
   * the inbox drops. Undefined when there are none: a module's first start reads the whole stream.
   */
  async function predecessorsOf(subscription: Subscription, wanted: string[]): Promise<{ names: string[]; startSeq?: number }> {
    const module = subscription.consumer.replace(SUBJECT_SAFE, '_');
    const names: string[] = [];
    let startSeq: number | undefined;
    for await (const info of jsm.consumers.list(stream)) {
      const name = info.config.durable_name ?? info.name;
      const ours = name === module || name.startsWith(`${module}${ENTITY_SEPARATOR}`);
      if (!ours || wanted.includes(name)) continue;
      names.push(name);
      const next = info.ack_floor.stream_seq + 1;
      startSeq = startSeq === undefined ? next : Math.min(startSeq, next);
    }
    return { names, startSeq };
  }

  async function ensureConsumers(subscription: Subscription): Promise<string[]> {
    const wanted = consumersOf(subscription);
    let predecessors: { names: string[]; startSeq?: number } | undefined;
    for (const { durable, filters } of wanted) {
      let existing: ConsumerConfig | undefined;
      try {
        existing = (await jsm.consumers.info(stream, durable)).config;
      } catch {
        existing = undefined;
      }
      if (!existing) {
        predecessors ??= await predecessorsOf(subscription, wanted.map((w) => w.durable));
        await jsm.consumers.add(stream, {
          durable_name: durable,
          ack_policy: AckPolicy.Explicit,
          ...(predecessors.startSeq === undefined
            ? // A module's first start receives what the stream still holds for it; its inbox makes that safe.
              { deliver_policy: DeliverPolicy.All }
            : { deliver_policy: DeliverPolicy.StartSequence, opt_start_seq: predecessors.startSeq }),
          ack_wait: ACK_WAIT_NS,
          max_deliver: -1,
          ...filters,
        });
      } else if (!sameFilters(existing, filters)) {
        // A module gained or lost a handler since the consumer was created.
        await jsm.consumers.update(stream, durable, filters);
      }
    }
    // Only once their successors exist; another instance may have removed them already.
    for (const name of predecessors?.names ?? []) await jsm.consumers.delete(stream, name).catch(() => false);
    return wanted.map((w) => w.durable);
  }

  /** The event a message carries, or undefined for one this consumer has nothing to do with (settled here). */
  function accept(subscription: Subscription, msg: JsMsg): EventEnvelope | undefined {
    let event: EventEnvelope;
    try {
      event = msg.json<EventEnvelope>();
    } catch (error) {
      logger.error({ err: error, subject: msg.subject }, 'dropping a message that is not an event envelope');
      msg.term('not an event envelope');
      return undefined;
    }
    if (!subscription.types.includes(event.type)) {
      msg.ack();
      return undefined;
    }
    return event;
  }

  /** One delivery; acks when handled, otherwise returns the failure. */
  async function tryOnce(subscription: Subscription, { msg, event }: Held): Promise<{ error: unknown } | undefined> {
    try {
      await subscription.deliver(event);
      msg.ack();
      return undefined;
    } catch (error) {
      return { error };
    }
  }

  /** Waits out a backoff delay; false once the bus is closing, which leaves the message unacked for redelivery. */
  async function pause(ms: number, msg: JsMsg): Promise<boolean> {
    try {
      await sleep(ms, undefined, { signal: closing.signal });
      msg.working();
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Retries a delivery in place until it is handled or dead-lettered, and acks it then. Not nak'ed:
   * JetStream would hand out the aggregate's later events while this one waited for its redelivery.
   */
  async function settle(subscription: Subscription, held: Held): Promise<boolean> {
    const { msg, event } = held;
    let attempt = msg.info.deliveryCount;
    let failure = held.failure ?? (await tryOnce(subscription, held));
    while (failure && !givesUp(policy, attempt, failure.error)) {
      logger.warn({ err: failure.error, consumer: subscription.consumer, eventType: event.type, eventId: event.id, attempt }, 'event handler failed; retrying');
      if (!(await pause(retryDelay(policy, attempt), msg))) return false;
      attempt++;
      failure = await tryOnce(subscription, held);
    }
    if (!failure) return true;
    // Releasing the aggregate without its dead letter would let its later events overtake this one.
    for (let tries = 1; ; tries++) {
      try {
        await subscription.deadLetter(event, failure.error as Error, attempt);
        msg.ack();
        return true;
      } catch (deadLetterError) {
        logger.error({ err: deadLetterError, consumer: subscription.consumer, eventId: event.id }, 'could not dead-letter an event; retrying');
        if (!(await pause(retryDelay(policy, tries), msg))) return false;
      }
    }
  }

  /**
   * Pulls and handles one message at a time, so a module sees each aggregate's events in order. A
   * failed delivery is retried on the side and holds back only its own aggregate's later events
   * (the relay's key); other aggregates keep flowing, as they may on the in-process bus. If the pull
   * ever ends while the bus is open (a server-side error), it starts over after a pause rather than
   * leaving the module deaf until the next restart.
   */
  async function consumeUntilClosed(subscription: Subscription, durable: string) {
    // Per aggregate: the failed delivery first, then the later events waiting for it.
    const held = new Map<string, Held[]>();
    const draining = new Set<Promise<void>>();
    let heldCount = 0;

    function hold(key: string, entry: Held) {
      heldCount++;
      const queue = held.get(key);
      if (queue) {
        queue.push(entry);
        return;
      }
      const started = [entry];
      held.set(key, started);
      const run = drain(key, started).finally(() => draining.delete(run));
      draining.add(run);
    }

    async function drain(key: string, queue: Held[]) {
      while (queue.length > 0) {
        if (closing.signal.aborted || !(await settle(subscription, queue[0]!))) return;
        queue.shift();
        heldCount--;
      }
      held.delete(key);
    }

    // Held messages stay unacked for as long as their aggregate fails; without this JetStream would
    // redeliver them after ack_wait, behind the consumer's back.
    const keepAlive = setInterval(() => {
      for (const queue of held.values()) for (const { msg } of queue) msg.working();
    }, KEEP_ALIVE_MS);

    try {
      while (!closing.signal.aborted) {
        let messages: ConsumerMessages | undefined;
        let failure: unknown;
        try {
          const consumer = await js.consumers.get(stream, durable);
          messages = await consumer.consume({ max_messages: 32 });
          running.add(messages);
          if (closing.signal.aborted) messages.stop();
          for await (const msg of messages) {
            const event = accept(subscription, msg);
            if (!event) continue;
            const key = aggregateKey(event);
            if (held.has(key)) hold(key, { msg, event });
            else {
              const failed = await tryOnce(subscription, { msg, event });
              if (failed) hold(key, { msg, event, failure: failed });
            }
            // Bounds memory whatever max_ack_pending the consumer has: pull on once an aggregate is released.
            while (heldCount >= MAX_HELD && draining.size > 0) await Promise.race(draining);
          }
        } catch (error) {
          failure = error;
        } finally {
          if (messages) running.delete(messages);
        }
        if (closing.signal.aborted) return;
        logger.error({ err: failure, consumer: subscription.consumer }, 'event consumer ended while the bus is open; restarting it');
        try {
          await sleep(1_000, undefined, { signal: closing.signal });
          await ensureConsumers(subscription);
        } catch (error) {
          if (!closing.signal.aborted) logger.error({ err: error, consumer: subscription.consumer }, 'could not recreate the event consumer');
        }
      }
    } finally {
      // Closing cuts the retries' delays short, so this is quick.
      await Promise.allSettled(draining);
      clearInterval(keepAlive);
    }
  }

  return {
    kind: 'nats',
    async publish(event: EventEnvelope) {
      await js.publish(subject(event.type), JSON.stringify(event), { msgID: event.id });
    },
    async subscribe(subscription: Subscription) {
      for (const durable of await ensureConsumers(subscription)) loops.push(consumeUntilClosed(subscription, durable));
    },
    async ping() {
      await nc.flush();
    },
    async close() {
      if (closing.signal.aborted) return;
      closing.abort();
      // Messages already pulled are handled before the loops end, so none waits out the ack timeout,
      // except those held behind a failing aggregate: left unacked, JetStream redelivers them.
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
