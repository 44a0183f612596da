/**
 * The single retry schedule: the wait before attempt n+1 after n failed attempts. Exponential at
 * first (greylisting usually clears within minutes), then flat at 12 hours until the message's
 * lifetime (default 72 h) runs out.
 */
export const RETRY_SCHEDULE_MS: readonly number[] = [
  60_000,
  5 * 60_000,
  10 * 60_000,
  30 * 60_000,
  60 * 60_000,
  2 * 3_600_000,
  4 * 3_600_000,
  8 * 3_600_000,
  12 * 3_600_000,
];

export type RetryDecision = { kind: 'retry'; at: number } | { kind: 'expired' };

/**
 * When to try again after `attempts` failed attempts, or `expired` when that would be past the
 * message's lifetime. ±10% jitter spreads retries of a burst so they do not return together.
 */
export function nextAttempt(
  attempts: number,
  createdAt: number,
  now: number,
  lifetimeMs: number,
  schedule: readonly number[] = RETRY_SCHEDULE_MS,
  random: () => number = Math.random,
): RetryDecision {
  if (schedule.length === 0) throw new Error('retry schedule is empty');
  const base = schedule[Math.min(Math.max(attempts, 1), schedule.length) - 1]!;
  const at = now + Math.round(base * (0.9 + 0.2 * random()));
  if (at > createdAt + lifetimeMs) return now >= createdAt + lifetimeMs ? { kind: 'expired' } : { kind: 'retry', at: createdAt + lifetimeMs };
  return { kind: 'retry', at };
}
