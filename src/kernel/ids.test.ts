import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { newId } from './ids.ts';

describe('ids', () => {
  it('are UUID v7s, unique, and sort in the order they were made, also within one millisecond', () => {
    const ids = Array.from({ length: 50_000 }, newId);
    for (const id of [ids[0]!, ids[12_345]!, ids.at(-1)!]) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
    // 50,000 ids take a few milliseconds: many share one, and their order is still creation order.
    expect(ids.every((id, i) => i === 0 || ids[i - 1]! < id)).toBe(true);
  });

  it('carry the time they were made', () => {
    const before = Date.now();
    const id = newId();
    const msecs = parseInt(id.replaceAll('-', '').slice(0, 12), 16);
    expect(msecs).toBeGreaterThanOrEqual(before);
    expect(msecs).toBeLessThanOrEqual(Date.now() + 1);
  });

  it('draw fresh random bits for each id: no two share their random tail', () => {
    const tails = Array.from({ length: 10_000 }, () => newId().slice(-12));
    expect(new Set(tails).size).toBe(tails.length);
  });
});
