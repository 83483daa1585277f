/** ARCHITECTURE §4: every event, in-process or on NATS, travels in this envelope. */
export interface EventEnvelope<TData = unknown> {
  id: string;
  type: string;
  version: number;
  occurredAt: string;
  aggregateId: string;
  correlationId: string;
  causationId: string | null;
  data: TData;
}

/** Event names are `<module>.<entity>.<past-tense>`; the first segment names the emitting module. */
export const EVENT_TYPE = /^[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*\.[a-z][a-z0-9_]*$/;

export function emittingModule(type: string): string {
  return type.slice(0, type.indexOf('.'));
}
