import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  InvalidTokenError,
  WebhookSignatureError,
  type AuthorizeResult,
  type CardDetails,
  type PaymentProvider,
  type WebhookEvent,
} from './provider.ts';

/**
 * The built-in test gateway: behaves like a real card gateway, on this side of the network. Test cards
 * are named the way a well-known gateway names them. It keeps its own books (authorizations, charges,
 * refunds) keyed by the idempotency key it was sent, so a retried call returns the first call's
 * result. A configurable share of calls is processed but answered too late (what a network timeout
 * looks like from our side), and webhooks are signed with HMAC-SHA256 like the real thing.
 */

interface TestCard extends CardDetails {
  /** Set for cards whose charges are declined. */
  decline?: { code: string; message: string };
}

export const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: 'visa', last4: '4242', expMonth: 12, expYear: 2034 },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', expMonth: 12, expYear: 2034 },
  pm_card_amex: { brand: 'amex', last4: '8431', expMonth: 12, expYear: 2034 },
  pm_card_chargeDeclined: {
    brand: 'visa',
    last4: '0002',
    expMonth: 12,
    expYear: 2034,
    decline: { code: 'card_declined', message: 'Your card was declined.' },
  },
  pm_card_insufficientFunds: {
    brand: 'visa',
    last4: '9995',
    expMonth: 12,
    expYear: 2034,
    decline: { code: 'insufficient_funds', message: 'Your card has insufficient funds.' },
  },
};

export interface GatewayCharge {
  chargeId: string;
  idempotencyKey: string;
  amount: number;
  currency: string;
  token: string;
  refunded: number;
}

export interface TestGatewayOptions {
  /** Share (0..1) of calls that are carried out but answered only after `lateAnswerMs`. */
  timeoutRate?: number;
  latencyMs?: number;
  /** How late a "timed out" call answers; longer than any sane client timeout by default. */
  lateAnswerMs?: number;
  webhookSecret?: string;
  /** Injected for deterministic tests; Math.random otherwise. */
  random?: () => number;
  /** Seconds a webhook signature stays acceptable. */
  webhookToleranceSeconds?: number;
}

export interface TestGateway extends PaymentProvider {
  /** The gateway's own books, as its dashboard would show them. */
  readonly charges: ReadonlyMap<string, GatewayCharge>;
  /** How many calls of each kind reached the gateway (retries included). */
  readonly calls: { authorize: number; capture: number; refund: number; saveCard: number };
  timeoutRate: number;
  latencyMs: number;
  random: () => number;
  /** A webhook as the gateway would POST it: the raw body and its signature header. */
  signWebhook(event: WebhookEvent, at?: Date): { body: string; signature: string };
}

export const SIGNATURE_HEADER = 'bazaar-gateway-signature';
const RECORDS_KEPT = 100_000;

const sleep = (ms: number) =>
  new Promise<void>((resolve) => {
    if (ms <= 0) return resolve();
    setTimeout(resolve, ms).unref();
  });

