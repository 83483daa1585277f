import { BrokenCircuitError } from 'cockatiel';
import { describe, expect, it } from 'vitest';
import { callProvider, providerPolicy, ProviderUnavailableError } from './provider.ts';
import { createTestGateway, TEST_CARDS } from './test-gateway.ts';

/** A random source that answers from a script, then `rest`: makes the gateway's timeouts deterministic. */
const scripted = (values: number[], rest = 1) => () => values.shift() ?? rest;

describe('the built-in test gateway', () => {
  it('authorizes and captures pm_card_visa, and declines the declining test cards with their codes', async () => {
    const gateway = createTestGateway();
    const ok = await gateway.authorize({ idempotencyKey: 'p1', token: 'pm_card_visa', amount: 1200, currency: 'USD' });
    expect(ok.status).toBe('authorized');
    const { chargeId } = await gateway.capture({ idempotencyKey: 'p1', authorizationId: (ok as { authorizationId: string }).authorizationId, amount: 1200 });
    expect(gateway.charges.get('p1')).toMatchObject({ chargeId, amount: 1200, currency: 'USD' });

    expect(await gateway.authorize({ idempotencyKey: 'p2', token: 'pm_card_chargeDeclined', amount: 1, currency: 'USD' })).toMatchObject({
      status: 'declined',
      declineCode: 'card_declined',
    });
    expect(await gateway.authorize({ idempotencyKey: 'p3', token: 'pm_card_insufficientFunds', amount: 1, currency: 'USD' })).toMatchObject({
      status: 'declined',
      declineCode: 'insufficient_funds',
    });
    expect(await gateway.authorize({ idempotencyKey: 'p4', token: 'tok_nonsense', amount: 1, currency: 'USD' })).toMatchObject({
      status: 'declined',
      declineCode: 'invalid_payment_method',
    });
  });

  it('answers a repeated call with the same idempotency key with the first result, charging once', async () => {
    const gateway = createTestGateway();
    const first = await gateway.authorize({ idempotencyKey: 'k', token: 'pm_card_visa', amount: 500, currency: 'USD' });
    const again = await gateway.authorize({ idempotencyKey: 'k', token: 'pm_card_visa', amount: 500, currency: 'USD' });
    expect(again).toEqual(first);
    const authorizationId = (first as { authorizationId: string }).authorizationId;
    const c1 = await gateway.capture({ idempotencyKey: 'k', authorizationId, amount: 500 });
    const c2 = await gateway.capture({ idempotencyKey: 'k', authorizationId, amount: 500 });
    expect(c2).toEqual(c1);
    expect(gateway.charges.size).toBe(1);
  });

  it('refunds at most what was charged, once per idempotency key', async () => {
    const gateway = createTestGateway();
    const auth = (await gateway.authorize({ idempotencyKey: 'r', token: 'pm_card_visa', amount: 1000, currency: 'USD' })) as { authorizationId: string };
    const { chargeId } = await gateway.capture({ idempotencyKey: 'r', authorizationId: auth.authorizationId, amount: 1000 });
    await gateway.refund({ idempotencyKey: 'ref-1', chargeId, amount: 600 });
    await gateway.refund({ idempotencyKey: 'ref-1', chargeId, amount: 600 });
    expect(gateway.charges.get('r')!.refunded).toBe(600);
    await expect(gateway.refund({ idempotencyKey: 'ref-2', chargeId, amount: 600 })).rejects.toThrow(/more than was charged/);
  });

  it('turns a one-time token into a reusable one with the card details, never the number', async () => {
    const gateway = createTestGateway();
    const saved = await gateway.saveCard('pm_card_visa');
    expect(saved.card).toEqual({ brand: 'visa', last4: '4242', expMonth: TEST_CARDS.pm_card_visa!.expMonth, expYear: TEST_CARDS.pm_card_visa!.expYear });
    expect(saved.reusableToken).toMatch(/^pm_saved_/);
    expect(await gateway.authorize({ idempotencyKey: 's', token: saved.reusableToken, amount: 1, currency: 'USD' })).toMatchObject({ status: 'authorized' });
    await expect(gateway.saveCard('pm_card_unknown')).rejects.toThrow(/No such payment method/);
  });

  it('signs webhooks with HMAC-SHA256 and rejects a tampered body, a wrong secret, or an old timestamp', () => {
    const gateway = createTestGateway({ webhookSecret: 'whsec_one_one_one_one' });
    const other = createTestGateway({ webhookSecret: 'whsec_two_two_two_two' });
    const event = { id: 'evt_1', type: 'charge.succeeded' as const, idempotencyKey: 'p', amount: 1, currency: 'USD', chargeId: 'ch_1' };
    const { body, signature } = gateway.signWebhook(event);
    expect(gateway.verifyWebhook(body, signature)).toEqual(event);
    expect(() => gateway.verifyWebhook(body.replace('"amount":1', '"amount":100'), signature)).toThrow(/does not match/);
    expect(() => other.verifyWebhook(body, signature)).toThrow(/does not match/);
    expect(() => gateway.verifyWebhook(body, undefined)).toThrow(/Missing or malformed/);
    const old = gateway.signWebhook(event, new Date(Date.now() - 3600_000));
    expect(() => gateway.verifyWebhook(old.body, old.signature)).toThrow(/tolerance/);
  });
});

