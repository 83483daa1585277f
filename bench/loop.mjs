/** The benches' closed loop: `workers` concurrent loops, each starting its next call when the last answered. */

/** The p-th percentile (0-100) of `values`, in their unit, to one decimal; null when there are none. */
export const percentile = (values, p) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] * 10) / 10;
};

/**
 * Runs `fn(worker, i, latencies)` in `workers` loops for `ms`; a call that throws counts as an error
 * (by kind), not as a latency. Returns count, perSecond, p50, p99 (ms) and errors.
 */
export async function closedLoop(workers, ms, fn) {
  const latencies = [];
  let errors = 0;
  const errorKinds = {};
  const end = Date.now() + ms;
  await Promise.all(
    Array.from({ length: workers }, async (_, w) => {
      let i = 0;
      while (Date.now() < end) {
        const started = performance.now();
        try {
          await fn(w, i++, latencies);
          latencies.push(performance.now() - started);
        } catch (error) {
          errors++;
          const kind = error?.cause?.code ?? error?.message ?? String(error);
          errorKinds[kind] = (errorKinds[kind] ?? 0) + 1;
        }
      }
    }),
  );
  return { count: latencies.length, perSecond: Math.round((latencies.length / ms) * 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99), errors, ...(errors > 0 ? { errorKinds } : {}) };
}
