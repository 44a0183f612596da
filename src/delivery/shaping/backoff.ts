import type { SlowDownSettings } from './shaping-config.js';

/**
 * How long a provider is suspended for a sending IP after a slow-down reply. The first time:
 * `initialMs`. Asked again within a calm period of the last release: twice the last, up to
 * `maxMs` (the provider is still unhappy; coming back as fast would only earn another refusal).
 * Each full calm period since the last release halves it again, so an IP that behaved for a few
 * hours starts over at `initialMs`.
 */
export interface BackoffHistory {
  /** 0 for initialMs, 1 for twice that, ... */
  level: number;
  /** When the last suspension ended. */
  releasedAt: number;
}

/** The level of a new suspension at `now`, given the history of the (provider, IP), if any. */
export function nextLevel(history: BackoffHistory | null, now: number, s: Pick<SlowDownSettings, 'calmMs' | 'initialMs' | 'maxMs'>): number {
  if (!history) return 0;
  const calmPeriods = Math.max(0, Math.floor((now - history.releasedAt) / s.calmMs));
  const level = calmPeriods === 0 ? history.level + 1 : history.level - calmPeriods;
  return Math.min(Math.max(0, level), maxLevel(s));
}

export function backoffMs(level: number, s: Pick<SlowDownSettings, 'initialMs' | 'maxMs'>): number {
  return Math.min(s.initialMs * 2 ** level, s.maxMs);
}

/** The level at which the suspension reaches maxMs: higher levels mean nothing more. */
function maxLevel(s: Pick<SlowDownSettings, 'initialMs' | 'maxMs'>): number {
  return Math.max(0, Math.ceil(Math.log2(s.maxMs / s.initialMs)));
}
