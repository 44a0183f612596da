/**
 * Buckets of a statistics answer (hour, day or month in a time zone), planned as a pure function
 * from the range's whole UTC hours. Rollups are hourly, so a bucket is a set of whole hours: an
 * hour counts in the bucket in which it starts, local time. In a zone whose offset is not a whole
 * number of hours (India, +05:30), a local day therefore runs from 00:30 to 00:30.
 */
import { HOUR_MS } from '../core/report-metrics.js';
import { ceilHour, DAY_MS, localToUtc, offsetIn, offsetSegments, type Zone } from './time-zone.js';
import type { RollupGrouping } from '../store/reports.js';

export type BucketSize = 'hour' | 'day' | 'month';
export const BUCKET_SIZES: readonly BucketSize[] = ['hour', 'day', 'month'];

/**
 * Most buckets one answer may have: 1,000 is 41 days of hours, 2.7 years of days or 83 years of
 * months. The work of a query and the size of its answer grow with the bucket count; a wider
 * range asks for a bigger bucket.
 */
export const MAX_STATISTICS_BUCKETS = 1_000;

export interface Bucket {
  /** The bucket's natural start (local midnight, first of the month, the hour), as a UTC instant. */
  start: number;
  /** Local label: `2026-01-31T13:00` (hour), `2026-01-31` (day), `2026-01` (month). */
  label: string;
  /** The whole UTC hours of the range that fall in this bucket: [firstHour, endHour). */
  firstHour: number;
  endHour: number;
}

export interface BucketPlan {
  buckets: Bucket[];
  /** How SQL groups the hours (readRollups), and how its group keys map to buckets. */
  grouping: RollupGrouping;
  indexOfKey: Map<number, number>;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const dayLabel = (dayKey: number) => new Date(dayKey * DAY_MS).toISOString().slice(0, 10);
const monthOf = (dayKey: number) => {
  const d = new Date(dayKey * DAY_MS);
  return d.getUTCFullYear() * 12 + d.getUTCMonth();
};
const monthLabel = (m: number) => `${Math.floor(m / 12)}-${pad((m % 12) + 1)}`;

/** How many buckets [fromHour, toHour) spans, from its two ends only (checked before anything is planned). */
export function bucketCount(fromHour: number, toHour: number, size: BucketSize, zone: Zone): number {
  if (toHour <= fromHour) return 0;
  if (size === 'hour') return (toHour - fromHour) / HOUR_MS;
  const lastHour = toHour - HOUR_MS;
  const firstDay = Math.floor((fromHour + zone.offsetAt(fromHour)) / DAY_MS);
  const lastDay = Math.floor((lastHour + zone.offsetAt(lastHour)) / DAY_MS);
  return size === 'day' ? lastDay - firstDay + 1 : monthOf(lastDay) - monthOf(firstDay) + 1;
}

/** Plans the buckets of [fromHour, toHour) (whole UTC hours); call bucketCount first to bound the work. */
export function planBuckets(fromHour: number, toHour: number, size: BucketSize, zone: Zone): BucketPlan {
  const buckets: Bucket[] = [];
  const indexOfKey = new Map<number, number>();
  if (toHour <= fromHour) return { buckets, grouping: { by: 'hour' }, indexOfKey };
  const segments = offsetSegments(zone, fromHour, toHour);
  if (size === 'hour') {
    for (let h = fromHour; h < toHour; h += HOUR_MS) {
      const local = new Date(h + offsetIn(segments, h)).toISOString().slice(0, 16);
      indexOfKey.set(h, buckets.length);
      buckets.push({ start: h, label: local, firstHour: h, endHour: h + HOUR_MS });
    }
    return { buckets, grouping: { by: 'hour' }, indexOfKey };
  }
  const dayOf = (h: number) => Math.floor((h + offsetIn(segments, h)) / DAY_MS);
  const firstDay = dayOf(fromHour);
  const lastDay = dayOf(toHour - HOUR_MS);
  // The first whole hour of a local day: its midnight (a UTC instant), rounded up to the hour.
  const dayStartHour = (day: number) => Math.min(Math.max(ceilHour(localToUtc(zone, day * DAY_MS)), fromHour), toHour);
  for (let day = firstDay; day <= lastDay; day++) {
    if (size === 'day') {
      indexOfKey.set(day, buckets.length);
      buckets.push({ start: localToUtc(zone, day * DAY_MS), label: dayLabel(day), firstHour: dayStartHour(day), endHour: dayStartHour(day + 1) });
      continue;
    }
    const month = monthOf(day);
    const last = buckets.at(-1);
    if (!last || last.label !== monthLabel(month)) {
      const firstOfMonth = Date.UTC(Math.floor(month / 12), month % 12, 1) / DAY_MS;
      if (last) last.endHour = dayStartHour(day);
      buckets.push({ start: localToUtc(zone, firstOfMonth * DAY_MS), label: monthLabel(month), firstHour: dayStartHour(day), endHour: toHour });
    }
    indexOfKey.set(day, buckets.length - 1);
  }
  if (size === 'day') buckets.at(-1)!.endHour = toHour;
  return { buckets, grouping: { by: 'day', offsets: segments }, indexOfKey };
}
