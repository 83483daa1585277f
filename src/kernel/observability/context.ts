/**
 * What a unit of work (an HTTP request, or the handling of one event) carries: ids that tie log lines,
 * emitted events and audit rows back to their cause.
 *
 * It travels explicitly (on the request, to the transactions the request opens, on the events a
 * handler publishes), not in an AsyncLocalStorage. On Node 20 an AsyncLocalStorage in use installs a
 * promise hook that runs for every promise the process creates and gives each one an extra property:
 * measured side by side under the checkout bench, about 9 % of the server's CPU per checkout
 * (bench/README.md, "Eighth round").
 */
export interface WorkContext {
  requestId?: string;
  correlationId: string;
  causationId?: string;
}

/** The work a consumer does for `event`: its correlation carries on, the event is the cause. */
export const workForEvent = (event: { id: string; correlationId: string }): WorkContext => ({ correlationId: event.correlationId, causationId: event.id });

type RequestScope = (work: WorkContext, next: () => void) => void;
const runDirectly: RequestScope = (_work, next) => next();
let requestScope: RequestScope = runDirectly;

/** Runs the rest of a request's handling (hooks, handler) in the scope a test installed, if any. */
export const inRequestScope = (work: WorkContext, next: () => void): void => requestScope(work, next);

/**
 * For tests that attribute work to requests (statement counts per request): they install an
 * AsyncLocalStorage of their own here. Production code never does, so it never pays for one.
 */
export function setRequestScope(scope: RequestScope | undefined): void {
  requestScope = scope ?? runDirectly;
}
