import { describe, expect, it } from 'vitest';
import { allocateReservation, applyMovements, crossedLowStock, lockOrder, mergeLines, type Movement, type StockLevel } from './service.ts';

const level = (variantId: string, locationId: string, onHand: number, reserved = 0, sellable = true): StockLevel => ({ variantId, locationId, onHand, reserved, sellable });
const movement = (variantId: string, locationId: string, onHandDelta: number, reservedDelta = 0): Movement => ({
  variantId, locationId, type: 'adjustment', onHandDelta, reservedDelta, reason: 'test', reference: null, actorId: null,
});

describe('inventory rules', () => {
  it('locks levels in one global order, once each, so two writers cannot deadlock', () => {
    expect(lockOrder([{ variantId: 'b', locationId: '2' }, { variantId: 'a', locationId: '9' }, { variantId: 'b', locationId: '1' }, { variantId: 'a', locationId: '9' }])).toEqual([
      { variantId: 'a', locationId: '9' },
      { variantId: 'b', locationId: '1' },
      { variantId: 'b', locationId: '2' },
    ]);
  });

  it('refuses a movement that would leave stock negative or over-reserved, and applies the rest', () => {
    const { levels, shortages } = applyMovements([level('v', 'w', 5, 2)], [movement('v', 'w', -4), movement('v', 'w', -3)]);
    expect(shortages).toEqual([{ variantId: 'v', requested: 4, available: 3 }]);
    expect(levels).toEqual([level('v', 'w', 2, 2)]);
    expect(applyMovements([level('v', 'w', 1)], [movement('v', 'w', 0, 2)]).shortages).toEqual([{ variantId: 'v', requested: 2, available: 1 }]);
  });

  it('merges repeated lines and rejects non-positive quantities', () => {
    expect(mergeLines([{ variantId: 'b', quantity: 1 }, { variantId: 'a', quantity: 2 }, { variantId: 'b', quantity: 3 }])).toEqual([
      { variantId: 'a', quantity: 2 },
      { variantId: 'b', quantity: 4 },
    ]);
    expect(() => mergeLines([{ variantId: 'a', quantity: 0 }])).toThrow(RangeError);
    expect(() => mergeLines([{ variantId: 'a', quantity: 1.5 }])).toThrow(RangeError);
  });

  it('allocates a reservation across sellable locations in order, all or nothing', () => {
    const levels = [level('v', '1', 2, 1), level('v', '2', 5), level('v', '3', 9, 0, false)];
    expect(allocateReservation([{ variantId: 'v', quantity: 4 }], levels)).toEqual({
      allocations: [{ variantId: 'v', locationId: '1', quantity: 1 }, { variantId: 'v', locationId: '2', quantity: 3 }],
      shortages: [],
    });
    expect(allocateReservation([{ variantId: 'v', quantity: 7 }], levels)).toEqual({ allocations: [], shortages: [{ variantId: 'v', requested: 7, available: 6 }] });
    expect(allocateReservation([{ variantId: 'x', quantity: 1 }], levels).shortages).toEqual([{ variantId: 'x', requested: 1, available: 0 }]);
  });

  it('calls stock low only when it crosses the threshold', () => {
    expect(crossedLowStock(5, 4, 5)).toBe(true);
    expect(crossedLowStock(4, 3, 5)).toBe(false);
    expect(crossedLowStock(9, 5, 5)).toBe(false);
    expect(crossedLowStock(3, 8, 5)).toBe(false);
  });
});
