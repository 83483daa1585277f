import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { newId } from '../../kernel/ids.ts';
import { eventually } from '../../../test/support/events.ts';
import {
  grantCredit,
  item,
  orderOf,
  orderReaches,
  person,
  placeOrder,
  product,
  startShop,
  stockOf,
  type Person,
  type Shop,
} from '../../../test/support/orders.ts';
import { SIGNATURE_HEADER } from './test-gateway.ts';

let shop: Shop;
let seller: Person;
beforeAll(async () => {
  shop = await startShop({ SELLER_REFUNDS_ENABLED: '1' });
  seller = await person(shop.t, ['seller']);
});
afterAll(() => shop.t.close());

const range = (n: number) => Array.from({ length: n }, (_, i) => i);

async function paymentsOf(orderId: string, token = shop.admin.token) {
  const res = await shop.t.get(`/api/v1/payments?orderId=${orderId}`, { token });
  expect(res.status).toBe(200);
  return res.body.items as any[];
}

async function refundSettles(refundId: string, token = shop.admin.token) {
  return eventually(async () => {
    const res = await shop.t.get('/api/v1/payments/refunds?limit=100', { token });
    const refund = res.body.items.find((r: { id: string }) => r.id === refundId);
    return refund && refund.status !== 'pending' && refund.status !== 'processing' ? refund : undefined;
  });
}

async function paidOrder(buyer: Person, price = 5000, stock = 5) {
  const p = await product(shop, seller, { price, stock });
  const res = await placeOrder(shop, buyer, { items: [item(p)] });
  expect(res.status).toBe(201);
  await orderReaches(shop, res.body.id, 'paid');
  const [payment] = await paymentsOf(res.body.id);
  return { product: p, order: res.body, payment };
}

describe('a card paid with a one-time token', () => {
  it("shows the card's brand and last four digits once charged, as the provider tells them", async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 800, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'card', token: 'pm_card_amex' } });
    await orderReaches(shop, placed.body.id, 'paid');
    expect((await paymentsOf(placed.body.id, buyer.token))[0]).toMatchObject({ method: 'card', status: 'captured', card: { brand: 'amex', last4: '8431' } });
  });
});

