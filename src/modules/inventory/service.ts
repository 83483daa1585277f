import type { ReservationLine } from './contract.ts';

/** Inventory's rules as plain functions over rows already read (and locked) by the ledger. */

export type MovementType = 'receipt' | 'adjustment' | 'sale' | 'return' | 'transfer_in' | 'transfer_out' | 'reservation' | 'release';

export interface StockLevel {
  variantId: string;
  locationId: string;
  sellable: boolean;
  onHand: number;
  reserved: number;
}

export interface Movement {
  variantId: string;
  locationId: string;
  type: MovementType;
  onHandDelta: number;
  reservedDelta: number;
  reason: string;
  reference: string | null;
  actorId: string | null;
}

/** Units of a variant held (or sold) at one location: a reservation line, an allocation. */
export interface LocatedQuantity {
  variantId: string;
  locationId: string;
  quantity: number;
}

export interface Shortage {
  variantId: string;
  requested: number;
  available: number;
}

export const levelKey = (variantId: string, locationId: string) => `${variantId}/${locationId}`;

/** Locks are always taken in this order (variant, then location), so two writers can never deadlock. */
export function lockOrder<T extends { variantId: string; locationId: string }>(keys: T[]): T[] {
  const unique = new Map(keys.map((k) => [levelKey(k.variantId, k.locationId), k]));
  return [...unique.values()].sort((a, b) => compare(a.variantId, b.variantId) || compare(a.locationId, b.locationId));
}

const compare = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Applies movements to locked levels. A level may never end with negative stock or with more reserved
 * than on hand; each movement that would leave it so is reported as a shortage of what it asked for.
 */
export function applyMovements(levels: StockLevel[], movements: Movement[]): { levels: StockLevel[]; shortages: Shortage[] } {
  const byKey = new Map(levels.map((l) => [levelKey(l.variantId, l.locationId), { ...l }]));
  const shortages: Shortage[] = [];
  for (const m of movements) {
    const level = byKey.get(levelKey(m.variantId, m.locationId));
    if (!level) throw new Error(`Stock level ${m.variantId} at ${m.locationId} was not locked`);
    const onHand = level.onHand + m.onHandDelta;
    const reserved = level.reserved + m.reservedDelta;
    if (onHand < 0 || reserved < 0 || reserved > onHand) {
      shortages.push({
        variantId: m.variantId,
        requested: Math.max(-m.onHandDelta, m.reservedDelta, 0),
        available: Math.max(0, level.onHand - level.reserved),
      });
      continue;
    }
    level.onHand = onHand;
    level.reserved = reserved;
  }
  return { levels: [...byKey.values()], shortages };
}

/** Lines naming the same variant twice are one line: a reservation holds one quantity per variant. */
export function mergeLines(lines: ReservationLine[]): ReservationLine[] {
  const merged = new Map<string, number>();
  for (const line of lines) {
    if (!Number.isInteger(line.quantity) || line.quantity <= 0) throw new RangeError(`Quantity must be a positive integer: ${line.quantity}`);
    merged.set(line.variantId, (merged.get(line.variantId) ?? 0) + line.quantity);
  }
  return [...merged.entries()].map(([variantId, quantity]) => ({ variantId, quantity })).sort((a, b) => compare(a.variantId, b.variantId));
}

/**
 * Spreads each line over the variant's sellable locations, in location order, taking what each has
 * free. All or nothing: any line that cannot be covered makes the whole reservation a shortage.
 */
export function allocateReservation(
  lines: ReservationLine[],
  levels: StockLevel[],
): { allocations: LocatedQuantity[]; shortages: Shortage[] } {
  const allocations: LocatedQuantity[] = [];
  const shortages: Shortage[] = [];
  for (const line of lines) {
    const candidates = levels
      .filter((l) => l.variantId === line.variantId && l.sellable)
      .sort((a, b) => compare(a.locationId, b.locationId));
    const free = candidates.reduce((n, l) => n + Math.max(0, l.onHand - l.reserved), 0);
    if (free < line.quantity) {
      shortages.push({ variantId: line.variantId, requested: line.quantity, available: free });
      continue;
    }
    let left = line.quantity;
    for (const level of candidates) {
      if (left === 0) break;
      const take = Math.min(left, Math.max(0, level.onHand - level.reserved));
      if (take > 0) allocations.push({ variantId: line.variantId, locationId: level.locationId, quantity: take });
      left -= take;
    }
  }
  return { allocations, shortages };
}

/** Low stock is announced once, when available falls from at-or-above the threshold to below it. */
export function crossedLowStock(availableBefore: number, availableAfter: number, threshold: number): boolean {
  return availableBefore >= threshold && availableAfter < threshold;
}

/** What a movement does to the sellable total: only sellable locations count towards `available`. */
export function availableDelta(movement: Movement, sellable: boolean): number {
  return sellable ? movement.onHandDelta - movement.reservedDelta : 0;
}
