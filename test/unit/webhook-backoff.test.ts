import { describe, expect, it } from 'vitest';
import { nextAttemptAt, shouldDisableEndpoint, WEBHOOK_DISABLE_AFTER_FAILING_MS, WEBHOOK_RETRY_SCHEDULE_MS } from '../../src/net/backoff.js';

const HOUR = 3_600_000;
const mid = () => 0.5;

describe('webhook retry schedule', () => {
  it('is the documented table: 10 s, 1, 5, 15, 30 min, 1, 2, 4, 8 h, then 12 h', () => {
    expect(WEBHOOK_RETRY_SCHEDULE_MS.map((ms) => ms / 1000)).toEqual([10, 60, 300, 900, 1800, 3600, 7200, 14400, 28800, 43200, 43200, 43200, 43200, 43200]);
  });

  it('spans more than 72 hours, and the last wait starts before 72 h (no wait is wasted)', () => {
    const total = WEBHOOK_RETRY_SCHEDULE_MS.reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(72 * HOUR);
    expect(total - WEBHOOK_RETRY_SCHEDULE_MS.at(-1)!).toBeLessThan(72 * HOUR);
  });

  it('walks the table, then gives up with null', () => {
    const now = 1_000_000;
    for (const [i, wait] of WEBHOOK_RETRY_SCHEDULE_MS.entries()) expect(nextAttemptAt(i + 1, now, mid)).toBe(now + wait);
    expect(nextAttemptAt(WEBHOOK_RETRY_SCHEDULE_MS.length + 1, now, mid)).toBeNull();
    expect(nextAttemptAt(1000, now, mid)).toBeNull();
  });

  it('jitters within ±10 %', () => {
    expect(nextAttemptAt(1, 0, () => 0)).toBe(9_000);
    expect(nextAttemptAt(1, 0, () => 0.999999)).toBe(11_000);
    expect(nextAttemptAt(10, 0, () => 0)).toBe(0.9 * 12 * HOUR);
  });

  it('refuses a nonsensical attempt count instead of retrying at once', () => {
    for (const bad of [0, -1, 1.5, Number.NaN]) expect(() => nextAttemptAt(bad, 0)).toThrow(/attempts/);
  });
});

describe('disabling an endpoint', () => {
  const start = 5_000_000;
  it('after 72 h of nothing but failures', () => {
    expect(WEBHOOK_DISABLE_AFTER_FAILING_MS).toBe(72 * HOUR);
    expect(shouldDisableEndpoint({ failingSince: start, now: start + 72 * HOUR - 1, status: 500 })).toBe(false);
    expect(shouldDisableEndpoint({ failingSince: start, now: start + 72 * HOUR, status: 500 })).toBe(true);
    expect(shouldDisableEndpoint({ failingSince: start, now: start + 80 * HOUR })).toBe(true);
  });

  it('never when the last attempt succeeded (no failing streak)', () => {
    expect(shouldDisableEndpoint({ failingSince: null, now: start + 1000 * HOUR })).toBe(false);
  });

  it('at once on 410 Gone', () => {
    expect(shouldDisableEndpoint({ failingSince: start, now: start, status: 410 })).toBe(true);
    expect(shouldDisableEndpoint({ failingSince: null, now: start, status: 410 })).toBe(true);
  });
});
