import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../../test/support/events.ts';
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
  type Shop,
} from '../../../test/support/orders.ts';
import { changeStatus } from './lifecycle.ts';
import * as store from './store.ts';

let shop: Shop;
let seller: Person;
beforeAll(async () => {
  shop = await startShop();
  seller = await person(shop.t, ['seller']);
});
afterAll(() => shop.t.close());

async function paymentsOf(orderId: string, token = shop.admin.token) {
  const res = await shop.t.get(`/api/v1/payments?orderId=${orderId}`, { token });
  expect(res.status).toBe(200);
  return res.body.items as { id: string; status: string; method: string; refunded: { amount: number } }[];
}

async function paidOrder(buyer: Person, quantity = 2, stock = 5) {
  const p = await product(shop, seller, { price: 1000, stock });
  const res = await placeOrder(shop, buyer, { items: [item(p, quantity)] });
  expect(res.status).toBe(201);
  await orderReaches(shop, res.body.id, 'paid');
  return { product: p, order: res.body };
}

describe('cancelling', () => {
  it('lets the owner cancel a paid order: the stock goes back on hand and the card is refunded in full', async () => {
    const buyer = await person(shop.t);
    const { product: p, order } = await paidOrder(buyer, 2, 5);
    expect(await stockOf(shop, p.variantId)).toMatchObject({ onHand: 3, available: 3 });

    const res = await shop.t.post(`/api/v1/orders/${order.id}/cancel`, { reason: 'changed my mind' }, { token: buyer.token });
    expect(res.status).toBe(200);
    expect(res.body.status).toBe('cancelled');
    expect(res.body.history.at(-1)).toMatchObject({ from: 'paid', to: 'cancelled', actorId: buyer.id, reason: 'changed my mind' });
    expect(await stockOf(shop, p.variantId)).toMatchObject({ onHand: 5, available: 5, reserved: 0 });
    expect(await ledgerBalances(shop, p.variantId)).toEqual({ on_hand: 5, reserved: 0 });

    const [payment] = await eventually(async () => {
      const payments = await paymentsOf(order.id, buyer.token);
      return payments[0]?.status === 'refunded' ? payments : undefined;
    });
    expect(payment!.refunded.amount).toBe(2000);
    expect([...shop.gateway.charges.values()].find((c) => c.idempotencyKey === payment!.id)!.refunded).toBe(2000);
    expect((await eventually(async () => {
      const o = await orderOf(shop, order.id, buyer.token);
      return o.payment.status === 'refunded' ? o : undefined;
    })).status).toBe('cancelled');
  });

  it('lets the owner cancel after a decline: nothing was charged and the stock was already back', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 800, stock: 4 });
    const res = await placeOrder(shop, buyer, { items: [item(p, 3)], payment: { method: 'card', token: 'pm_card_chargeDeclined' } });
    await orderReaches(shop, res.body.id, 'payment_failed');
    const cancelled = await shop.t.post(`/api/v1/orders/${res.body.id}/cancel`, undefined, { token: buyer.token });
    expect(cancelled.status).toBe(200);
    expect(cancelled.body.history.map((h: { to: string }) => h.to)).toEqual(['pending', 'payment_failed', 'cancelled']);
    expect(await stockOf(shop, p.variantId)).toMatchObject({ onHand: 4, available: 4, reserved: 0 });
  });

  it('refuses a stranger (404), support (403), a second cancel and a cancel after shipment by the owner (409)', async () => {
    const buyer = await person(shop.t);
    const { order } = await paidOrder(buyer);
    const stranger = await person(shop.t);
    const support = await person(shop.t, ['support_agent']);
    expect((await shop.t.post(`/api/v1/orders/${order.id}/cancel`, {}, { token: stranger.token })).status).toBe(404);
    expect((await shop.t.post(`/api/v1/orders/${order.id}/cancel`, {}, { token: support.token })).status).toBe(403);

    expect((await shop.t.post(`/api/v1/orders/${order.id}/ship`, { trackingNumber: 'TRK-1' }, { token: seller.token })).status).toBe(200);
    const late = await shop.t.post(`/api/v1/orders/${order.id}/cancel`, {}, { token: buyer.token });
    expect(late.status).toBe(409);
    expect(late.body.type).toMatch(/\/invalid-transition$/);

    // An admin still can, until delivery.
    const byAdmin = await shop.t.post(`/api/v1/orders/${order.id}/cancel`, { reason: 'lost in transit' }, { token: shop.admin.token });
    expect(byAdmin.status).toBe(200);
    const again = await shop.t.post(`/api/v1/orders/${order.id}/cancel`, {}, { token: shop.admin.token });
    expect(again.status).toBe(409);
    expect(again.body).toMatchObject({ from: 'cancelled', to: 'cancelled' });
  });
});

