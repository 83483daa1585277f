import type { Db } from '../../kernel/db/database.ts';
import { newId } from '../../kernel/ids.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import { PaymentEvents, PaymentRefusedError, type StoreCreditChanged, type StoreCreditPort } from './contract.ts';
import * as store from './store.ts';

/**
 * Store credit: a ledger per user (every grant, payment and refund is an entry) and a balance row
 * that a debit updates conditionally, so the balance can never go below zero even under concurrency.
 */
export function storeCredit(ctx: ModuleContext): StoreCreditPort {
  async function announce(tx: Db, data: StoreCreditChanged) {
    await ctx.publish(tx, { type: PaymentEvents.StoreCreditChanged, aggregateId: data.userId, data });
  }

  return {
    async balance(userId, tx) {
      const found = await store.findBalance(tx ?? ctx.db, userId);
      return found ? { amount: found.balance, currency: found.currency } : null;
    },

    async debit(tx, { userId, amount, reason, reference }) {
      if (amount.amount <= 0) return;
      const balance = await store.debitBalance(tx, userId, amount.amount, amount.currency);
      if (balance === undefined) {
        const current = await store.findBalance(tx, userId);
        if (current && current.currency !== amount.currency) {
          throw new PaymentRefusedError('currency-mismatch', `Your store credit is in ${current.currency}, the order in ${amount.currency}`);
        }
        throw new PaymentRefusedError(
          'insufficient-store-credit',
          `Your store credit (${current?.balance ?? 0}) does not cover ${amount.amount} ${amount.currency}`,
        );
      }
      await store.insertLedgerEntry(tx, { id: newId(), userId, amount: -amount.amount, currency: amount.currency, balanceAfter: balance, reason, reference, actorId: userId });
      await announce(tx, { userId, delta: { amount: -amount.amount, currency: amount.currency }, balance: { amount: balance, currency: amount.currency }, reason, reference });
    },

    async credit(tx, { userId, amount, reason, reference, actorId }) {
      if (amount.amount <= 0) return;
      const balance = await store.creditBalance(tx, userId, amount.amount, amount.currency);
      if (balance === undefined) {
        throw new PaymentRefusedError('currency-mismatch', `The store credit of user ${userId} is kept in another currency than ${amount.currency}`);
      }
      await store.insertLedgerEntry(tx, { id: newId(), userId, amount: amount.amount, currency: amount.currency, balanceAfter: balance, reason, reference, actorId });
      await announce(tx, { userId, delta: amount, balance: { amount: balance, currency: amount.currency }, reason, reference });
    },
  };
}
