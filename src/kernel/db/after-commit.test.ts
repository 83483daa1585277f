import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import { afterCommit } from './after-commit.ts';

describe('afterCommit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({}, { modules: [] });
  });
  afterAll(() => t.close());

  it('runs callbacks once the transaction has committed, when its writes are visible', async () => {
    await sql`create table if not exists public.after_commit_probe (id int primary key)`.execute(t.database.db);
    const seen: number[] = [];
    await t.app.ctx.transaction(async (tx) => {
      await sql`insert into public.after_commit_probe (id) values (1)`.execute(tx);
      afterCommit(tx, () => seen.push(1));
      afterCommit(tx, () => seen.push(2));
      expect(seen).toEqual([]);
    });
    expect(seen).toEqual([1, 2]);
  });

  it('never runs them for a transaction that rolled back', async () => {
    const seen: string[] = [];
    await expect(
      t.app.ctx.transaction(async (tx) => {
        afterCommit(tx, () => seen.push('ran'));
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    expect(seen).toEqual([]);
  });

  it('keeps going when one callback throws: the commit stands and the others run', async () => {
    const seen: string[] = [];
    const result = await t.app.ctx.transaction(async (tx) => {
      afterCommit(tx, () => {
        throw new Error('callback failed');
      });
      afterCommit(tx, () => seen.push('second'));
      return 'committed';
    });
    expect(result).toBe('committed');
    expect(seen).toEqual(['second']);
  });
});
