import type { Db } from '../../kernel/db/database.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import {
  PaymentEvents,
  PaymentRefusedError,
  STORE_CREDIT_PORT,
  type Money,
  type OpenedPayment,
  type PaymentInstruction,
  type PaymentsPort,
  type StoreCreditPort,
} from './contract.ts';
import { publishPayment } from './processing.ts';
import * as store from './store.ts';

export interface PaymentToOpen {
  paymentId?: string;
  orderId: string;
  userId: string;
  amount: Money;
  instruction: PaymentInstruction;
}

/**
 * Records a payment in the caller's transaction (the order's, or a retry's). Store credit is debited
 * here and the payment is captured at once; a card is charged after commit; cash on delivery is
 * authorized at once and waits for the door. A zero amount (a 100 % coupon) is settled without touching anyone's money.
 * `writtenLast`: the caller's transaction does not read the payment back, so a card payment's row goes
 * with the transaction's last statement (the order's checkout).
 */
export async function openPayment(ctx: ModuleContext, providerName: string, tx: Db, input: PaymentToOpen, options: { writtenLast?: boolean } = {}): Promise<OpenedPayment> {
  const { orderId, userId, amount, instruction } = input;
  const id = input.paymentId ?? newId();
  const base = {
    id,
    orderId,
    userId,
    method: instruction.method,
    amount: amount.amount,
    currency: amount.currency,
    provider: null as string | null,
    cardTokenEnc: null as string | null,
    cardBrand: null as string | null,
    cardLast4: null as string | null,
    savedMethodId: null as string | null,
  };

  if (amount.amount === 0) {
    const payment = await store.insertPayment(tx, { ...base, status: 'captured' });
    await publishPayment(ctx, tx, PaymentEvents.PaymentCaptured, payment);
    return { paymentId: id, method: instruction.method, status: payment.status };
  }

  if (instruction.method === 'card') {
    let card: Partial<typeof base>;
    if ('savedMethodId' in instruction) {
      const saved = await store.findSavedMethod(tx, userId, instruction.savedMethodId);
      if (!saved) throw new PaymentRefusedError('unknown-payment-method', 'No saved payment method with that id');
      card = { cardTokenEnc: saved.tokenEnc, cardBrand: saved.brand, cardLast4: saved.last4, savedMethodId: saved.id };
    } else {
      card = { cardTokenEnc: ctx.secrets.encrypt(instruction.token) };
    }
    const payment = { ...base, ...card, provider: providerName, status: 'pending' as const };
    if (options.writtenLast) await store.insertPaymentLast(tx, payment);
    else await store.insertPayment(tx, payment);
    return { paymentId: id, method: 'card', status: payment.status };
  }

  if (instruction.method === 'store_credit') {
    await ctx.ports.get<StoreCreditPort>(STORE_CREDIT_PORT).debit(tx, { userId, amount, reason: 'order payment', reference: orderId });
    const payment = await store.insertPayment(tx, { ...base, status: 'captured' });
    await publishPayment(ctx, tx, PaymentEvents.PaymentCaptured, payment);
    return { paymentId: id, method: 'store_credit', status: payment.status };
  }

  // Cash on delivery needs nobody's approval: it is authorized as it is opened, with the order. Eager:
  // the customer waits for the order to move on, and this is the payment's first event.
  const payment = await store.insertPayment(tx, { ...base, status: 'pending' });
  await publishPayment(ctx, tx, PaymentEvents.PaymentAuthorized, payment, { eager: true });
  return { paymentId: id, method: 'cod', status: payment.status };
}

export function paymentsPort(ctx: ModuleContext, providerName: () => string): PaymentsPort {
  return {
    openOrderPayment: (tx, input) => openPayment(ctx, providerName(), tx, input, { writtenLast: true }),
  };
}