describe('refunds by sellers', () => {
  it('are refused while SELLER_REFUNDS_ENABLED is off, even for the seller of the items', async () => {
    const buyer = await person(shop.t);
    const { order } = await paidOrder(buyer, 1);
    const [payment] = await paymentsOf(order.id);
    const res = await shop.t.post(`/api/v1/payments/${payment!.id}/refunds`, { reason: 'broken' }, { token: seller.token });
    expect(res.status).toBe(403);
    expect((await paymentsOf(order.id))[0]!.refunded.amount).toBe(0);
  });
});

describe('shipping and delivering', () => {
  it('follows each seller\'s parcel: processing after the first, shipped after the last, delivered at the door', async () => {
    const other = await person(shop.t, ['seller']);
    const agent = await person(shop.t, ['delivery_agent']);
    const buyer = await person(shop.t);
    const mine = await product(shop, seller, { price: 1000, stock: 5 });
    const theirs = await product(shop, other, { price: 3000, stock: 5 });
    const placed = await placeOrder(shop, buyer, { items: [item(mine), item(theirs)] });
    await orderReaches(shop, placed.body.id, 'paid');
    const url = `/api/v1/orders/${placed.body.id}`;

    const first = await shop.t.post(`${url}/ship`, { trackingNumber: 'TRK-A', carrier: 'DHL' }, { token: seller.token });
    expect(first.status).toBe(200);
    expect(first.body.status).toBe('processing');
    expect(first.body.groups).toMatchObject([{ sellerId: seller.id, status: 'shipped', trackingNumber: 'TRK-A', carrier: 'DHL' }]);

    const outsider = await person(shop.t, ['seller']);
    expect((await shop.t.post(`${url}/ship`, { trackingNumber: 'X' }, { token: outsider.token })).status).toBe(404);
    const twice = await shop.t.post(`${url}/ship`, { trackingNumber: 'TRK-A2' }, { token: seller.token });
    expect(twice.status).toBe(409);
    expect((await shop.t.post(`${url}/ship`, { trackingNumber: 'X' }, { token: buyer.token })).status).toBe(403);

    const last = await shop.t.post(`${url}/ship`, { trackingNumber: 'TRK-B' }, { token: other.token });
    expect(last.body.status).toBe('shipped');

    expect((await shop.t.post(`${url}/deliver`, {}, { token: seller.token })).status).toBe(403);
    const delivered = await shop.t.post(`${url}/deliver`, undefined, { token: agent.token });
    expect(delivered.status).toBe(200);
    expect(delivered.body.status).toBe('delivered');
    expect(delivered.body.history.map((h: { from: string | null; to: string }) => `${h.from}->${h.to}`)).toEqual([
      'null->pending',
      'pending->paid',
      'paid->processing',
      'processing->shipped',
      'shipped->delivered',
    ]);
    expect(delivered.body.history[3]).toMatchObject({ actorId: other.id, reason: 'shipped with tracking number TRK-B' });
  });

  it('refuses steps out of order with 409 invalid-transition', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 500, stock: 5 });
    const declined = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'card', token: 'pm_card_insufficientFunds' } });
    await orderReaches(shop, declined.body.id, 'payment_failed');
    const unpaidShip = await shop.t.post(`/api/v1/orders/${declined.body.id}/ship`, { trackingNumber: 'T' }, { token: shop.admin.token });
    expect(unpaidShip.status).toBe(409);
    expect(unpaidShip.body.type).toMatch(/\/invalid-transition$/);

    const { order } = await paidOrder(buyer);
    const early = await shop.t.post(`/api/v1/orders/${order.id}/deliver`, {}, { token: shop.admin.token });
    expect(early.status).toBe(409);
    expect(early.body).toMatchObject({ from: 'paid', to: 'delivered' });

    await shop.t.post(`/api/v1/orders/${order.id}/ship`, { trackingNumber: 'T' }, { token: shop.admin.token });
    await shop.t.post(`/api/v1/orders/${order.id}/deliver`, {}, { token: shop.admin.token });
    const tooLate = await shop.t.post(`/api/v1/orders/${order.id}/cancel`, {}, { token: shop.admin.token });
    expect(tooLate.status).toBe(409);
    expect(tooLate.body).toMatchObject({ from: 'delivered', to: 'cancelled' });
    expect((await shop.t.post(`/api/v1/orders/${order.id}/deliver`, {}, { token: shop.admin.token })).status).toBe(409);
  });
});

describe('cash on delivery', () => {
  it('goes to fulfilment without payment, and is captured when delivered', async () => {
    const buyer = await person(shop.t);
    const p = await product(shop, seller, { price: 1500, stock: 3 });
    const res = await placeOrder(shop, buyer, { items: [item(p)], payment: { method: 'cod' } });
    expect(res.status).toBe(201);
    expect(res.body.payment).toMatchObject({ method: 'cod', status: 'pending' });
    const processing = await orderReaches(shop, res.body.id, 'processing');
    expect(processing.history.at(-1).reason).toMatch(/cash on delivery/);
    expect(await stockOf(shop, p.variantId)).toMatchObject({ onHand: 2, reserved: 0 });
    expect((await paymentsOf(res.body.id))[0]).toMatchObject({ method: 'cod', status: 'pending' });

    await shop.t.post(`/api/v1/orders/${res.body.id}/ship`, { trackingNumber: 'COD-1' }, { token: seller.token });
    await shop.t.post(`/api/v1/orders/${res.body.id}/deliver`, {}, { token: shop.admin.token });
    const payments = await eventually(async () => {
      const list = await paymentsOf(res.body.id);
      return list[0]?.status === 'captured' ? list : undefined;
    });
    expect(payments).toHaveLength(1);
    // The order learns of the capture from payments' event, a moment after payments records it.
    const captured = await eventually(async () => {
      const order = await orderOf(shop, res.body.id);
      return order.payment.status === 'captured' ? order : undefined;
    });
    expect(captured.payment.status).toBe('captured');
    expect(shop.gateway.charges.has(payments[0]!.id)).toBe(false);
  });
});

