import {
  BrokenCircuitError,
  circuitBreaker,
  ConsecutiveBreaker,
  ExponentialBackoff,
  handleWhen,
  retry,
  TaskCancelledError,
  timeout,
  TimeoutStrategy,
  wrap,
  type IPolicy,
} from 'cockatiel';

/**
 * The edge of the world we cannot reach in tests: a payment provider. A real adapter (Stripe, Adyen)
 * and the built-in test gateway implement the same small interface; everything else in payments only
 * sees this. Every money-moving call carries an idempotency key, so a call retried after a timeout is
 * answered with the first call's result instead of moving money twice.
 */

export interface CardDetails {
  brand: string;
  last4: string;
  expMonth: number;
  expYear: number;
}

export type AuthorizeResult =
  /** `card`: what the provider says of the card charged (as Stripe's payment_method_details), if it says. */
  | { status: 'authorized'; authorizationId: string; card?: { brand: string; last4: string } }
  | { status: 'declined'; declineCode: string; message: string };

export interface WebhookEvent {
  id: string;
  type: 'charge.succeeded' | 'charge.failed' | 'refund.succeeded';
  /** The idempotency key we sent with the call the event is about (our payment or refund id). */
  idempotencyKey: string;
  amount: number;
  currency: string;
  declineCode?: string;
  chargeId?: string;
  refundId?: string;
}

export interface PaymentProvider {
  readonly name: string;
  /** Turns a one-time token into a reusable one, with the card's public details. Throws InvalidTokenError. */
  saveCard(token: string): Promise<{ reusableToken: string; card: CardDetails }>;
  authorize(call: { idempotencyKey: string; token: string; amount: number; currency: string }): Promise<AuthorizeResult>;
  capture(call: { idempotencyKey: string; authorizationId: string; amount: number }): Promise<{ chargeId: string }>;
  refund(call: { idempotencyKey: string; chargeId: string; amount: number }): Promise<{ refundId: string }>;
  /** Checks the signature of a webhook and parses it; throws WebhookSignatureError. */
  verifyWebhook(rawBody: string, signature: string | undefined): WebhookEvent;
}

export class InvalidTokenError extends Error {}
export class WebhookSignatureError extends Error {}
/** The provider answered that it cannot serve now (a 5xx): worth retrying. */
export class ProviderUnavailableError extends Error {}

/** Failures worth another try: the provider did not answer in time, or said it is unavailable. */
export const isTransient = (error: Error): boolean =>
  error instanceof TaskCancelledError || error instanceof ProviderUnavailableError;

/** Failures after which the call's outcome is unknown or not yet attempted: the work is resumed later. */
export const isRetryLater = (error: unknown): boolean =>
  error instanceof TaskCancelledError || error instanceof ProviderUnavailableError || error instanceof BrokenCircuitError;

export interface ProviderPolicyOptions {
  timeoutMs: number;
  maxAttempts?: number;
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** Consecutive failures after which calls fail fast for `halfOpenAfterMs`. */
  breakerThreshold?: number;
  halfOpenAfterMs?: number;
}

/**
 * Every call to the provider: a timeout per attempt, retries with exponential backoff on transient
 * failures (safe because of the idempotency keys), and a circuit breaker so a provider that is down is
 * not hammered; callers see BrokenCircuitError and resume later. Declines are answers, not failures.
 */
export function providerPolicy(options: ProviderPolicyOptions): IPolicy {
  const transient = handleWhen(isTransient);
  const retrying = retry(transient, {
    maxAttempts: (options.maxAttempts ?? 3) - 1,
    backoff: new ExponentialBackoff({ initialDelay: options.initialDelayMs ?? 50, maxDelay: options.maxDelayMs ?? 2000 }),
  });
  const breaker = circuitBreaker(transient, {
    halfOpenAfter: options.halfOpenAfterMs ?? 10_000,
    breaker: new ConsecutiveBreaker(options.breakerThreshold ?? 5),
  });
  // Aggressive: stop waiting at the deadline even though the provider's call keeps running; its late
  // answer is dropped and the retry with the same idempotency key learns the outcome. A call that
  // answered in time is not aborted afterwards: nothing listens then, and each abort builds a
  // DOMException with its stack (two per charge, about 1 % of the server's time under checkout load).
  const perAttempt = timeout(options.timeoutMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
  return wrap(retrying, breaker, perAttempt);
}

/**
 * Runs one provider call under `policy`. Each call gets its own abort signal: without one, cockatiel
 * derives every call's signal from one process-wide signal, adding a listener to it per call in
 * flight, and past ten concurrent charges Node warns of a listener leak.
 */
export function callProvider<T>(policy: IPolicy, call: () => Promise<T>): Promise<T> {
  return policy.execute(call, new AbortController().signal);
}
