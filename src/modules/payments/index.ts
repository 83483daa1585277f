import type { IPolicy } from 'cockatiel';
import type { BazaarModule, ModuleContext } from '../../kernel/module.ts';
import { PAYMENTS_PORT, STORE_CREDIT_PORT, type PaymentsPort, type StoreCreditPort } from './contract.ts';
import { paymentsHandlers } from './handlers.ts';
import { paymentsMigrations } from './migrations.ts';
import { paymentsPort } from './payment-port.ts';
import { createPaymentProcessing, type PaymentProcessing } from './processing.ts';
import { providerPolicy, type PaymentProvider } from './provider.ts';
import { paymentsRoutes } from './routes.ts';
import { storeCredit } from './store-credit.ts';
import { createTestGateway } from './test-gateway.ts';

export interface PaymentsModuleOptions {
  /** The provider adapter; the built-in test gateway (configured from PAYMENT_TEST_*) when omitted. */
  provider?: PaymentProvider;
}

export interface PaymentsModule extends BazaarModule {
  /** The charge and refund rounds of the running app (tests restart stalled rounds with `resume()`). */
  processing(): PaymentProcessing;
}

/**
 * Payments: provider adapters behind one interface (with a built-in test gateway), card payments
 * charged asynchronously with timeout, retries and a circuit breaker, cash on delivery, store credit
 * as a ledger, refunds, saved cards sealed at rest, and signed provider webhooks.
 */
export function createPaymentsModule(options: PaymentsModuleOptions = {}): PaymentsModule {
  let state: { ctx: ModuleContext; provider: PaymentProvider; policy: IPolicy; processing: PaymentProcessing } | undefined;
  const started = () => {
    if (!state) throw new Error('payments: the module has not been started');
    return state;
  };

  return {
    name: 'payments',
    migrations: paymentsMigrations,
    providePorts(ctx) {
      const provider =
        options.provider ??
        createTestGateway({
          timeoutRate: ctx.config.PAYMENT_TEST_TIMEOUT_RATE,
          latencyMs: ctx.config.PAYMENT_TEST_LATENCY_MS,
          webhookSecret: ctx.config.PAYMENT_WEBHOOK_SECRET,
        });
      const policy = providerPolicy({ timeoutMs: ctx.config.PAYMENT_PROVIDER_TIMEOUT_MS });
      state = { ctx, provider, policy, processing: createPaymentProcessing(ctx, () => provider, policy) };
      ctx.ports.provide<PaymentsPort>(PAYMENTS_PORT, paymentsPort(ctx, () => provider.name));
      ctx.ports.provide<StoreCreditPort>(STORE_CREDIT_PORT, storeCredit(ctx));
    },
    routes: paymentsRoutes({
      provider: () => started().provider,
      processing: () => started().processing,
      policy: () => started().policy,
    }),
    handlers: paymentsHandlers(() => started()),
    jobs: [{ name: 'payments.resume-unfinished', intervalMs: 5000, run: () => started().processing.resume() }],
    processing: () => started().processing,
  };
}

export const paymentsModule = createPaymentsModule();