export function createTestGateway(options: TestGatewayOptions = {}): TestGateway {
  const secret = options.webhookSecret ?? randomBytes(24).toString('hex');
  const tolerance = options.webhookToleranceSeconds ?? 300;
  type Authorization = { authorizationId: string; result: AuthorizeResult; amount: number; currency: string; token: string };
  const authorizations = new Map<string, Authorization>();
  const authorizationsById = new Map<string, Authorization>();
  const charges = new Map<string, GatewayCharge>();
  const chargesById = new Map<string, GatewayCharge>();
  const refunds = new Map<string, { refundId: string; chargeId: string; amount: number }>();
  const savedCards = new Map<string, string>();
  const calls = { authorize: 0, capture: 0, refund: 0, saveCard: 0 };
  const id = (prefix: string) => `${prefix}_${randomBytes(10).toString('hex')}`;
  /**
   * The books of authorizations, charges and refunds keep the latest RECORDS_KEPT entries of each kind
   * (a Map iterates oldest first): a server running for weeks must not grow without end, and a real
   * gateway's idempotency window is bounded too. Saved cards are kept for good.
   */
  function remember<K, V>(map: Map<K, V>, key: K, value: V) {
    map.set(key, value);
    if (map.size > RECORDS_KEPT) map.delete(map.keys().next().value as K);
  }

  /** Carries out `operation` and answers after the configured latency, or very late on a "timeout". */
  async function answer<T>(operation: () => T): Promise<T> {
    const late = gateway.random() < gateway.timeoutRate;
    // No latency configured: answer at once (a timer of 0 still waits a millisecond or more).
    if (gateway.latencyMs > 0) await sleep(gateway.latencyMs);
    const result = operation();
    if (late) await sleep(options.lateAnswerMs ?? 60_000);
    return result;
  }

  function cardOf(token: string): TestCard | undefined {
    return TEST_CARDS[savedCards.get(token) ?? token];
  }

  const gateway: TestGateway = {
    name: 'test-gateway',
    charges,
    calls,
    timeoutRate: options.timeoutRate ?? 0,
    latencyMs: options.latencyMs ?? 0,
    random: options.random ?? Math.random,

    async saveCard(token) {
      calls.saveCard++;
      return answer(() => {
        const card = cardOf(token);
        if (!card) throw new InvalidTokenError(`No such payment method: ${token}`);
        const reusableToken = id('pm_saved');
        savedCards.set(reusableToken, savedCards.get(token) ?? token);
        const { brand, last4, expMonth, expYear } = card;
        return { reusableToken, card: { brand, last4, expMonth, expYear } };
      });
    },

    async authorize({ idempotencyKey, token, amount, currency }) {
      calls.authorize++;
      return answer(() => {
        const seen = authorizations.get(idempotencyKey);
        if (seen) return seen.result;
        const card = cardOf(token);
        const result: AuthorizeResult = !card
          ? { status: 'declined', declineCode: 'invalid_payment_method', message: 'No such payment method.' }
          : card.decline
            ? { status: 'declined', declineCode: card.decline.code, message: card.decline.message }
            : { status: 'authorized', authorizationId: id('auth'), card: { brand: card.brand, last4: card.last4 } };
        const authorization = { authorizationId: result.status === 'authorized' ? result.authorizationId : '', result, amount, currency, token };
        remember(authorizations, idempotencyKey, authorization);
        if (result.status === 'authorized') remember(authorizationsById, result.authorizationId, authorization);
        return result;
      });
    },

    async capture({ idempotencyKey, authorizationId, amount }) {
      calls.capture++;
      return answer(() => {
        const seen = charges.get(idempotencyKey);
        if (seen) return { chargeId: seen.chargeId };
        const authorization = authorizationsById.get(authorizationId);
        if (!authorization || authorization.result.status !== 'authorized') throw new Error(`No such authorization: ${authorizationId}`);
        if (amount > authorization.amount) throw new Error('Cannot capture more than was authorized');
        const charge: GatewayCharge = {
          chargeId: id('ch'),
          idempotencyKey,
          amount,
          currency: authorization.currency,
          token: authorization.token,
          refunded: 0,
        };
        remember(charges, idempotencyKey, charge);
        remember(chargesById, charge.chargeId, charge);
        return { chargeId: charge.chargeId };
      });
    },

    async refund({ idempotencyKey, chargeId, amount }) {
      calls.refund++;
      return answer(() => {
        const seen = refunds.get(idempotencyKey);
        if (seen) return { refundId: seen.refundId };
        const charge = chargesById.get(chargeId);
        if (!charge) throw new Error(`No such charge: ${chargeId}`);
        if (charge.refunded + amount > charge.amount) throw new Error('Cannot refund more than was charged');
        charge.refunded += amount;
        const refund = { refundId: id('re'), chargeId, amount };
        remember(refunds, idempotencyKey, refund);
        return { refundId: refund.refundId };
      });
    },

    verifyWebhook(rawBody, signature) {
      const parts = new Map(
        (signature ?? '').split(',').map((p) => {
          const at = p.indexOf('=');
          return [p.slice(0, at).trim(), p.slice(at + 1).trim()] as const;
        }),
      );
      const timestamp = Number(parts.get('t'));
      const given = parts.get('v1') ?? '';
      if (!Number.isInteger(timestamp) || !/^[0-9a-f]{64}$/.test(given)) throw new WebhookSignatureError('Missing or malformed signature');
      if (Math.abs(Date.now() / 1000 - timestamp) > tolerance) throw new WebhookSignatureError('Signature timestamp outside the tolerance');
      const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
      if (!timingSafeEqual(expected, Buffer.from(given, 'hex'))) throw new WebhookSignatureError('Signature does not match');
      let event: unknown;
      try {
        event = JSON.parse(rawBody);
      } catch {
        throw new WebhookSignatureError('Signed body is not JSON');
      }
      return event as WebhookEvent;
    },

    signWebhook(event, at = new Date()) {
      const body = JSON.stringify(event);
      const timestamp = Math.floor(at.getTime() / 1000);
      const mac = createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
      return { body, signature: `t=${timestamp},v1=${mac}` };
    },
  };
  return gateway;
}
