import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import type { JobDefinition, ModuleContext } from '../module.ts';
import { claimDueJob, finishJob, renewJobLease } from './lease.ts';

export interface JobRunner {
  /** Starts every job that is due and whose lease this instance can take now; resolves with their names once they finished. */
  runDue(): Promise<string[]>;
  start(): void;
  /** Stops ticking and waits for the runs in progress. */
  stop(): Promise<void>;
}

export interface JobRunnerOptions {
  db: Db;
  logger: Logger;
  instanceId: string;
  jobs: JobDefinition[];
  ctx: ModuleContext;
  /** How often this instance looks for due jobs. */
  tickMs?: number;
  /** How long a run's lease lasts without renewal: how soon another instance takes over from a dead one. */
  leaseMs?: number;
}

/**
 * Scheduled work, one runner per cluster. When a job is due, every instance tries to claim it in
 * kernel.job_leases; the one that wins runs it while renewing the lease, so however long the run
 * takes (even longer than the interval) nobody starts it a second time. A run that dies with its
 * instance is retried once the lease lapses. Timing uses the database's clock, not the instances'.
 *
 * Each job runs on its own: a slow job does not hold back the others' ticks.
 */
export function createJobRunner(options: JobRunnerOptions): JobRunner {
  const { db, logger, instanceId, jobs, ctx } = options;
  const tickMs = options.tickMs ?? 1000;
  const leaseMs = options.leaseMs ?? 30_000;
  const inFlight = new Map<string, Promise<boolean>>();
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;

  async function runIfDue(job: JobDefinition): Promise<boolean> {
    const lease = `job:${job.name}`;
    if (!(await claimDueJob(db, lease, instanceId, job.intervalMs, leaseMs))) return false;
    // A renewal still on its way when the run ends would extend the lease after finishJob gave it
    // back, keeping every instance off the job for another lease length: it is awaited first.
    let renewing: Promise<void> = Promise.resolve();
    const heartbeat = setInterval(() => {
      renewing = renewJobLease(db, lease, instanceId, leaseMs).then(
        (held) => {
          if (!held) logger.warn({ job: job.name }, 'job lease lost while running; another instance may start it');
        },
        (error: unknown) => logger.warn({ err: error, job: job.name }, 'job lease renewal failed'),
      );
    }, Math.max(1, Math.floor(leaseMs / 3)));
    heartbeat.unref();
    const started = Date.now();
    let error: string | null = null;
    try {
      await job.run(ctx);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      logger.error({ err: e, job: job.name }, 'job failed');
    } finally {
      clearInterval(heartbeat);
      await renewing;
    }
    await finishJob(db, lease, instanceId, error);
    logger.debug({ job: job.name, ms: Date.now() - started, failed: error !== null }, 'job ran');
    return true;
  }

  /** Starts each due job not already running here; one failing lookup does not stop the others. */
  function startDue(): Promise<string | undefined>[] {
    return jobs.map(async (job) => {
      if (inFlight.has(job.name)) return undefined;
      const run = runIfDue(job).catch((error: unknown) => {
        logger.error({ err: error, job: job.name }, 'job scheduling failed');
        return false;
      });
      inFlight.set(job.name, run);
      try {
        return (await run) ? job.name : undefined;
      } finally {
        inFlight.delete(job.name);
      }
    });
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(() => {
      void startDue();
      schedule();
    }, tickMs);
    timer.unref();
  }

  return {
    async runDue() {
      const ran = await Promise.all(startDue());
      return ran.filter((name): name is string => name !== undefined);
    },
    start() {
      if (jobs.length === 0 || !stopped) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await Promise.all(inFlight.values());
    },
  };
}
