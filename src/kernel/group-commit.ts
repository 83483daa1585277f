/**
 * Group commit: concurrent requests for the same kind of write share one round trip. `submit(item)`
 * starts a batch at once when none is running; requests made while one runs wait for it and then go
 * together in the next. Alone, a request waits for nobody; under load, N concurrent writers cost one
 * statement (or transaction) per batch instead of N. `run` answers each item, in order. When a batch
 * of several fails, each of its items runs again alone, so one bad request fails only itself: `run`
 * must be safe to repeat for items of a batch that failed (a rolled-back transaction is).
 */
export function groupCommit<T, R>(
  run: (items: T[]) => Promise<R[]>,
  options: { maxBatch?: number; lingerMs?: number } = {},
): (item: T) => Promise<R> {
  // `lingerMs`: for writes nobody waits on, each batch waits this long for company before it starts
  // (every batch, not just the first: under a steady stream the items that arrive while one batch runs
  // would otherwise go alone in the next).
  const { lingerMs = 0 } = options;
  const maxBatch = Math.max(1, options.maxBatch ?? 200);
  let queue: { item: T; resolve: (value: R) => void; reject: (error: unknown) => void }[] = [];
  let running = false;

  async function drain(): Promise<void> {
    running = true;
    while (queue.length > 0) {
      if (lingerMs > 0) await new Promise((resolve) => setTimeout(resolve, lingerMs));
      const batch = queue.slice(0, maxBatch);
      queue = queue.slice(batch.length);
      try {
        const results = await run(batch.map((entry) => entry.item));
        batch.forEach((entry, i) => entry.resolve(results[i]!));
      } catch (error) {
        if (batch.length === 1) {
          batch[0]!.reject(error);
          continue;
        }
        for (const entry of batch) {
          try {
            entry.resolve((await run([entry.item]))[0]!);
          } catch (alone) {
            entry.reject(alone);
          }
        }
      }
    }
    running = false;
  }

  return (item) =>
    new Promise<R>((resolve, reject) => {
      queue.push({ item, resolve, reject });
      if (!running) void drain();
    });
}