describe('a declined card', () => {
  it('fails the payment, gives the stock back, and a retry with a good card pays the order', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 1200, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(p, 2)], payment: { method: 'card', token: 'pm_card_chargeDeclined' } });
    const failed = await orderReaches(shop, placed.body.id, 'payment_failed');
    expect(failed.payment.status).toBe('failed');
    expect(failed.history.at(-1).reason).toBe('payment failed: card_declined');
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 2, reserved: 0, onHand: 2 });
    expect((await paymentsOf(placed.body.id, buyer.token))[0]).toMatchObject({ status: 'failed', declineCode: 'card_declined' });

    const key = newId();
    const retry = await shop.t.post('/api/v1/payments/pay', { orderId: placed.body.id, payment: { method: 'card', token: 'pm_card_visa' } }, { token: buyer.token, headers: { 'idempotency-key': key } });
    expect(retry.status).toBe(202);
    expect(retry.body).toMatchObject({ orderId: placed.body.id, method: 'card', status: 'pending', amount: { amount: 2400 } });
    const repeat = await shop.t.post('/api/v1/payments/pay', { orderId: placed.body.id, payment: { method: 'card', token: 'pm_card_visa' } }, { token: buyer.token, headers: { 'idempotency-key': key } });
    expect(repeat.body.id).toBe(retry.body.id);

    const paid = await orderReaches(shop, placed.body.id, 'paid');
    expect(paid.payment).toMatchObject({ id: retry.body.id, status: 'captured' });
    expect(paid.history.map((h: { to: string }) => h.to)).toEqual(['pending', 'payment_failed', 'paid']);
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 0, reserved: 0, onHand: 0 });
    const payments = await paymentsOf(placed.body.id, buyer.token);
    expect(payments.map((x) => x.status)).toEqual(['failed', 'captured']);
    expect([...shop.gateway.charges.values()].filter((c) => payments.some((x) => x.id === c.idempotencyKey))).toHaveLength(1);

    const again = await shop.t.post('/api/v1/payments/pay', { orderId: placed.body.id, payment: { method: 'card', token: 'pm_card_visa' } }, { token: buyer.token });
    expect(again.status).toBe(409);
    expect(again.body.type).toMatch(/\/order-not-payable$/);
  });

  it('settles cards charged at the same moment each with its own outcome (they are recorded together)', async () => {
    const p = await product(shop, seller, { price: 300, stock: 20 });
    const tokens = range(10).map((i) => (i % 3 === 0 ? 'pm_card_chargeDeclined' : i % 3 === 1 ? 'pm_card_visa' : 'pm_card_insufficientFunds'));
    const buyers = await Promise.all(tokens.map(() => person(shop.t)));
    const placed = await Promise.all(tokens.map((token, i) => placeOrder(shop, buyers[i]!, { items: [item(p)], payment: { method: 'card', token } })));
    expect(placed.map((r) => r.status)).toEqual(tokens.map(() => 201));
    const ended = await Promise.all(placed.map((r, i) => orderReaches(shop, r.body.id, tokens[i] === 'pm_card_visa' ? 'paid' : 'payment_failed')));
    for (const [i, order] of ended.entries()) {
      const [payment] = await paymentsOf(order.id, buyers[i]!.token);
      if (tokens[i] === 'pm_card_visa') expect(payment).toMatchObject({ status: 'captured', declineCode: null });
      else expect(payment).toMatchObject({ status: 'failed', declineCode: tokens[i] === 'pm_card_chargeDeclined' ? 'card_declined' : 'insufficient_funds' });
    }
    // Three of ten paid: the other seven units went back.
    expect(await stockOf(shop, p.variantId)).toMatchObject({ available: 17, reserved: 0, onHand: 17 });
  });

  it('shows insufficient funds as such; a retry finds the stock gone if someone bought it meanwhile', async () => {
    const [buyer, rival] = [await person(shop.t), await person(shop.t)];
    const p = await product(shop, seller, { price: 900, stock: 1 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'card', token: 'pm_card_insufficientFunds' } });
    const failed = await orderReaches(shop, placed.body.id, 'payment_failed');
    expect(failed.history.at(-1).reason).toBe('payment failed: insufficient_funds');
    expect((await placeOrder(shop, rival, { items: [item(p)] })).status).toBe(201);

    const retry = await shop.t.post('/api/v1/payments/pay', { orderId: placed.body.id, payment: { method: 'card', token: 'pm_card_visa' } }, { token: buyer.token });
    expect(retry.status).toBe(409);
    expect(retry.body.type).toMatch(/\/insufficient-stock$/);
    expect((await orderOf(shop, placed.body.id)).status).toBe('payment_failed');
  });

  it('shows the method that paid: a failed card order paid again with store credit says store_credit', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 700, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'card', token: 'pm_card_chargeDeclined' } });
    await orderReaches(shop, placed.body.id, 'payment_failed');
    await grantCredit(shop, buyer, 5000);
    const retry = await shop.t.post('/api/v1/payments/pay', { orderId: placed.body.id, payment: { method: 'store_credit' } }, { token: buyer.token });
    expect(retry.status).toBe(202);
    const paid = await orderReaches(shop, placed.body.id, 'paid');
    expect(paid.payment).toMatchObject({ id: retry.body.id, method: 'store_credit', status: 'captured' });
  });

  it("refuses to pay someone else's order (404) and malformed retries (400)", async () => {
    const [buyer, stranger] = [await person(shop.t), await person(shop.t)];
    const p = await product(shop, seller, { price: 900, stock: 1 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'card', token: 'pm_card_chargeDeclined' } });
    await orderReaches(shop, placed.body.id, 'payment_failed');
    const pay = (body: unknown, token = stranger.token) => shop.t.post('/api/v1/payments/pay', body, { token });
    expect((await pay({ orderId: placed.body.id, payment: { method: 'card', token: 'pm_card_visa' } })).status).toBe(404);
    expect((await pay({ orderId: placed.body.id, payment: { method: 'cod' } }, buyer.token)).status).toBe(400);
    expect((await pay({ orderId: placed.body.id }, buyer.token)).status).toBe(400);
    expect((await pay({ orderId: 'x'.repeat(500), payment: { method: 'store_credit' } }, buyer.token)).status).toBe(400);
  });
});

