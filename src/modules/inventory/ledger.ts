import { LRUCache } from 'lru-cache';
import type { Db } from '../../kernel/db/database.ts';
import type { NewEvent } from '../../kernel/events/outbox.ts';
import type { ModuleContext } from '../../kernel/module.ts';
import {
  DEFAULT_LOCATION_ID,
  InsufficientStockError,
  InventoryEvents,
  ReservationNotActiveError,
  type ReservationLine,
  type StockChanged,
  type StockLow,
  type StockPort,
  type StockReservationChanged,
} from './contract.ts';
import { allocateReservation, applyMovements, availableDelta, crossedLowStock, lockOrder, mergeLines, type Movement, type StockLevel } from './service.ts';
import { availabilityCache } from './availability.ts';
import * as store from './store.ts';
import type { ReservationToWrite, VariantOwner } from './store.ts';

/**
 * Every change to stock goes through here: lock the levels it touches (always in variant, location
 * order), apply the movements in memory under the rules of service.ts, write the new levels and the
 * movements in the same transaction, then announce the new sellable totals. Because the levels are
 * row-locked before they are read, concurrent writers queue up and none can oversell.
 */
export interface StockLedger extends StockPort {
  /** Applies movements (adjustments, transfers, receipts); throws InsufficientStockError on a shortage. */
  move(tx: Db, movements: Movement[]): Promise<string[]>;
  /** Releases reservations whose time ran out; returns how many. */
  releaseExpired(limit?: number): Promise<number>;
}

