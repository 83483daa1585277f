import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../support/app.ts';
import { eventually } from '../support/events.ts';
import {
  item,
  ledgerBalances,
  orderOf,
  orderReaches,
  person,
  placeOrder,
  product,
  startShop,
  stockOf,
  type Person,
  type ProductFixture,
  type Shop,
} from '../support/orders.ts';
import { newId } from '../../src/kernel/ids.ts';
import { SIGNATURE_HEADER } from '../../src/modules/payments/test-gateway.ts';

/**
 * What happens when things break between the steps of a purchase: the process dies after the order
 * committed and before the card was charged, the provider answers too late or not at all, holds lapse.
 * Whatever happens, an order ends paid exactly once, or not paid with its stock back.
 */

const env = { PAYMENT_PROVIDER_TIMEOUT_MS: '300' };
let first: Shop;
let shop: Shop;
let restarted: TestApp | undefined;
let seller: Person;
beforeAll(async () => {
  // No relay, consumers or jobs: orders commit, and nothing after that happens until the restart.
  first = await startShop(env, { background: false });
  shop = first;
  seller = await person(first.t, ['seller']);
});
afterAll(async () => {
  await restarted?.close();
  await first.t.close();
});

const db = () => shop.t.database.db;
const chargesOf = (paymentId: string) => [...shop.gateway.charges.values()].filter((c) => c.idempotencyKey === paymentId);

async function runJob(name: string) {
  const job = shop.modules.flatMap((m) => m.jobs ?? []).find((j) => j.name === name);
  await job!.run(shop.t.app.ctx);
}

async function paymentOf(orderId: string) {
  const { rows } = await sql<{ id: string; status: string; decline_code: string | null }>`
    select id, status, decline_code from payments.payments where order_id = ${orderId} order by id`.execute(db());
  return rows.at(-1)!;
}

describe('a crash between placing an order and charging it', () => {
  const placed: Record<'normal' | 'cancelled' | 'expired' | 'lapsed', { order: any; product: ProductFixture }> = {} as never;

  it('leaves committed orders pending, their stock held and nothing charged while no worker runs', async () => {
    for (const name of ['normal', 'cancelled', 'expired', 'lapsed'] as const) {
      const buyer = await person(shop.t);
      const p = await product(shop, seller, { price: 1000, stock: 3 });
      const res = await placeOrder(shop, buyer, { items: [item(p, 2)] });
      expect(res.status).toBe(201);
      placed[name] = { order: { ...res.body, token: buyer.token }, product: p };
    }
    expect(shop.gateway.calls.authorize).toBe(0);
    const { rows } = await sql`select 1 from kernel.outbox where type = 'orders.order.placed' and published_at is null`.execute(db());
    expect(rows).toHaveLength(4);
    expect(await stockOf(shop, placed.normal.product.variantId)).toMatchObject({ available: 1, reserved: 2 });
  });

  it('releases the stock of a pending order cancelled by its owner at once', async () => {
    const { order, product: p } = placed.cancelled;
    const res = await shop.t.post(`/api/v1/orders/${order.id}/cancel`, {}, { token: order.token });
    expect(res.status).toBe(200);
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 3, reserved: 0 });
  });

  it("cancels an order past its payment deadline, agreeing with inventory's own expiry: the stock comes back once", async () => {
    const { order, product: p } = placed.expired;
    await sql`update orders.orders set payment_due_at = now() - interval '1 minute' where id = ${order.id}`.execute(db());
    await sql`update inventory.reservations set expires_at = now() - interval '1 minute' where reference = ${order.id}`.execute(db());
    // Inventory's job runs first and releases the hold; the orders job then cancels and releases again (a no-op).
    await runJob('inventory.release-expired-reservations');
    await runJob('orders.expire-unpaid-orders');
    const expired = await orderOf(shop, order.id);
    expect(expired.status).toBe('cancelled');
    expect(expired.history.at(-1)).toMatchObject({ from: 'pending', to: 'cancelled', actorId: null, reason: 'no payment within 30 minutes' });
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 3, reserved: 0, onHand: 3 });
    expect(await ledgerBalances(shop, p.variantId)).toEqual({ on_hand: 3, reserved: 0 });
  });

  it('lets inventory release a hold whose time ran out before the payment came', async () => {
    const { order, product: p } = placed.lapsed;
    await sql`update inventory.reservations set expires_at = now() - interval '1 minute' where reference = ${order.id}`.execute(db());
    await runJob('inventory.release-expired-reservations');
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 3, reserved: 0 });
    expect((await orderOf(shop, order.id)).status).toBe('pending');
  });

  it('after a restart: charges the surviving order exactly once, never the cancelled ones, and takes stock again for a late payment', async () => {
    await first.t.app.close();
    restarted = await first.t.restart(env, { modules: first.modules, background: true });
    shop = { ...first, t: restarted };

    const normal = await orderReaches(shop, placed.normal.order.id, 'paid');
    expect(chargesOf(normal.payment.id)).toHaveLength(1);
    expect(await stockOf(shop, placed.normal.product.variantId)).toMatchObject({ onHand: 1, reserved: 0, available: 1 });

    // The hold had lapsed but the stock was still there: the paid order takes it again.
    const lapsed = await orderReaches(shop, placed.lapsed.order.id, 'paid');
    expect(chargesOf(lapsed.payment.id)).toHaveLength(1);
    expect(await stockOf(shop, placed.lapsed.product.variantId)).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
    expect(await ledgerBalances(shop, placed.lapsed.product.variantId)).toEqual({ on_hand: 1, reserved: 0 });

    for (const name of ['cancelled', 'expired'] as const) {
      const payment = await eventually(async () => {
        const p = await paymentOf(placed[name].order.id);
        return p.status === 'cancelled' ? p : undefined;
      });
      expect(chargesOf(payment.id)).toEqual([]);
      expect((await orderOf(shop, placed[name].order.id)).status).toBe('cancelled');
    }
  });
});

