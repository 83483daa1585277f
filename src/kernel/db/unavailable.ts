/**
 * Whether an error means the database could not be reached or dropped the connection (a restart, a
 * failover, a network cut), as opposed to a statement it refused. Work that failed this way may be
 * tried again once the database is back; nothing about the request itself was wrong.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    // SQLSTATE class 08 (connection exception) and 57P01-57P03 (shutdown, crash, not accepting yet).
    if (code.startsWith('08') || code === '57P01' || code === '57P02' || code === '57P03') return true;
    if (['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENOTFOUND', 'EAI_AGAIN'].includes(code)) return true;
    // A server restarting removes its Unix socket file until it listens again (database.ts connects
    // through the socket when it can).
    if (code === 'ENOENT' && typeof (error as { address?: unknown }).address === 'string') return true;
  }
  // node-postgres says these in words only.
  return (
    typeof message === 'string' &&
    /Connection terminated|connection error and is not queryable|timeout exceeded when trying to connect|Client was closed and is not queryable/.test(message)
  );
}

/**
 * Runs `work`, and again after each delay while it fails because the database is unavailable; any
 * other failure, or the last one, is thrown. For work whose outcome is already decided elsewhere and
 * only needs recording (a charge the provider has made), so that a database restart delays it by
 * seconds rather than until a lease lapses.
 */
export async function whileDatabaseUnavailable<T>(work: () => Promise<T>, delaysMs: readonly number[] = [250, 1000, 3000, 10_000]): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (attempt >= delaysMs.length || !isDatabaseUnavailable(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, delaysMs[attempt]));
    }
  }
}
