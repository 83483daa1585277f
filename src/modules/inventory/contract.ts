import type { Db } from '../../kernel/db/database.ts';

/** The public face of inventory: stock events and the port catalog and checkout call synchronously. */

export const InventoryEvents = {
  StockChanged: 'inventory.stock.changed',
  StockLow: 'inventory.stock.low',
  /** `available` rose from zero (or less) above zero; payload StockChanged. */
  StockReplenished: 'inventory.stock.replenished',
  /** `available` fell from above zero to zero (or less); payload StockChanged. */
  StockDepleted: 'inventory.stock.depleted',
  StockReserved: 'inventory.stock.reserved',
  StockReleased: 'inventory.stock.released',
  StockCommitted: 'inventory.stock.committed',
  LocationCreated: 'inventory.location.created',
} as const;

/** Payload of inventory.stock.changed: sellable totals of one variant after any movement. */
export interface StockChanged {
  variantId: string;
  productId: string;
  sellerId: string;
  onHand: number;
  reserved: number;
  /** On hand minus reserved, across sellable locations. */
  available: number;
}

export interface StockLow extends StockChanged {
  threshold: number;
}

export interface ReservationLine {
  variantId: string;
  quantity: number;
}

export class InsufficientStockError extends Error {
  constructor(readonly shortages: { variantId: string; requested: number; available: number }[]) {
    super('Insufficient stock');
  }
}

/** Port `inventory.stock`. Methods taking `tx` run inside the caller's transaction. */
export interface StockPort {
  /** Registers variants and their initial stock (at the default warehouse unless a location is named). */
  registerVariants(
    tx: Db,
    variants: { variantId: string; productId: string; sellerId: string; initialStock?: number; locationId?: string }[],
    actorId: string | null,
  ): Promise<void>;
  /** Sellable quantity per variant (unknown variants are 0). */
  getAvailable(variantIds: string[], tx?: Db): Promise<Map<string, number>>;
  /**
   * The same figures, kept in memory between changes: every stock change, once committed, makes them
   * be read again (on every instance, when the shared cache is Redis). For the reads of every cart change.
   */
  getAvailableCached(variantIds: string[]): Promise<Map<string, number>>;
  /**
   * Sellable quantity per variant of these products, keyed by variant id (variants without stock rows
   * are absent). Needs only product ids, so a reader can ask for it while it loads the product itself.
   */
  getAvailableForProducts(productIds: string[], tx?: Db): Promise<Map<string, number>>;
  /**
   * Reserves every line or none: throws InsufficientStockError listing each shortage. Rows are locked in
   * variant-id order, so concurrent reservations cannot deadlock or oversell.
   */
  reserve(tx: Db, reservation: { reservationId: string; lines: ReservationLine[]; expiresAt: Date; reference: string }): Promise<void>;
  /**
   * Turns a reservation into a sale: on hand goes down, reserved goes down. `known`: the caller knows
   * the reservation is active (it holds what made it, locked, well before the reservation expires)
   * and what it holds; the sale then goes with the transaction's last statement, and a reservation
   * that was not active after all fails the commit with ReservationNotActiveError.
   */
  commitReservation(tx: Db, reservationId: string, known?: { reference: string; lines: ReservationLine[] }): Promise<void>;
  /** Gives reserved stock back (cancelled or unpaid order). Releasing twice is a no-op. */
  releaseReservation(tx: Db, reservationId: string, reason: string): Promise<void>;
  /** Puts sold stock back on hand (a return or a cancellation after commit). */
  restock(tx: Db, lines: ReservationLine[], reason: string, reference: string): Promise<void>;
}
export const STOCK_PORT = 'inventory.stock';

export type { Db };

/** The warehouse every variant's stock goes to unless a location is named (created by inventory's first migration). */
export const DEFAULT_LOCATION_ID = '01900000-0000-7000-8000-00000000a001';

/** Demo locations (DEMO_DATA on, empty database), with fixed ids so demo stock can be spread over them. */
export const DEMO_LOCATIONS = {
  mainWarehouse: { id: DEFAULT_LOCATION_ID, name: 'Main warehouse', type: 'warehouse', sellable: true },
  eastWarehouse: { id: '01900000-0000-7000-8000-00000000a002', name: 'East warehouse', type: 'warehouse', sellable: true },
  downtownStore: { id: '01900000-0000-7000-8000-00000000a003', name: 'Downtown store', type: 'store', sellable: false },
} as const;

/** Payload of inventory.stock.reserved / released / committed. */
export interface StockReservationChanged {
  reservationId: string;
  reference: string;
  lines: ReservationLine[];
  /** For released: why (e.g. `expired`, `payment failed`). */
  reason?: string;
}

/** Payload of inventory.location.created. */
export interface LocationCreated {
  location: { id: string; name: string; type: 'warehouse' | 'store'; sellable: boolean };
}

/** commitReservation on a reservation that was released or has expired: the stock is no longer held for it. */
export class ReservationNotActiveError extends Error {
  constructor(
    readonly reservationId: string,
    readonly status: 'released' | 'expired' | 'missing',
  ) {
    super(`Reservation ${reservationId} is ${status}`);
  }
}