describe('a payment provider that answers late or not at all', () => {
  it('retries a call answered too late with the same key: the card is charged once and the order paid', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 2200, stock: 1 });
    const before = shop.gateway.calls.authorize;
    const script = [0];
    shop.gateway.random = () => script.shift() ?? 1;
    shop.gateway.timeoutRate = 0.5;
    const res = await placeOrder(shop, buyer, { items: [item(p)] });
    const paid = await orderReaches(shop, res.body.id, 'paid');
    shop.gateway.timeoutRate = 0;
    expect(shop.gateway.calls.authorize - before).toBe(2);
    expect(chargesOf(paid.payment.id)).toHaveLength(1);
    expect(chargesOf(paid.payment.id)[0]!.amount).toBe(2200);
  });

  it('keeps the order pending with its stock held while the provider is unreachable, and charges once when it is back', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 1300, stock: 1 });
    shop.gateway.random = Math.random;
    shop.gateway.timeoutRate = 1;
    const res = await placeOrder(shop, buyer, { items: [item(p)] });
    const stuck = await eventually(async () => {
      const payment = await paymentOf(res.body.id);
      const { rows } = await sql<{ attempts: number; locked_until: Date }>`
        select attempts, locked_until from payments.payments where id = ${payment.id}`.execute(db());
      // The first round gave up for now and scheduled the next one (2 s; a running round holds 7.4 s).
      return payment.status === 'processing' && rows[0]!.attempts === 1 && rows[0]!.locked_until.getTime() - Date.now() < 2500 ? payment : undefined;
    });
    expect((await orderOf(shop, res.body.id)).status).toBe('pending');
    expect(await stockOf(shop, p.variantId)).toMatchObject({ reserved: 1, available: 0 });

    shop.gateway.timeoutRate = 0;
    await sql`update payments.payments set locked_until = now() - interval '1 second' where id = ${stuck.id}`.execute(db());
    await shop.payments.processing().resume();
    const paid = await orderReaches(shop, res.body.id, 'paid');
    // Every late answer was a charge made under the same key: still one charge.
    expect(chargesOf(paid.payment.id)).toHaveLength(1);
    expect(await stockOf(shop, p.variantId)).toMatchObject({ onHand: 0, reserved: 0 });
  });

  it('gives up after its rounds (payment_failed, stock back); a charge that landed anyway is refunded when its webhook arrives', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 1700, stock: 1 });
    // Authorizations answer in time; every capture is carried out but answered too late.
    let capturesSeen = shop.gateway.calls.capture;
    shop.gateway.random = () => {
      const isCapture = shop.gateway.calls.capture !== capturesSeen;
      capturesSeen = shop.gateway.calls.capture;
      return isCapture ? 0 : 1;
    };
    shop.gateway.timeoutRate = 1;
    const res = await placeOrder(shop, buyer, { items: [item(p)] });
    const payment = await eventually(async () => {
      const found = await paymentOf(res.body.id);
      const { rows } = await sql<{ locked_until: Date }>`select locked_until from payments.payments where id = ${found.id}`.execute(db());
      // Charged at the gateway, and our first round has given up for now.
      const postponed = rows[0]!.locked_until.getTime() - Date.now() < 2500;
      return found.status === 'processing' && chargesOf(found.id).length === 1 && postponed ? found : undefined;
    });
    await sql`update payments.payments set attempts = 5, locked_until = now() - interval '1 second' where id = ${payment.id}`.execute(db());
    await shop.payments.processing().resume();
    shop.gateway.timeoutRate = 0;

    const failed = await orderReaches(shop, res.body.id, 'payment_failed');
    expect(failed.history.at(-1).reason).toBe('payment failed: provider_unavailable');
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 1, reserved: 0 });

    // The provider did charge (the answers were only late) and says so by webhook.
    const charge = chargesOf(payment.id)[0]!;
    const signed = shop.gateway.signWebhook({
      id: `evt_${newId()}`,
      type: 'charge.succeeded',
      idempotencyKey: payment.id,
      amount: charge.amount,
      currency: charge.currency,
      chargeId: charge.chargeId,
    });
    const hook = await shop.t.request('POST', '/api/v1/payments/webhooks/test-gateway', {
      raw: signed.body,
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signed.signature },
    });
    expect(hook.status).toBe(200);
    // Our books catch up right after the gateway's.
    await eventually(async () => ((await paymentOf(res.body.id)).status === 'refunded' ? true : undefined));
    expect(charge.refunded).toBe(1700);
    expect((await orderOf(shop, res.body.id)).status).toBe('payment_failed');
  });
});