describe('store credit', () => {
  it('pays an order in the same transaction, and refuses an order it does not cover (no order, no stock taken)', async () => {
    const buyer = await person(shop.t);
    const granted = await grantCredit(shop, buyer, 5000);
    expect(granted.balance).toEqual({ amount: 5000, currency: 'USD' });
    const p = await product(shop, seller, { price: 3000, stock: 5 });

    const res = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'store_credit' } });
    expect(res.status).toBe(201);
    expect(res.body.payment).toMatchObject({ method: 'store_credit', status: 'captured' });
    await orderReaches(shop, res.body.id, 'paid');

    const refused = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'store_credit' } });
    expect(refused.status).toBe(409);
    expect(refused.body.type).toMatch(/\/insufficient-store-credit$/);
    expect((await shop.t.get('/api/v1/orders', { token: buyer.token })).body.items).toHaveLength(1);
    expect((await stockOf(shop, p.variantId)).available).toBe(4);

    const mine = await shop.t.get('/api/v1/store-credit', { token: buyer.token });
    expect(mine.body.balance).toEqual({ amount: 2000, currency: 'USD' });
    expect(mine.body.entries.map((e: { amount: { amount: number } }) => e.amount.amount)).toEqual([-3000, 5000]);
  });

  it('comes back at once when an order paid with it is cancelled', async () => {
    const buyer = await person(shop.t);
    await grantCredit(shop, buyer, 4000);
    const p = await product(shop, seller, { price: 1500, stock: 5 });
    const res = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'store_credit' } });
    await orderReaches(shop, res.body.id, 'paid');
    expect((await shop.t.post(`/api/v1/orders/${res.body.id}/cancel`, {}, { token: buyer.token })).status).toBe(200);
    const credit = await eventually(async () => {
      const mine = await shop.t.get('/api/v1/store-credit', { token: buyer.token });
      return mine.body.balance.amount === 4000 ? mine.body : undefined;
    });
    expect(credit.entries.map((e: { amount: { amount: number } }) => e.amount.amount)).toEqual([1500, -1500, 4000]);
    expect((await paymentsOf(res.body.id, buyer.token))[0]).toMatchObject({ status: 'refunded', refunded: { amount: 1500 } });
  });

  it('never goes below zero under 6 concurrent orders: exactly as many as the balance covers get through', async () => {
    const buyer = await person(shop.t);
    await grantCredit(shop, buyer, 10_000);
    const p = await product(shop, seller, { price: 3000, stock: 20 });
    const answers = await Promise.all(range(6).map(() => placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'store_credit' } })));
    expect(answers.filter((a) => a.status === 201)).toHaveLength(3);
    expect(answers.filter((a) => a.status === 409)).toHaveLength(3);
    const credit = await shop.t.get(`/api/v1/admin/store-credit/${buyer.id}`, { token: shop.admin.token });
    expect(credit.body.balance.amount).toBe(1000);
    const { rows } = await sql<{ total: number }>`
      select sum(amount)::int as total from payments.store_credit_ledger where user_id = ${buyer.id}`.execute(shop.t.database.db);
    expect(rows[0]!.total).toBe(1000);
  });

  it('is granted by admins only, with a positive amount', async () => {
    const buyer = await person(shop.t);
    const grant = (body: unknown, token: string) => shop.t.post('/api/v1/admin/store-credit', body, { token });
    expect((await grant({ userId: buyer.id, amount: { amount: 100, currency: 'USD' }, reason: 'me' }, buyer.token)).status).toBe(403);
    expect((await grant({ userId: buyer.id, amount: { amount: -100, currency: 'USD' }, reason: 'x' }, shop.admin.token)).status).toBe(400);
    expect((await grant({ userId: buyer.id, amount: 100, reason: 'x' }, shop.admin.token)).status).toBe(400);
    expect((await shop.t.get('/api/v1/store-credit', { token: buyer.token })).body.balance.amount).toBe(0);
  });
});

