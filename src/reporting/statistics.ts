/**
 * Statistics from the rollups: the counts of each bucket (read a chunk of buckets at a time, so
 * a CSV streams without holding the answer), the totals, and the rates. Metric and rate
 * definitions are in docs/reporting.md.
 */
import type { Store } from '../store/store.js';
import type { RollupRow } from '../store/reports.js';
import { STORED_METRICS, type Dim, type StoredMetric } from '../core/report-metrics.js';
import type { Bucket, BucketPlan } from './buckets.js';

/** The counts an answer shows, in CSV column order: stored counters and the sums made of them. */
export const WIRE_METRICS = [
  'queued',
  'delivered',
  'deferred',
  'failed',
  'failedTemporary',
  'failedPermanent',
  'suppressed',
  'failedCode1xxx',
  'failedCode2xxx',
  'failedCode3xxx',
  'failedCode4xxx',
  'failedCode5xxx',
  'failedCode9xxx',
  'failedCodeOther',
  'complaints',
  'opens',
  'opensHuman',
  'opensMachine',
  'uniqueOpens',
  'uniqueOpensHuman',
  'clicks',
  'clicksHuman',
  'clicksMachine',
  'uniqueClicks',
  'uniqueClicksHuman',
  'unsubscribes',
] as const;
export type WireMetric = (typeof WIRE_METRICS)[number];
export type Counts = Record<WireMetric, number>;

/** Sums of stored counters. */
const SUMS: Partial<Record<WireMetric, readonly StoredMetric[]>> = {
  failed: ['failedTemporary', 'failedPermanent', 'suppressed'],
  opens: ['opensHuman', 'opensMachine'],
  clicks: ['clicksHuman', 'clicksMachine'],
};

export const emptyCounts = (): Counts => Object.fromEntries(WIRE_METRICS.map((m) => [m, 0])) as Counts;

function finish(c: Counts): Counts {
  for (const [metric, parts] of Object.entries(SUMS) as [WireMetric, StoredMetric[]][]) c[metric] = parts.reduce((s, p) => s + c[p], 0);
  return c;
}

export interface Rates {
  delivery: number | null;
  bounce: number | null;
  complaint: number | null;
  open: number | null;
  click: number | null;
}

const ratio = (a: number, b: number): number | null => (b === 0 ? null : Math.round((a / b) * 1e6) / 1e6);

/**
 * Rates as fractions (0.25 = 25 %), null when their denominator is 0. "Attempted" is delivered
 * plus failed without the suppressed (those were never sent): delivery + bounce = 1 unless an
 * asynchronous bounce came after a 250 (then the recipient counts in both).
 */
export function ratesOf(c: Counts): Rates {
  const attempted = c.delivered + c.failedTemporary + c.failedPermanent;
  return {
    delivery: ratio(c.delivered, attempted),
    bounce: ratio(c.failedTemporary + c.failedPermanent, attempted),
    complaint: ratio(c.complaints, c.delivered),
    open: ratio(c.uniqueOpensHuman, c.delivered),
    click: ratio(c.uniqueClicksHuman, c.delivered),
  };
}

export function addCounts(into: Counts, c: Counts): void {
  for (const m of WIRE_METRICS) into[m] += c[m];
}

export interface BucketCounts {
  bucket: Bucket;
  counts: Counts;
}

/** Buckets per rollup read while streaming: bounds the rows of one query and the memory of a CSV. */
export const STATISTICS_CHUNK_BUCKETS = 250;

/**
 * The buckets of a plan with their counts, `chunk` buckets per store read, in order. Empty
 * buckets are included (all zero), so a series has no gaps.
 */
export async function* bucketCounts(
  store: Store,
  serverId: number | { accountId: number },
  filter: { dim: Dim; value: string },
  plan: BucketPlan,
  chunk = STATISTICS_CHUNK_BUCKETS,
): AsyncGenerator<BucketCounts[]> {
  const { buckets } = plan;
  for (let i = 0; i < buckets.length; i += chunk) {
    const part = buckets.slice(i, i + chunk);
    const out = part.map((bucket) => ({ bucket, counts: emptyCounts() }));
    const fromHour = part[0]!.firstHour;
    const toHour = part.at(-1)!.endHour;
    const rows: RollupRow[] =
      toHour > fromHour
        ? await store.reports.readRollups({ serverId, dim: filter.dim, dimValue: filter.value, fromHour, toHour, grouping: plan.grouping })
        : [];
    for (const r of rows) {
      const index = plan.indexOfKey.get(r.key);
      if (index === undefined) continue; // cannot happen: the range is the plan's
      const target = out[index - i];
      if (!target) continue;
      for (const m of STORED_METRICS) target.counts[m] += r.counts[m];
    }
    for (const b of out) finish(b.counts);
    yield out;
  }
}
