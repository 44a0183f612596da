/**
 * PostgreSQL ends a transaction with deadlock_detected (40P01) or serialization_failure (40001)
 * when concurrent transactions conflict. Rows are locked in one order everywhere to avoid it, but
 * the server may still pick a victim (e.g. against an operator's ad-hoc statement); such a
 * transaction wrote nothing and is simply run again.
 */
const RETRYABLE_CODES = new Set(['40P01', '40001']);
/** Runs of a conflicting transaction before its error is passed on: conflicts are rare, so a few runs suffice. */
export const CONFLICT_ATTEMPTS = 5;
/** Base of the randomised wait between runs, so the two sides of a conflict do not meet again at once. */
const CONFLICT_BACKOFF_MS = 10;

let retried = 0;
/** Transactions run again after a conflict since the process started (tests check ordered locking makes it 0). */
export function conflictsRetried(): number {
  return retried;
}

export function isRetryableConflict(err: unknown): boolean {
  return typeof err === 'object' && err !== null && RETRYABLE_CODES.has((err as { code?: unknown }).code as string);
}

/** Runs `tx` (a whole transaction) again when it fails with a retryable conflict, up to CONFLICT_ATTEMPTS runs. */
export async function retryConflicts<T>(tx: () => Promise<T>, attempts = CONFLICT_ATTEMPTS): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await tx();
    } catch (err) {
      if (run >= attempts || !isRetryableConflict(err)) throw err;
      retried++;
      await new Promise((r) => setTimeout(r, CONFLICT_BACKOFF_MS * run * (1 + Math.random())));
    }
  }
}
