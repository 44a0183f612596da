/**
 * The Overview page's calls: statistics of the account (`/account/reports/statistics`) or of one
 * server (`/servers/{id}/reports/statistics`), and the queue now (`/account/queue`,
 * `/servers/{id}/queue`). docs/reporting.md describes the metrics and rates.
 */
import { call, seg } from '../api.js';

/** The counts the Overview shows (the API answers more: docs/reporting.md). */
export interface Counts {
  queued: number;
  delivered: number;
  deferred: number;
  failed: number;
  complaints: number;
  opens: number;
  clicks: number;
  unsubscribes: number;
}

export interface StatBucket extends Counts {
  /** UTC instant of the bucket's start. */
  start: string;
  /** Local label: `2026-01-31T13:00` (hour) or `2026-01-31` (day). */
  label: string;
}

/** Fractions (0.25 = 25 %), null when there is nothing to divide by. */
export interface Rates {
  delivery: number | null;
  bounce: number | null;
  complaint: number | null;
  open: number | null;
  click: number | null;
}

export interface Statistics {
  startDate: string;
  endDate: string;
  bucket: 'hour' | 'day' | 'month';
  timeZone: string;
  totals: Counts;
  rates: Rates;
  buckets: StatBucket[];
}

export interface QueueNow {
  queued: number;
  deferred: number;
  delivering: number;
  total: number;
}

export interface StatisticsRange {
  startDate: string;
  endDate: string;
  bucket: 'hour' | 'day';
  timeZone: string;
}

/** null: the whole account; a number: that server. */
export type Scope = number | null;

const base = (scope: Scope) => (scope === null ? '/api/v2/account' : `/api/v2/servers/${seg(scope)}`);

export async function statistics(scope: Scope, range: StatisticsRange): Promise<Statistics> {
  const q = new URLSearchParams({ ...range });
  return (await call<{ data: Statistics }>('GET', `${base(scope)}/reports/statistics?${q}`)).data;
}

export async function queueNow(scope: Scope): Promise<QueueNow> {
  return (await call<{ data: QueueNow }>('GET', `${base(scope)}/queue`)).data;
}
