/**
 * When to try a webhook again, and when to stop trying. Pure: the dispatcher stores the attempt
 * count and the time an endpoint started failing; these functions only do the arithmetic.
 */

const SECOND = 1_000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;

/**
 * The wait before attempt n+1 after n failed attempts of one event to one endpoint. Quick at first
 * (a receiver restarting or a deploy in progress clears within minutes), then every 12 hours so a
 * receiver that is down over a long weekend still gets the event: the waits add up to 75 h 51 min,
 * past the 72 h a message itself may spend in the delivery queue by default
 * (POSTLINE_MESSAGE_LIFETIME_HOURS). 15 attempts in all.
 */
export const WEBHOOK_RETRY_SCHEDULE_MS: readonly number[] = [
  10 * SECOND,
  MINUTE,
  5 * MINUTE,
  15 * MINUTE,
  30 * MINUTE,
  HOUR,
  2 * HOUR,
  4 * HOUR,
  8 * HOUR,
  12 * HOUR,
  12 * HOUR,
  12 * HOUR,
  12 * HOUR,
  12 * HOUR,
];

/**
 * An endpoint whose every attempt has failed for this long (no 2xx since its first failure of the
 * streak) is disabled: by then even the first event of the streak has used its whole schedule,
 * so the receiver is gone, not hiccuping. Also disabled at once by a 410 Gone, which Standard
 * Webhooks defines as "stop sending".
 */
export const WEBHOOK_DISABLE_AFTER_FAILING_MS = 72 * HOUR;

/** ±10 % spreads the retries of a burst of events failed together, so they do not all return at once. */
const JITTER = 0.1;

/**
 * When to try one event again after `attempts` failed attempts (1 after the first failure), or
 * null once the schedule is used up: the event is then given up on for this endpoint. `schedule`
 * replaces the production table in tests.
 */
export function nextAttemptAt(
  attempts: number,
  now: number,
  random: () => number = Math.random,
  schedule: readonly number[] = WEBHOOK_RETRY_SCHEDULE_MS,
): number | null {
  if (!Number.isInteger(attempts) || attempts < 1) throw new Error(`attempts must be an integer >= 1, got ${attempts}`);
  const wait = schedule[attempts - 1];
  if (wait === undefined) return null;
  return now + Math.round(wait * (1 - JITTER + 2 * JITTER * random()));
}

/**
 * Whether an endpoint should be disabled after a failed attempt. `failingSince` is when its
 * current streak of failures began (null if its last attempt succeeded); `status` is the HTTP
 * status of the failed attempt, if one came back. `disableAfterMs` replaces the 72 h in tests.
 */
export function shouldDisableEndpoint(failure: { failingSince: number | null; now: number; status?: number; disableAfterMs?: number }): boolean {
  if (failure.status === 410) return true;
  return failure.failingSince !== null && failure.now - failure.failingSince >= (failure.disableAfterMs ?? WEBHOOK_DISABLE_AFTER_FAILING_MS);
}
