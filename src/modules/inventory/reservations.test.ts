import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TestApp } from '../../../test/support/app.ts';
import { admin, category, product, seller, startCatalogApp, type Caller } from '../../../test/support/catalog.ts';
import { newId } from '../../kernel/ids.ts';
import { InsufficientStockError, ReservationNotActiveError, STOCK_PORT, type StockPort } from './contract.ts';
import { inventoryModule } from './index.ts';
import { levelsOutOfBalance } from './store.ts';

describe('reservations through the inventory.stock port', () => {
  let t: TestApp;
  let port: StockPort;
  let boss: Caller;
  let owner: Caller;
  let categoryId: string;

  beforeAll(async () => {
    t = await startCatalogApp();
    port = t.app.ctx.ports.get<StockPort>(STOCK_PORT);
    boss = await admin(t);
    owner = await seller(t);
    categoryId = (await category(t, boss)).id;
  });
  afterAll(() => t.close());

  async function variant(stock: number): Promise<string> {
    const made = await product(t, owner, categoryId, { variants: [{ sku: `R-${newId().slice(-10)}`, price: 100, stock }] });
    return made.variants[0].id;
  }
  const available = async (id: string) => (await port.getAvailable([id])).get(id);
  const stockOf = async (id: string) => (await t.get(`/api/v1/inventory/${id}`, { token: boss.token })).body;
  const reserve = (lines: { variantId: string; quantity: number }[], reservationId = newId(), expiresAt = new Date(Date.now() + 600_000)) =>
    t.app.ctx.transaction((tx) => port.reserve(tx, { reservationId, lines, expiresAt, reference: `order-${reservationId.slice(-6)}` })).then(() => reservationId);
  const eventsOf = async (aggregateId: string) =>
    (await sql<any>`select type, data from kernel.outbox where aggregate_id = ${aggregateId} order by seq`.execute(t.database.db)).rows;

  it('holds stock for a reservation, then sells it on commit', async () => {
    const id = await variant(10);
    const reservation = await reserve([{ variantId: id, quantity: 3 }]);
    expect(await available(id)).toBe(7);
    expect(await stockOf(id)).toMatchObject({ onHand: 10, reserved: 3, available: 7 });

    await t.app.ctx.transaction((tx) => port.commitReservation(tx, reservation));
    expect(await stockOf(id)).toMatchObject({ onHand: 7, reserved: 0, available: 7 });
    // Committing again, or releasing a sold reservation, changes nothing.
    await t.app.ctx.transaction((tx) => port.commitReservation(tx, reservation));
    await t.app.ctx.transaction((tx) => port.releaseReservation(tx, reservation, 'late cancel'));
    expect(await stockOf(id)).toMatchObject({ onHand: 7, reserved: 0 });
    expect((await eventsOf(reservation)).map((e) => e.type)).toEqual(['inventory.stock.reserved', 'inventory.stock.committed']);
    // Read models hear of the reservation (available 10 -> 7), not of the sale, which leaves it at 7.
    const changes = (await eventsOf(id)).filter((e) => e.type === 'inventory.stock.changed').map((e) => e.data.available);
    expect(changes).toEqual([10, 7]);
  });

  it('writes a hold with the transaction\'s last statement, yet the same transaction reads it back, and a rollback leaves nothing', async () => {
    const id = await variant(10);
    const reservationId = newId();
    const inside = await t.app.ctx.transaction(async (tx) => {
      await port.reserve(tx, { reservationId, lines: [{ variantId: id, quantity: 4 }], expiresAt: new Date(Date.now() + 600_000), reference: 'order-inside' });
      const pendingUntilRead = (await sql<{ n: number }>`select count(*)::int as n from inventory.reservations where id = ${reservationId}`.execute(tx)).rows[0]!.n;
      // A read through inventory writes the pending hold first; then the sale finds it.
      const seen = (await port.getAvailable([id], tx)).get(id);
      await port.commitReservation(tx, reservationId);
      return { pendingUntilRead, seen };
    });
    expect(inside).toEqual({ pendingUntilRead: 0, seen: 6 });
    expect(await stockOf(id)).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
    expect(await levelsOutOfBalance(t.database.db, [id])).toEqual([]);

    const undone = newId();
    await expect(
      t.app.ctx.transaction(async (tx) => {
        await port.reserve(tx, { reservationId: undone, lines: [{ variantId: id, quantity: 2 }], expiresAt: new Date(Date.now() + 600_000), reference: 'order-undone' });
        throw new Error('the checkout failed after the hold');
      }),
    ).rejects.toThrow('the checkout failed');
    expect(await stockOf(id)).toMatchObject({ onHand: 6, reserved: 0, available: 6 });
    expect((await sql`select 1 from inventory.reservations where id = ${undone}`.execute(t.database.db)).rows).toHaveLength(0);

    // A retried payment's new hold is sold in the same transaction, with no read in between.
    const heldAndSold = newId();
    await t.app.ctx.transaction(async (tx) => {
      await port.reserve(tx, { reservationId: heldAndSold, lines: [{ variantId: id, quantity: 1 }], expiresAt: new Date(Date.now() + 600_000), reference: 'order-again' });
      await port.commitReservation(tx, heldAndSold);
    });
    expect(await stockOf(id)).toMatchObject({ onHand: 5, reserved: 0, available: 5 });

    const written = await reserve([{ variantId: id, quantity: 1 }]);
    expect((await sql`select status from inventory.reservations where id = ${written}`.execute(t.database.db)).rows).toEqual([{ status: 'active' }]);
    expect(await stockOf(id)).toMatchObject({ onHand: 5, reserved: 1, available: 4 });
    expect(await levelsOutOfBalance(t.database.db, [id])).toEqual([]);
  });

  it('sells a hold its caller knows with the last statement, and fails the transaction when the hold was not active after all', async () => {
    const id = await variant(10);
    const lines = [{ variantId: id, quantity: 2 }];
    const sold = await reserve(lines);
    await t.app.ctx.transaction(async (tx) => {
      await port.commitReservation(tx, sold, { reference: 'order-known', lines });
      // Read back in the same transaction: the sale is written first.
      expect((await port.getAvailable([id], tx)).get(id)).toBe(8);
    });
    expect(await stockOf(id)).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
    expect(await levelsOutOfBalance(t.database.db, [id])).toEqual([]);
    expect((await eventsOf(sold)).map((e) => e.type)).toEqual(['inventory.stock.reserved', 'inventory.stock.committed']);

    const released = await reserve(lines);
    await t.app.ctx.transaction((tx) => port.releaseReservation(tx, released, 'gave up'));
    // At commit, and when a read in the transaction writes it first.
    await expect(t.app.ctx.transaction((tx) => port.commitReservation(tx, released, { reference: 'order-known', lines }))).rejects.toBeInstanceOf(ReservationNotActiveError);
    const releasedToo = await reserve(lines);
    await t.app.ctx.transaction((tx) => port.releaseReservation(tx, releasedToo, 'gave up'));
    await expect(
      t.app.ctx.transaction(async (tx) => {
        await port.commitReservation(tx, releasedToo, { reference: 'order-known', lines });
        await port.getAvailable([id], tx);
      }),
    ).rejects.toBeInstanceOf(ReservationNotActiveError);
    expect(await stockOf(id)).toMatchObject({ onHand: 8, reserved: 0, available: 8 });
    expect(await levelsOutOfBalance(t.database.db, [id])).toEqual([]);
  });

  it('reserves all lines or none, naming every shortage', async () => {
    const plenty = await variant(5);
    const scarce = await variant(1);
    const attempt = reserve([{ variantId: plenty, quantity: 2 }, { variantId: scarce, quantity: 2 }, { variantId: newId(), quantity: 1 }]);
    await expect(attempt).rejects.toBeInstanceOf(InsufficientStockError);
    const error = (await attempt.catch((e) => e)) as InsufficientStockError;
    expect(error.shortages).toEqual(expect.arrayContaining([{ variantId: scarce, requested: 2, available: 1 }]));
    expect(error.shortages).toHaveLength(2);
    expect(await available(plenty)).toBe(5);
    expect(await available(scarce)).toBe(1);
  });

  it('releases a reservation once, however often it is asked', async () => {
    const id = await variant(4);
    const reservation = await reserve([{ variantId: id, quantity: 4 }]);
    expect(await available(id)).toBe(0);
    await t.app.ctx.transaction((tx) => port.releaseReservation(tx, reservation, 'payment failed'));
    await t.app.ctx.transaction((tx) => port.releaseReservation(tx, reservation, 'payment failed'));
    expect(await stockOf(id)).toMatchObject({ onHand: 4, reserved: 0, available: 4 });
    const released = (await eventsOf(reservation)).filter((e) => e.type === 'inventory.stock.released');
    expect(released).toHaveLength(1);
    expect(released[0].data).toMatchObject({ reservationId: reservation, lines: [{ variantId: id, quantity: 4 }], reason: 'payment failed' });
    await expect(t.app.ctx.transaction((tx) => port.commitReservation(tx, reservation))).rejects.toBeInstanceOf(ReservationNotActiveError);
  });

  it('spreads a reservation over sellable locations, and a retried reserve holds the stock only once', async () => {
    const id = await variant(2);
    const east = await t.post('/api/v1/inventory/locations', { name: `East ${newId().slice(-4)}`, type: 'warehouse' }, { token: boss.token });
    await t.post('/api/v1/inventory/adjustments', { variantId: id, delta: 3, reason: 'delivery', locationId: east.body.id }, { token: boss.token });
    const reservation = newId();
    await reserve([{ variantId: id, quantity: 4 }], reservation);
    await reserve([{ variantId: id, quantity: 4 }], reservation);
    const view = await stockOf(id);
    expect(view).toMatchObject({ onHand: 5, reserved: 4, available: 1 });
    // The default warehouse first (all 2 it has), the rest from the east.
    expect(view.locations.map((l: any) => [l.locationId === east.body.id ? 'east' : 'main', l.onHand, l.reserved]).sort()).toEqual([
      ['east', 3, 2],
      ['main', 2, 2],
    ]);
    await t.app.ctx.transaction((tx) => port.commitReservation(tx, reservation));
    expect(await stockOf(id)).toMatchObject({ onHand: 1, reserved: 0, available: 1 });
    // The sale took the units from both locations it had held them at, each with its movement.
    expect(await levelsOutOfBalance(t.database.db, [id])).toEqual([]);
    const sales = await sql<any>`select location_id, on_hand_delta, reserved_delta from inventory.movements where variant_id = ${id} and type = 'sale'`.execute(t.database.db);
    expect(sales.rows.map((m) => [m.location_id === east.body.id ? 'east' : 'main', m.on_hand_delta, m.reserved_delta]).sort()).toEqual([
      ['east', -2, -2],
      ['main', -2, -2],
    ]);
  });

  it('announces a reservation with the totals of sellable locations only, and who owns the variant', async () => {
    const id = await variant(2);
    const east = await t.post('/api/v1/inventory/locations', { name: `East ${newId().slice(-4)}`, type: 'warehouse' }, { token: boss.token });
    const shop = await t.post('/api/v1/inventory/locations', { name: `Shop ${newId().slice(-4)}`, type: 'store' }, { token: boss.token });
    await t.post('/api/v1/inventory/adjustments', { variantId: id, delta: 3, reason: 'delivery', locationId: east.body.id }, { token: boss.token });
    await t.post('/api/v1/inventory/adjustments', { variantId: id, delta: 7, reason: 'delivery', locationId: shop.body.id }, { token: boss.token });
    await reserve([{ variantId: id, quantity: 4 }]);
    const changes = (await eventsOf(id)).filter((e) => e.type === 'inventory.stock.changed');
    expect(changes.at(-1)!.data).toEqual({ variantId: id, productId: expect.any(String), sellerId: owner.id, onHand: 5, reserved: 4, available: 1 });
  });

  it('lets exactly 10 of 40 concurrent one-unit reservations through against a stock of 10', async () => {
    const id = await variant(10);
    const outcomes = await Promise.allSettled(Array.from({ length: 40 }, () => reserve([{ variantId: id, quantity: 1 }])));
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    const lost = outcomes.filter((o) => o.status === 'rejected') as PromiseRejectedResult[];
    expect(won).toHaveLength(10);
    expect(lost).toHaveLength(30);
    expect(lost.every((o) => o.reason instanceof InsufficientStockError)).toBe(true);
    expect(await stockOf(id)).toMatchObject({ onHand: 10, reserved: 10, available: 0 });
    expect(await levelsOutOfBalance(t.database.db, [id])).toEqual([]);
  });

  it('releases reservations whose time ran out when the expiry job runs', async () => {
    const id = await variant(6);
    const lapsed = await reserve([{ variantId: id, quantity: 2 }]);
    const current = await reserve([{ variantId: id, quantity: 1 }]);
    await sql`update inventory.reservations set expires_at = now() - interval '1 minute' where id = ${lapsed}`.execute(t.database.db);
    expect(await available(id)).toBe(3);

    const job = inventoryModule.jobs!.find((j) => j.name === 'inventory.release-expired-reservations')!;
    expect(job.intervalMs).toBe(5000);
    await job.run(t.app.ctx);

    expect(await stockOf(id)).toMatchObject({ onHand: 6, reserved: 1, available: 5 });
    const status = await sql<any>`select id, status from inventory.reservations where id in (${lapsed}, ${current})`.execute(t.database.db);
    expect(Object.fromEntries(status.rows.map((r) => [r.id, r.status]))).toEqual({ [lapsed]: 'expired', [current]: 'active' });
    expect((await eventsOf(lapsed)).at(-1)).toMatchObject({ type: 'inventory.stock.released', data: { reason: 'expired' } });
    await expect(t.app.ctx.transaction((tx) => port.commitReservation(tx, lapsed))).rejects.toBeInstanceOf(ReservationNotActiveError);
  });

  it('puts returned stock back on hand, and reports unknown variants as zero', async () => {
    const id = await variant(3);
    const reservation = await reserve([{ variantId: id, quantity: 3 }]);
    await t.app.ctx.transaction((tx) => port.commitReservation(tx, reservation));
    await t.app.ctx.transaction((tx) => port.restock(tx, [{ variantId: id, quantity: 2 }], 'customer return', 'return-1'));
    expect(await stockOf(id)).toMatchObject({ onHand: 2, available: 2 });
    const unknown = newId();
    const map = await port.getAvailable([id, unknown, 'not-a-uuid']);
    expect(Object.fromEntries(map)).toEqual({ [id]: 2, [unknown]: 0, 'not-a-uuid': 0 });
    const ledger = (await t.get(`/api/v1/inventory/${id}/movements`, { token: owner.token })).body.items.map((m: any) => m.type);
    expect(ledger).toEqual(['return', 'sale', 'reservation', 'receipt']);
  });
});