describe('status changes written with the last statement', () => {
  it('leaves two changes in one transaction as the last state and both history rows in order, and a read in that transaction sees them', async () => {
    const buyer = await person(shop.t);
    const { order } = await paidOrder(buyer, 1, 3);
    const ctx = shop.t.app.ctx;
    const seenInside = await ctx.transaction(async (tx) => {
      const locked = (await store.lockOrder(tx, order.id))!;
      await changeStatus(ctx, tx, locked, 'processing', { actorId: seller.id, reason: 'packing' });
      await changeStatus(ctx, tx, locked, 'shipped', { actorId: seller.id, reason: 'handed to the carrier' });
      // Nothing is written yet: reading the order writes what is pending first.
      return (await store.lockOrder(tx, order.id))!;
    });
    expect(seenInside.status).toBe('shipped');
    expect(seenInside.history.map((h) => h.to)).toEqual(['pending', 'paid', 'processing', 'shipped']);
    const stored = await orderOf(shop, order.id, buyer.token);
    expect(stored.status).toBe('shipped');
    expect(stored.history.map((h: { to: string }) => h.to)).toEqual(['pending', 'paid', 'processing', 'shipped']);

    // Without a read in between, both changes go with the commit, as one row update and two history rows.
    const { order: second } = await paidOrder(buyer, 1, 3);
    await ctx.transaction(async (tx) => {
      const locked = (await store.lockOrder(tx, second.id))!;
      await changeStatus(ctx, tx, locked, 'processing', { actorId: seller.id, reason: 'packing' });
      await changeStatus(ctx, tx, locked, 'shipped', { actorId: seller.id, reason: 'handed to the carrier' });
    });
    const after = await orderOf(shop, second.id, buyer.token);
    expect(after.status).toBe('shipped');
    expect(after.history.slice(-2)).toMatchObject([
      { from: 'paid', to: 'processing', reason: 'packing' },
      { from: 'processing', to: 'shipped', reason: 'handed to the carrier' },
    ]);
  });
});

describe('what the order module tells the others', () => {
  it('publishes placed and paid events with lines, sellers, prices, totals, address and payment method', async () => {
    const buyer = await person(shop.t);
    const { order } = await paidOrder(buyer, 1);
    const { rows } = await sql<{ type: string; data: any }>`
      select type, data from kernel.outbox where aggregate_id = ${order.id} and type like 'orders.order.%' order by seq`.execute(shop.t.database.db);
    expect(rows.map((r) => r.type)).toEqual(['orders.order.placed', 'orders.order.paid']);
    const placed = rows[0]!.data;
    expect(placed).toMatchObject({
      orderId: order.id,
      userId: buyer.id,
      status: 'pending',
      lines: [{ sellerId: seller.id, quantity: 1, unitPrice: { amount: 1000, currency: 'USD' } }],
      groups: [{ sellerId: seller.id, total: { amount: 1000 } }],
      total: { amount: 1000, currency: 'USD' },
      shippingAddress: { country: 'GB' },
      payment: { method: 'card' },
    });
    expect(JSON.stringify(placed)).not.toContain('pm_card_visa');
    expect(rows[1]!.data).toMatchObject({ status: 'paid', previousStatus: 'pending' });
  });

  it('lists orders for admins by status, and a customer only their own', async () => {
    const buyer = await person(shop.t);
    const { order } = await paidOrder(buyer, 1);
    const admin = await shop.t.get('/api/v1/admin/orders?status=paid&limit=100', { token: shop.admin.token });
    expect(admin.status).toBe(200);
    expect(admin.body.items.map((o: { id: string }) => o.id)).toContain(order.id);
    expect(admin.body.items.every((o: { status: string }) => o.status === 'paid')).toBe(true);
    const page1 = await shop.t.get('/api/v1/admin/orders?limit=1', { token: shop.admin.token });
    const page2 = await shop.t.get(`/api/v1/admin/orders?limit=1&cursor=${page1.body.nextCursor}`, { token: shop.admin.token });
    expect(page2.body.items[0].id < page1.body.items[0].id).toBe(true);
    const other = await person(shop.t);
    expect((await shop.t.get('/api/v1/orders', { token: other.token })).body.items).toEqual([]);
  });
});