describe('refunds', () => {
  it('refunds in part, refuses more than is left (409), then refunds the rest: the order ends refunded and its stock returns', async () => {
    const buyer = await person(shop.t);
    const { product: p, order, payment } = await paidOrder(buyer, 5000, 3);
    const refund = (body: unknown, headers: Record<string, string> = {}) =>
      shop.t.post(`/api/v1/payments/${payment.id}/refunds`, body, { token: shop.admin.token, headers });

    const key = newId();
    const partial = await refund({ amount: { amount: 2000, currency: 'USD' }, reason: 'scratched' }, { 'idempotency-key': key });
    expect(partial.status).toBe(201);
    expect(partial.body).toMatchObject({ paymentId: payment.id, amount: { amount: 2000 }, destination: 'original_method' });
    const repeat = await refund({ amount: { amount: 2000, currency: 'USD' }, reason: 'scratched' }, { 'idempotency-key': key });
    expect(repeat.body.id).toBe(partial.body.id);
    expect((await refundSettles(partial.body.id)).status).toBe('succeeded');
    expect(await eventually(async () => ((await orderOf(shop, order.id)).payment.status === 'partially_refunded' ? true : undefined))).toBe(true);
    expect((await orderOf(shop, order.id)).status).toBe('paid');

    const over = await refund({ amount: { amount: 3001, currency: 'USD' }, reason: 'too much' });
    expect(over.status).toBe(409);
    expect(over.body).toMatchObject({ refundable: 3000 });
    expect(over.body.type).toMatch(/\/refund-exceeds-captured$/);

    const rest = await refund({ reason: 'never arrived' });
    expect(rest.body.amount.amount).toBe(3000);
    await refundSettles(rest.body.id);
    const refunded = await orderReaches(shop, order.id, 'refunded');
    expect(refunded.payment.status).toBe('refunded');
    expect(refunded.history.at(-1).reason).toBe('refunded in full: never arrived');
    expect((await stockOf(shop, p.variantId)).onHand).toBe(3);
    const charge = [...shop.gateway.charges.values()].find((c) => c.idempotencyKey === payment.id)!;
    expect(charge.refunded).toBe(5000);

    const nothingLeft = await refund({ reason: 'again' });
    expect(nothingLeft.status).toBe(409);
    expect(nothingLeft.body.type).toMatch(/\/nothing-to-refund$/);
    expect(nothingLeft.body.refundable).toBe(0);
  });

  it('never refunds more than was captured, even when refunds race: of five at once for 40 % each, exactly two go through', async () => {
    const buyer = await person(shop.t);
    const { order, payment } = await paidOrder(buyer, 5000, 2);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) =>
        shop.t.post(`/api/v1/payments/${payment.id}/refunds`, { amount: { amount: 2000, currency: 'USD' }, reason: `race ${i}` }, { token: shop.admin.token }),
      ),
    );
    expect(answers.map((a) => a.status).sort()).toEqual([201, 201, 409, 409, 409]);
    for (const refused of answers.filter((a) => a.status === 409)) expect(refused.body.refundable).toBeLessThanOrEqual(1000);
    for (const accepted of answers.filter((a) => a.status === 201)) expect((await refundSettles(accepted.body.id)).status).toBe('succeeded');
    const [after] = await paymentsOf(order.id);
    expect(after.refunded.amount).toBe(4000);
    const charge = [...shop.gateway.charges.values()].find((c) => c.idempotencyKey === payment.id)!;
    expect(charge.refunded).toBe(4000);
  });

  it('refunds a delivered order to store credit at once; the order ends refunded and nothing goes back on the shelf', async () => {
    const buyer = await person(shop.t);
    const { product: p, order, payment } = await paidOrder(buyer, 2500, 2);
    await shop.t.post(`/api/v1/orders/${order.id}/ship`, { trackingNumber: 'T-1' }, { token: seller.token });
    await shop.t.post(`/api/v1/orders/${order.id}/deliver`, {}, { token: shop.admin.token });
    const res = await shop.t.post(`/api/v1/payments/${payment.id}/refunds`, { reason: 'goodwill', toStoreCredit: true }, { token: shop.admin.token });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ status: 'succeeded', destination: 'store_credit', amount: { amount: 2500 } });
    expect((await shop.t.get('/api/v1/store-credit', { token: buyer.token })).body.balance.amount).toBe(2500);
    await orderReaches(shop, order.id, 'refunded');
    expect((await stockOf(shop, p.variantId)).onHand).toBe(1);
  });

  it('lets a seller refund only up to its own group, when enabled, and never a customer', async () => {
    const other = await person(shop.t, ['seller']);
    const buyer = await person(shop.t);
    const mine = await product(shop, seller, { price: 1000, stock: 2 });
    const theirs = await product(shop, other, { price: 4000, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(mine), item(theirs)] });
    await orderReaches(shop, placed.body.id, 'paid');
    const [payment] = await paymentsOf(placed.body.id);
    const url = `/api/v1/payments/${payment.id}/refunds`;

    expect((await shop.t.post(url, { reason: 'please' }, { token: buyer.token })).status).toBe(403);
    const tooMuch = await shop.t.post(url, { amount: { amount: 1500, currency: 'USD' }, reason: 'broken' }, { token: seller.token });
    expect(tooMuch.status).toBe(409);
    expect(tooMuch.body.refundable).toBe(1000);
    const own = await shop.t.post(url, { reason: 'broken' }, { token: seller.token });
    expect(own.status).toBe(201);
    expect(own.body.amount.amount).toBe(1000);
    expect(own.body.groupId).toBeTruthy();
    const outsider = await person(shop.t, ['seller']);
    expect((await shop.t.post(url, { reason: 'x' }, { token: outsider.token })).status).toBe(404);

    const listed = await shop.t.get('/api/v1/payments/refunds', { token: buyer.token });
    expect(listed.body.items.map((r: { id: string }) => r.id)).toEqual([own.body.id]);
    const stranger = await person(shop.t);
    expect((await shop.t.get('/api/v1/payments/refunds', { token: stranger.token })).body.items).toEqual([]);
    expect((await shop.t.get(`/api/v1/payments/${payment.id}`, { token: stranger.token })).status).toBe(404);
  });

  it('rejects malformed refunds with 400 and unknown payments with 404', async () => {
    const refund = (id: string, body: unknown) => shop.t.post(`/api/v1/payments/${id}/refunds`, body, { token: shop.admin.token });
    expect((await refund(newId(), { reason: 'x' })).status).toBe(404);
    expect((await refund('not-a-payment', { reason: 'x' })).status).toBe(404);
    expect((await refund(newId(), { amount: { amount: 0, currency: 'USD' }, reason: 'x' })).status).toBe(400);
    expect((await refund(newId(), { amount: { amount: 10, currency: 'usd' }, reason: 'x' })).status).toBe(400);
    expect((await refund(newId(), {})).status).toBe(400);
  });
});