export function createStockLedger(ctx: ModuleContext): StockLedger {
  const availability = availabilityCache(ctx);
  /** Reservations whose sale at commit found them not active: sold the slow way from then on. */
  const notActiveAtCommit = new LRUCache<string, true>({ max: 10_000 });
  /**
   * Writes the movements and returns their ids with the stock events they call for, which the caller
   * writes to the outbox together with its own (one statement for all).
   */
  async function writeLocked(
    tx: Db,
    locked: StockLevel[],
    movements: Movement[],
    options: { reservation?: ReservationToWrite; owners?: Map<string, VariantOwner>; atCommit?: boolean } = {},
  ): Promise<{ ids: string[]; events: NewEvent<unknown>[] }> {
    const { levels, shortages } = applyMovements(locked, movements);
    if (shortages.length > 0) throw new InsufficientStockError(shortages);
    const touched = new Set(movements.map((m) => `${m.variantId}/${m.locationId}`));
    const ids = await store.writeLevelsAndMovements(
      tx,
      levels.filter((l) => touched.has(`${l.variantId}/${l.locationId}`)),
      movements,
      options.reservation,
      { atCommit: options.atCommit },
    );
    const sellable = new Map(locked.map((l) => [`${l.variantId}/${l.locationId}`, l.sellable]));
    const deltas = new Map<string, number>();
    for (const m of movements) {
      const change = availableDelta(m, sellable.get(`${m.variantId}/${m.locationId}`) ?? false);
      deltas.set(m.variantId, (deltas.get(m.variantId) ?? 0) + change);
    }
    // Levels locked with their owners cover every sellable level of their variants: the totals after
    // the change follow from them without another read.
    const totals = options.owners ? totalsFromLevels(levels, options.owners) : undefined;
    return { ids, events: await announce(tx, deltas, false, totals) };
  }

  /**
   * inventory.stock.changed for every variant whose `available` moved, and inventory.stock.low when one
   * just ran low. A sale of reserved units (on hand and reserved fall together) or a transfer between
   * sellable locations leaves `available` as it was: read models have nothing to learn, and every
   * checkout would otherwise announce each line twice. `always` announces the variants regardless.
   */
  async function announce(tx: Db, deltas: Map<string, number>, always = false, known?: store.SellableTotals[]): Promise<NewEvent<unknown>[]> {
    const variantIds = [...deltas].filter(([, delta]) => always || delta !== 0).map(([id]) => id);
    if (variantIds.length === 0) return [];
    const events: NewEvent<unknown>[] = [];
    const totals = known?.filter((t) => variantIds.includes(t.variantId)) ?? (await store.sellableTotals(tx, variantIds));
    availability.changed(tx, variantIds, new Map(totals.map((t) => [t.variantId, t.onHand - t.reserved])));
    for (const t of totals) {
      const changed: StockChanged = {
        variantId: t.variantId,
        productId: t.productId,
        sellerId: t.sellerId,
        onHand: t.onHand,
        reserved: t.reserved,
        available: t.onHand - t.reserved,
      };
      events.push({ type: InventoryEvents.StockChanged, aggregateId: t.variantId, data: changed });
      const before = changed.available - (deltas.get(t.variantId) ?? 0);
      // Crossing zero, either way, is its own event: those that only care whether a variant can be
      // bought at all (back-in-stock alerts) hear of that instead of every sale.
      if (before <= 0 && changed.available > 0) events.push({ type: InventoryEvents.StockReplenished, aggregateId: t.variantId, data: changed });
      if (before > 0 && changed.available <= 0) events.push({ type: InventoryEvents.StockDepleted, aggregateId: t.variantId, data: changed });
      if (crossedLowStock(before, changed.available, t.lowStockThreshold)) {
        const low: StockLow = { ...changed, threshold: t.lowStockThreshold };
        events.push({ type: InventoryEvents.StockLow, aggregateId: t.variantId, data: low });
      }
    }
    return events;
  }

  async function move(tx: Db, movements: Movement[]): Promise<string[]> {
    if (movements.length === 0) return [];
    const keys = lockOrder(movements);
    await store.ensureLevels(tx, keys);
    const locked = await store.lockLevels(tx, keys);
    const { ids, events } = await writeLocked(tx, locked, movements);
    await ctx.publishAll(tx, events);
    return ids;
  }

  async function release(tx: Db, reservationId: string, reason: string, status: 'released' | 'expired'): Promise<boolean> {
    const closed = await store.closeReservation(tx, reservationId, status);
    if (!closed) return false;
    const { lines } = closed;
    const locked = await store.lockLevels(tx, lockOrder(lines));
    const { events } = await writeLocked(
      tx,
      locked,
      lines.map((l) => ({
        variantId: l.variantId,
        locationId: l.locationId,
        type: 'release' as const,
        onHandDelta: 0,
        reservedDelta: -l.quantity,
        reason,
        reference: closed.reference,
        actorId: null,
      })),
    );
    const data: StockReservationChanged = { reservationId, reference: closed.reference, lines: totalsPerVariant(lines), reason };
    await ctx.publishAll(tx, [...events, { type: InventoryEvents.StockReleased, aggregateId: reservationId, data }]);
    return true;
  }

  return {
    move,

    async registerVariants(tx, variants, actorId) {
      if (variants.length === 0) return;
      const owners = new Map(variants.map((v) => [v.variantId, v]));
      await store.insertVariants(tx, [...owners.values()]);
      const receipts: Movement[] = variants
        .filter((v) => (v.initialStock ?? 0) > 0)
        .map((v) => ({
          variantId: v.variantId,
          locationId: v.locationId ?? DEFAULT_LOCATION_ID,
          type: 'receipt',
          onHandDelta: v.initialStock!,
          reservedDelta: 0,
          reason: 'initial stock',
          reference: v.productId,
          actorId,
        }));
      if (receipts.length > 0) await move(tx, receipts);
      // Variants registered without stock are announced too, so read models learn they are out of stock.
      const withoutStock = [...owners.keys()].filter((id) => !receipts.some((r) => r.variantId === id));
      if (withoutStock.length > 0) await ctx.publishAll(tx, await announce(tx, new Map(withoutStock.map((id) => [id, 0])), true));
    },

    async getAvailable(variantIds, tx) {
      const ids = variantIds.filter(isUuid);
      const found = await store.availableByVariant(tx ?? ctx.db, [...new Set(ids)]);
      return new Map(variantIds.map((id) => [id, found.get(id) ?? 0]));
    },

    async getAvailableCached(variantIds) {
      const ids = variantIds.filter(isUuid);
      const found = await availability.available(ids, (missing) => store.availableByVariant(ctx.db, missing));
      return new Map(variantIds.map((id) => [id, found.get(id) ?? 0]));
    },

    async getAvailableForProducts(productIds, tx) {
      return store.availableByProduct(tx ?? ctx.db, [...new Set(productIds.filter(isUuid))]);
    },

    async reserve(tx, { reservationId, lines, expiresAt, reference }) {
      const wanted = mergeLines(lines);
      const unknown = wanted.filter((l) => !isUuid(l.variantId));
      if (unknown.length > 0) throw new InsufficientStockError(unknown.map((l) => ({ variantId: l.variantId, requested: l.quantity, available: 0 })));
      const { levels: locked, owners, alreadyReserved } = await store.lockSellableLevelsForReservation(tx, wanted.map((l) => l.variantId), reservationId);
      // A retried reserve (same id) must not hold the stock twice.
      if (alreadyReserved) return;
      const { allocations, shortages } = allocateReservation(wanted, locked);
      if (shortages.length > 0) throw new InsufficientStockError(shortages);
      const { events } = await writeLocked(
        tx,
        locked,
        allocations.map((a) => ({
          variantId: a.variantId,
          locationId: a.locationId,
          type: 'reservation' as const,
          onHandDelta: 0,
          reservedDelta: a.quantity,
          reason: 'reserved',
          reference,
          actorId: null,
        })),
        // Nothing in a checkout reads the hold back: it is written with the transaction's last statement.
        { reservation: { id: reservationId, reference, expiresAt, lines: allocations }, owners, atCommit: true },
      );
      const data: StockReservationChanged = { reservationId, reference, lines: wanted };
      await ctx.publishAll(tx, [...events, { type: InventoryEvents.StockReserved, aggregateId: reservationId, data }]);
    },

    async commitReservation(tx, reservationId, known) {
      if (known && !notActiveAtCommit.has(reservationId)) {
        await store.sellReservationAtCommit(tx, reservationId, known.reference, () => {
          // The caller was wrong (a hold released early, a skewed clock): its retry takes the path
          // that reads the reservation first and says why it cannot be sold.
          notActiveAtCommit.set(reservationId, true);
          return new ReservationNotActiveError(reservationId, 'released');
        });
        const data: StockReservationChanged = { reservationId, reference: known.reference, lines: mergeLines(known.lines) };
        await ctx.publishAll(tx, [{ type: InventoryEvents.StockCommitted, aggregateId: reservationId, data }]);
        return;
      }
      const sold = await store.sellReservation(tx, reservationId);
      if (!sold) {
        const existing = await store.findReservation(tx, reservationId);
        if (existing?.status === 'committed') return;
        throw new ReservationNotActiveError(reservationId, existing ? (existing.status as 'released' | 'expired') : 'missing');
      }
      // A sale of reserved units leaves `available` as it was: no stock.changed, only the reservation's end.
      const data: StockReservationChanged = { reservationId, reference: sold.reference, lines: totalsPerVariant(sold.lines) };
      await ctx.publishAll(tx, [{ type: InventoryEvents.StockCommitted, aggregateId: reservationId, data }]);
    },

    async releaseReservation(tx, reservationId, reason) {
      await release(tx, reservationId, reason, 'released');
    },

    async restock(tx, lines, reason, reference) {
      const wanted = mergeLines(lines).filter((l) => isUuid(l.variantId));
      await move(
        tx,
        wanted.map((l) => ({
          variantId: l.variantId,
          locationId: DEFAULT_LOCATION_ID,
          type: 'return' as const,
          onHandDelta: l.quantity,
          reservedDelta: 0,
          reason,
          reference,
          actorId: null,
        })),
      );
    },

    async releaseExpired(limit = 200) {
      const ids = await store.expiredReservationIds(ctx.db, limit);
      let released = 0;
      // One transaction per reservation: a failure on one does not hold back the others.
      for (const id of ids) {
        if (await ctx.transaction((tx) => release(tx, id, 'expired', 'expired'))) released++;
      }
      return released;
    },
  };
}

/** Sellable totals per variant from levels that include every sellable level of each variant. */
function totalsFromLevels(levels: StockLevel[], owners: Map<string, VariantOwner>): store.SellableTotals[] {
  const totals = new Map<string, store.SellableTotals>();
  for (const level of levels) {
    const owner = owners.get(level.variantId);
    if (!owner || !level.sellable) continue;
    const total = totals.get(level.variantId) ?? { variantId: level.variantId, ...owner, onHand: 0, reserved: 0 };
    total.onHand += level.onHand;
    total.reserved += level.reserved;
    totals.set(level.variantId, total);
  }
  return [...totals.values()];
}

function totalsPerVariant(lines: { variantId: string; quantity: number }[]): ReservationLine[] {
  return mergeLines(lines.map((l) => ({ variantId: l.variantId, quantity: l.quantity })));
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Ids from callers may be anything a client sent; a non-uuid can only be an unknown variant. */
export const isUuid = (id: string) => UUID.test(id);
