import type { Logger } from 'pino';
import type { Db } from '../db/database.ts';
import type { JobDefinition, ModuleContext } from '../module.ts';
import { tryAcquireLease } from './lease.ts';
import { sql } from 'kysely';

export interface JobRunner {
  /** Runs every job whose lease this instance can take now; returns the names it ran. */
  runDue(): Promise<string[]>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Scheduled work, one runner per cluster: before each run an instance takes the job's lease for one
 * interval. Whoever takes it runs the job; everyone else skips until the lease lapses, so two
 * instances never run the same job in the same interval.
 */
export function createJobRunner(options: {
  db: Db;
  logger: Logger;
  instanceId: string;
  jobs: JobDefinition[];
  ctx: ModuleContext;
  tickMs?: number;
}): JobRunner {
  const { db, logger, instanceId, jobs, ctx } = options;
  const tickMs = options.tickMs ?? 1000;
  let timer: NodeJS.Timeout | undefined;
  let stopped = true;
  let running: Promise<string[]> | undefined;

  async function runJob(job: JobDefinition): Promise<boolean> {
    if (!(await tryAcquireLease(db, `job:${job.name}`, instanceId, job.intervalMs))) return false;
    await sql`update kernel.job_leases set last_started_at = now() where name = ${`job:${job.name}`}`.execute(db);
    let error: string | null = null;
    try {
      await job.run(ctx);
    } catch (e) {
      error = (e as Error).message ?? String(e);
      logger.error({ err: e, job: job.name }, 'job failed');
    }
    await sql`update kernel.job_leases set last_finished_at = now(), last_error = ${error}
              where name = ${`job:${job.name}`}`.execute(db);
    return true;
  }

  async function runDue(): Promise<string[]> {
    const ran: string[] = [];
    for (const job of jobs) {
      if (stopped && timer === undefined && running) break;
      try {
        if (await runJob(job)) ran.push(job.name);
      } catch (e) {
        logger.error({ err: e, job: job.name }, 'job lease failed');
      }
    }
    return ran;
  }

  function schedule() {
    if (stopped) return;
    timer = setTimeout(async () => {
      running = runDue();
      await running;
      running = undefined;
      schedule();
    }, tickMs);
    timer.unref();
  }

  return {
    runDue,
    start() {
      if (jobs.length === 0) return;
      stopped = false;
      schedule();
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await running;
    },
  };
}