describe('saved cards', () => {
  it('keeps only brand, last 4 and expiry readable; the gateway token is sealed at rest and charges work with it', async () => {
    const buyer = await person(shop.t);
    const saved = await shop.t.post('/api/v1/payment-methods', { token: 'pm_card_mastercard' }, { token: buyer.token });
    expect(saved.status).toBe(201);
    expect(saved.body).toMatchObject({ brand: 'mastercard', last4: '4444', expMonth: 12, expYear: 2034 });
    expect(Object.keys(saved.body).sort()).toEqual(['brand', 'createdAt', 'expMonth', 'expYear', 'id', 'last4']);

    const { rows } = await sql<Record<string, unknown>>`select * from payments.payment_methods where id = ${saved.body.id}`.execute(shop.t.database.db);
    const raw = JSON.stringify(rows[0]);
    expect(raw).not.toMatch(/pm_(saved|card)/);
    expect(String(rows[0]!.token_enc)).toMatch(/^v1\./);

    const p = await product(shop, seller, { price: 700, stock: 2 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'card', savedMethodId: saved.body.id } });
    expect(placed.status).toBe(201);
    await orderReaches(shop, placed.body.id, 'paid');
    const [payment] = await paymentsOf(placed.body.id, buyer.token);
    expect(payment.card).toEqual({ brand: 'mastercard', last4: '4444' });
    const paymentRow = await sql<Record<string, unknown>>`select * from payments.payments where id = ${payment.id}`.execute(shop.t.database.db);
    expect(paymentRow.rows[0]!.card_token_enc).toBeNull();

    expect((await shop.t.get('/api/v1/payment-methods', { token: buyer.token })).body.items).toHaveLength(1);
    const stranger = await person(shop.t);
    const theft = await placeOrder(shop, stranger, { items: [item(p)], payment: { method: 'card', savedMethodId: saved.body.id } });
    expect(theft.status).toBe(422);
    expect((await shop.t.delete(`/api/v1/payment-methods/${saved.body.id}`, { token: stranger.token })).status).toBe(404);
    expect((await shop.t.delete(`/api/v1/payment-methods/${saved.body.id}`, { token: buyer.token })).status).toBe(204);
    expect((await shop.t.get('/api/v1/payment-methods', { token: buyer.token })).body.items).toEqual([]);
  });

  it('keeps at most 20 cards per user, even when saves race: the rest get 409 too-many-payment-methods', async () => {
    const buyer = await person(shop.t);
    const save = () => shop.t.post('/api/v1/payment-methods', { token: 'pm_card_visa' }, { token: buyer.token });
    for (let i = 0; i < 18; i++) expect((await save()).status).toBe(201);
    // Three at once for the last two places: the count is taken under a lock, so exactly two get in.
    const racing = await Promise.all([save(), save(), save()]);
    expect(racing.map((r) => r.status).sort()).toEqual([201, 201, 409]);
    const refused = racing.find((r) => r.status === 409)!;
    expect(refused.body).toMatchObject({ type: expect.stringMatching(/\/too-many-payment-methods$/), limit: 20 });
    const wallet = (await shop.t.get('/api/v1/payment-methods', { token: buyer.token })).body.items;
    expect(wallet).toHaveLength(20);
    // Paged like every list: 8 + 8 + 4, each card once.
    const pages: string[][] = [];
    let cursor: string | null = null;
    do {
      const page: any = await shop.t.get(`/api/v1/payment-methods?limit=8${cursor ? `&cursor=${cursor}` : ''}`, { token: buyer.token });
      pages.push(page.body.items.map((m: { id: string }) => m.id));
      cursor = page.body.nextCursor;
    } while (cursor);
    expect(pages.map((p) => p.length)).toEqual([8, 8, 4]);
    expect(pages.flat()).toEqual(wallet.map((m: { id: string }) => m.id));
    expect((await save()).status).toBe(409);
    expect((await shop.t.delete(`/api/v1/payment-methods/${wallet[0].id}`, { token: buyer.token })).status).toBe(204);
    expect((await save()).status).toBe(201);
    // Another user's wallet is their own.
    expect((await shop.t.post('/api/v1/payment-methods', { token: 'pm_card_visa' }, { token: (await person(shop.t)).token })).status).toBe(201);
  });

  it('refuses a token the gateway does not know (422) or that is malformed (400)', async () => {
    const buyer = await person(shop.t);
    const unknown = await shop.t.post('/api/v1/payment-methods', { token: 'pm_card_nope' }, { token: buyer.token });
    expect(unknown.status).toBe(422);
    expect(unknown.body.type).toMatch(/\/invalid-payment-token$/);
    expect((await shop.t.post('/api/v1/payment-methods', { token: '4242 4242 4242 4242' }, { token: buyer.token })).status).toBe(400);
  });

  it('never stores a one-time card token in plaintext either', async () => {
    const { rows } = await sql<{ row: string }>`select row_to_json(p)::text as row from payments.payments p`.execute(shop.t.database.db);
    expect(rows.length).toBeGreaterThan(0);
    for (const r of rows) expect(r.row).not.toMatch(/pm_card_/);
  });
});

