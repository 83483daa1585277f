import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startTestApp, type TestApp } from '../../../test/support/app.ts';
import type { BazaarModule, JobDefinition } from '../module.ts';
import { claimDueJob } from './lease.ts';
import { createJobRunner, type JobRunner } from './scheduler.ts';

const hour = 3_600_000;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface LeaseRow {
  owner: string;
  expires_at: Date;
  last_started_at: Date | null;
  last_finished_at: Date | null;
  last_error: string | null;
}

let runs = 0;
const hourly: BazaarModule = {
  name: 'hourly',
  migrations: {},
  jobs: [{ name: 'hourly.rollup', intervalMs: hour, run: async () => void runs++ }],
};

describe('scheduled jobs across instances', () => {
  let first: TestApp;
  let second: TestApp;
  beforeAll(async () => {
    first = await startTestApp({}, { modules: [hourly], background: false });
    second = await first.restart();
  });
  afterAll(async () => {
    await second.close();
    await first.close();
  });

  const db = () => first.database.db;
  const lease = async (job: string) =>
    (await sql<LeaseRow>`select * from kernel.job_leases where name = ${`job:${job}`}`.execute(db())).rows[0];
  /** Moves a job's last start back in time, as if its interval had passed. */
  const intervalPasses = (job: string) =>
    sql`update kernel.job_leases set last_started_at = last_started_at - interval '1 day' where name = ${`job:${job}`}`.execute(db());
  const runner = (instanceId: string, jobs: JobDefinition[], leaseMs?: number): JobRunner =>
    createJobRunner({ db: db(), logger: first.app.ctx.logger, ctx: first.app.ctx, instanceId, jobs, leaseMs, tickMs: 20 });

  it('runs a due job once per interval however often two instances race for it', async () => {
    const race = async () => {
      for (let round = 0; round < 10; round++) {
        await Promise.all([first.app.jobs.runDue(), second.app.jobs.runDue(), first.app.jobs.runDue(), second.app.jobs.runDue()]);
      }
    };
    await race();
    expect(runs).toBe(1);
    const row = await lease('hourly.rollup');
    expect(row?.last_finished_at).not.toBeNull();
    expect(row?.last_error).toBeNull();

    await intervalPasses('hourly.rollup');
    await race();
    expect(runs).toBe(2);
  });

  it('never starts a run again while it is still going, even when it outlasts its interval and lease', async () => {
    let started = 0;
    let finish!: () => void;
    const finished = new Promise<void>((resolve) => (finish = resolve));
    const slow: JobDefinition = {
      name: 'slow-export',
      intervalMs: 50,
      run: async () => {
        started++;
        await finished;
      },
    };
    const a = runner('instance-a', [slow], 300);
    const b = runner('instance-b', [slow], 300);

    const aRun = a.runDue();
    try {
      await vi.waitFor(() => expect(started).toBe(1));
      // Four lease lengths: without renewal the lease would have lapsed and b would have started it.
      const until = Date.now() + 1_200;
      while (Date.now() < until) {
        expect(await b.runDue()).toEqual([]);
        await sleep(30);
      }
      expect(started).toBe(1);
      expect((await lease('slow-export'))?.owner).toBe('instance-a');
    } finally {
      finish();
    }
    expect(await aRun).toEqual(['slow-export']);
    // Done and its interval long gone: now whichever instance asks first runs it.
    expect(await b.runDue()).toEqual(['slow-export']);
    expect(started).toBe(2);
  });

  it('lets another instance take over a run whose instance died, once its lease lapses', async () => {
    let ran = 0;
    const nightly: JobDefinition = { name: 'nightly-report', intervalMs: hour, run: async () => void ran++ };
    // An instance claimed the run with a short lease and then vanished without finishing it.
    expect(await claimDueJob(db(), 'job:nightly-report', 'crashed-instance', hour, 200)).toBe(true);

    const survivor = runner('survivor', [nightly]);
    expect(await survivor.runDue()).toEqual([]);
    await vi.waitFor(async () => expect(await survivor.runDue()).toEqual(['nightly-report']), { timeout: 5_000, interval: 50 });
    expect(ran).toBe(1);
    expect(await lease('nightly-report')).toMatchObject({ owner: 'survivor', last_error: null });
    // It finished this time, so the hour-long interval holds again.
    expect(await survivor.runDue()).toEqual([]);
  });

  it("records a failing job's error, keeps running the other jobs, and clears the error after a success", async () => {
    let failNext = true;
    const flaky: JobDefinition = {
      name: 'supplier-sync',
      intervalMs: hour,
      run: async () => {
        if (failNext) throw new Error('supplier feed is down');
      },
    };
    const steady: JobDefinition = { name: 'cleanup', intervalMs: hour, run: async () => {} };
    const jobs = runner('instance-c', [flaky, steady]);

    expect((await jobs.runDue()).sort()).toEqual(['cleanup', 'supplier-sync']);
    expect(await lease('supplier-sync')).toMatchObject({ last_error: 'supplier feed is down' });
    expect((await lease('supplier-sync'))?.last_finished_at).not.toBeNull();
    expect(await lease('cleanup')).toMatchObject({ last_error: null });
    // A failed run counts as a run: it is not retried before its interval.
    expect(await jobs.runDue()).toEqual([]);

    failNext = false;
    await intervalPasses('supplier-sync');
    expect(await jobs.runDue()).toEqual(['supplier-sync']);
    expect(await lease('supplier-sync')).toMatchObject({ last_error: null });
  });

  it('keeps ticking through failures once started, and stop waits for the run in progress', async () => {
    let attempts = 0;
    const broken: JobDefinition = {
      name: 'always-broken',
      intervalMs: 1,
      run: async () => {
        attempts++;
        throw new Error('still broken');
      },
    };
    const jobs = runner('instance-d', [broken]);
    jobs.start();
    await vi.waitFor(() => expect(attempts).toBeGreaterThanOrEqual(3), { timeout: 10_000, interval: 20 });
    await jobs.stop();
    const after = attempts;
    await sleep(100);
    expect(attempts).toBe(after);
    expect(await lease('always-broken')).toMatchObject({ last_error: 'still broken' });
  });
});
