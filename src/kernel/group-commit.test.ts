import { describe, expect, it } from 'vitest';
import { groupCommit } from './group-commit.ts';

describe('groupCommit', () => {
  it('runs a lone request at once, and gathers requests made meanwhile into the next batch', async () => {
    const batches: number[][] = [];
    let release!: () => void;
    const firstBatchHeld = new Promise<void>((resolve) => (release = resolve));
    const submit = groupCommit(async (items: number[]) => {
      batches.push(items);
      if (batches.length === 1) await firstBatchHeld;
      return items.map((n) => n * 10);
    });
    const first = submit(1);
    expect(batches).toEqual([[1]]);
    const rest = [submit(2), submit(3), submit(4)];
    release();
    expect(await Promise.all([first, ...rest])).toEqual([10, 20, 30, 40]);
    expect(batches).toEqual([[1], [2, 3, 4]]);
  });

  it('runs the items of a failed batch again one by one, so only the bad request fails', async () => {
    const batches: string[][] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const submit = groupCommit(async (items: string[]) => {
      batches.push(items);
      if (batches.length === 1) await held;
      if (items.includes('bad')) throw new Error('no');
      return items.map((s) => s.toUpperCase());
    });
    const first = submit('first');
    const [good, bad, other] = [submit('good'), submit('bad'), submit('other')];
    release();
    expect(await first).toBe('FIRST');
    expect(await good).toBe('GOOD');
    await expect(bad).rejects.toThrow('no');
    expect(await other).toBe('OTHER');
    expect(batches).toEqual([['first'], ['good', 'bad', 'other'], ['good'], ['bad'], ['other']]);
    expect(await submit('later')).toBe('LATER');
  });

  it('caps a batch at its maximum size', async () => {
    const sizes: number[] = [];
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    const submit = groupCommit(async (items: number[]) => {
      sizes.push(items.length);
      if (sizes.length === 1) await held;
      return items;
    }, { maxBatch: 2 });
    const all = [submit(0), submit(1), submit(2), submit(3), submit(4)];
    release();
    expect(await Promise.all(all)).toEqual([0, 1, 2, 3, 4]);
    expect(sizes).toEqual([1, 2, 2]);
  });

  it('lets a batch wait for company when asked to linger', async () => {
    const batches: number[][] = [];
    const submit = groupCommit(async (items: number[]) => {
      batches.push(items);
      return items;
    }, { lingerMs: 30 });
    const first = submit(1);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = submit(2);
    expect(await Promise.all([first, second])).toEqual([1, 2]);
    expect(batches).toEqual([[1, 2]]);
  });

  it('lets every batch linger, not just the first, so a steady stream goes in few batches', async () => {
    const batches: number[][] = [];
    const later: Promise<number>[] = [];
    const submit = groupCommit(async (items: number[]) => {
      batches.push(items);
      // One more arrives while this batch runs, and another 10 ms after it ended: both go in the next.
      if (items.includes(1)) {
        later.push(submit(2));
        setTimeout(() => later.push(submit(3)), 10);
      }
      return items;
    }, { lingerMs: 30 });
    expect(await submit(1)).toBe(1);
    await new Promise((resolve) => setTimeout(resolve, 15));
    expect(await Promise.all(later)).toEqual([2, 3]);
    expect(batches).toEqual([[1], [2, 3]]);
  });
});