describe('gateway webhooks', () => {
  it('rejects a bad signature with 400, settles a payment stuck at the provider, and ignores a repeat', async () => {
    const bad = await shop.t.request('POST', '/api/v1/payments/webhooks/test-gateway', {
      raw: JSON.stringify({ id: 'evt_x', type: 'charge.succeeded', idempotencyKey: newId(), amount: 1, currency: 'USD' }),
      headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: `t=${Math.floor(Date.now() / 1000)},v1=${'0'.repeat(64)}` },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.type).toMatch(/\/invalid-signature$/);
    const notJson = await shop.t.request('POST', '/api/v1/payments/webhooks/test-gateway', { raw: '{nope', headers: { 'content-type': 'application/json' } });
    expect(notJson.status).toBe(400);

    // The provider stops answering in time: the payment stays with it, the order pending.
    shop.gateway.timeoutRate = 1;
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 1100, stock: 1 });
    const placed = await placeOrder(shop, buyer, { items: [item(p)] });
    const [stuck] = await eventually(async () => {
      const payments = await paymentsOf(placed.body.id);
      return payments[0]?.status === 'processing' && shop.gateway.calls.authorize > 0 ? payments : undefined;
    });
    shop.gateway.timeoutRate = 0;
    expect((await orderOf(shop, placed.body.id)).status).toBe('pending');

    const event = { id: `evt_${newId()}`, type: 'charge.succeeded' as const, idempotencyKey: stuck.id, amount: 1100, currency: 'USD', chargeId: 'ch_from_webhook' };
    const signed = shop.gateway.signWebhook(event);
    const send = () =>
      shop.t.request('POST', '/api/v1/payments/webhooks/test-gateway', {
        raw: signed.body,
        headers: { 'content-type': 'application/json', [SIGNATURE_HEADER]: signed.signature, 'x-correlation-id': 'webhook-correlated-1' },
      });
    expect((await send()).body).toEqual({ received: true });
    // The capture the webhook recorded is announced under the webhook request's correlation.
    const announced = await sql<{ correlation_id: string }>`
      select correlation_id from kernel.outbox where type = 'payments.payment.captured' and aggregate_id = ${stuck.id}`.execute(shop.t.database.db);
    expect(announced.rows).toEqual([{ correlation_id: 'webhook-correlated-1' }]);
    expect((await send()).status).toBe(200);
    await orderReaches(shop, placed.body.id, 'paid');
    const settled = await paymentsOf(placed.body.id);
    expect(settled).toHaveLength(1);
    expect(settled[0]).toMatchObject({ status: 'captured' });
  });
});