describe('calls to the provider through the resilience policy', () => {
  it('retries a call answered too late with the same key: the charge happens exactly once', async () => {
    // The first authorize and the first capture are carried out but answered too late.
    const gateway = createTestGateway({ timeoutRate: 0.5, lateAnswerMs: 5000, random: scripted([0, 1, 0, 1]) });
    const policy = providerPolicy({ timeoutMs: 40, initialDelayMs: 1 });
    const auth = await policy.execute(() => gateway.authorize({ idempotencyKey: 'pay-1', token: 'pm_card_visa', amount: 900, currency: 'USD' }));
    expect(auth.status).toBe('authorized');
    const capture = await policy.execute(() =>
      gateway.capture({ idempotencyKey: 'pay-1', authorizationId: (auth as { authorizationId: string }).authorizationId, amount: 900 }),
    );
    expect(gateway.calls.authorize).toBe(2);
    expect(gateway.calls.capture).toBe(2);
    expect(gateway.charges.size).toBe(1);
    expect(gateway.charges.get('pay-1')!.chargeId).toBe(capture.chargeId);
  });

  it('gives up after its attempts, and then fails fast while the circuit is open', async () => {
    const policy = providerPolicy({ timeoutMs: 1000, initialDelayMs: 1, maxAttempts: 2, breakerThreshold: 2, halfOpenAfterMs: 60_000 });
    let calls = 0;
    const down = () => {
      calls++;
      return Promise.reject(new ProviderUnavailableError('503'));
    };
    await expect(policy.execute(down)).rejects.toBeInstanceOf(ProviderUnavailableError);
    expect(calls).toBe(2);
    await expect(policy.execute(down)).rejects.toBeInstanceOf(BrokenCircuitError);
    expect(calls).toBe(2);
  });

  it('does not retry a decline: it is an answer, not a failure', async () => {
    const gateway = createTestGateway();
    const policy = providerPolicy({ timeoutMs: 1000 });
    const result = await policy.execute(() => gateway.authorize({ idempotencyKey: 'd', token: 'pm_card_chargeDeclined', amount: 1, currency: 'USD' }));
    expect(result.status).toBe('declined');
    expect(gateway.calls.authorize).toBe(1);
  });
});

describe('provider calls under load', () => {
  it('run 30 at once without Node warning of an abort-listener leak', async () => {
    const gateway = createTestGateway({ latencyMs: 20 });
    const policy = providerPolicy({ timeoutMs: 2000 });
    const warnings: string[] = [];
    const onWarning = (warning: Error) => warnings.push(warning.name);
    process.on('warning', onWarning);
    try {
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          callProvider(policy, () => gateway.authorize({ idempotencyKey: `load-${i}`, token: 'pm_card_visa', amount: 100, currency: 'USD' })),
        ),
      );
      expect(results.every((r) => r.status === 'authorized')).toBe(true);
      await new Promise((resolve) => setTimeout(resolve, 10));
      expect(warnings).not.toContain('MaxListenersExceededWarning');
    } finally {
      process.off('warning', onWarning);
    }
  });
});
