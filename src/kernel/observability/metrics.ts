import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/**
 * One registry per process (not the global one, so that several apps in one test process do not
 * collide). RED per route: rate and errors from the counter, duration from the histogram.
 */
export function createMetrics() {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const httpRequests = new Counter({
    name: 'bazaar_http_requests_total',
    help: 'HTTP requests by route and status',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const httpDuration = new Histogram({
    name: 'bazaar_http_request_duration_seconds',
    help: 'HTTP request duration by route',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [registry],
  });
  const eventsPublished = new Counter({
    name: 'bazaar_events_published_total',
    help: 'Outbox events published to the bus',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  const eventsConsumed = new Counter({
    name: 'bazaar_events_consumed_total',
    help: 'Events handled by consumers, by outcome',
    labelNames: ['consumer', 'type', 'outcome'] as const,
    registers: [registry],
  });
  const business = new Counter({
    name: 'bazaar_business_events_total',
    help: 'Business counters (sign-ups, orders placed, ...) by event type',
    labelNames: ['type'] as const,
    registers: [registry],
  });
  return { registry, httpRequests, httpDuration, eventsPublished, eventsConsumed, business };
}

export type Metrics = ReturnType<typeof createMetrics>;
