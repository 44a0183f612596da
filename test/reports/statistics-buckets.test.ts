import { describe, expect, it } from 'vitest';
import { bucketCount, planBuckets } from '../../src/reporting/buckets.js';
import { ceilHour, offsetSegments, parseDateParam, parseZone } from '../../src/reporting/time-zone.js';
import { columnOf, countsOf, dimsOf, failureCodeFamily, STORED_METRICS } from '../../src/core/report-metrics.js';
import { SQLITE_MIGRATIONS } from '../../src/store/sqlite/migrations.js';
import { POSTGRES_MIGRATIONS } from '../../src/store/postgres/migrations.js';

/** The pure parts of reporting: time zones, dates, buckets, and what an event counts for. */
const H = 3_600_000;
const utc = (s: string) => Date.parse(s);

describe('time zones and dates', () => {
  it('parses IANA names, UTC and fixed offsets; refuses the rest', () => {
    expect(parseZone(undefined)!.offsetAt(0)).toBe(0);
    expect(parseZone('+05:30')!.offsetAt(0)).toBe(5.5 * H);
    expect(parseZone('-0800')!.offsetAt(0)).toBe(-8 * H);
    const paris = parseZone('Europe/Paris')!;
    expect(paris.offsetAt(utc('2026-01-15T12:00:00Z'))).toBe(H);
    expect(paris.offsetAt(utc('2026-07-15T12:00:00Z'))).toBe(2 * H);
    for (const bad of ['Mars/Olympus', '+25:00', 'CEST+', '5']) expect(parseZone(bad), bad).toBeNull();
  });

  it('reads dates as local days (endDate through the end of its day) and date-times with or without an offset', () => {
    const ny = parseZone('America/New_York')!;
    expect(parseDateParam('2026-01-31', ny, false)).toBe(utc('2026-01-31T05:00:00Z'));
    expect(parseDateParam('2026-01-31', ny, true)).toBe(utc('2026-02-01T05:00:00Z'));
    expect(parseDateParam('2026-01-31T13:00:00Z', ny, true)).toBe(utc('2026-01-31T13:00:00Z'));
    expect(parseDateParam('2026-01-31T13:00:00+01:00', ny, false)).toBe(utc('2026-01-31T12:00:00Z'));
    expect(parseDateParam('2026-01-31T13:00', ny, false)).toBe(utc('2026-01-31T18:00:00Z'));
    for (const bad of ['2026-02-30', '2026-13-01', '31/01/2026', '2026-01-31T25:00:00Z', 'now']) expect(parseDateParam(bad, ny, false), bad).toBeNull();
  });

  it('finds daylight-saving changes to the hour', () => {
    const paris = parseZone('Europe/Paris')!;
    const segs = offsetSegments(paris, utc('2026-01-01T00:00:00Z'), utc('2027-01-01T00:00:00Z'));
    expect(segs).toEqual([
      { from: utc('2026-01-01T00:00:00Z'), offsetMs: H },
      { from: utc('2026-03-29T01:00:00Z'), offsetMs: 2 * H },
      { from: utc('2026-10-25T01:00:00Z'), offsetMs: H },
    ]);
  });
});

describe('buckets', () => {
  it('days in a zone with daylight saving: 23- and 25-hour days, every hour in exactly one bucket', () => {
    const paris = parseZone('Europe/Paris')!;
    const from = ceilHour(parseDateParam('2026-03-28', paris, false)!);
    const to = ceilHour(parseDateParam('2026-03-30', paris, true)!);
    const plan = planBuckets(from, to, 'day', paris);
    expect(plan.buckets.map((b) => [b.label, (b.endHour - b.firstHour) / H])).toEqual([
      ['2026-03-28', 24],
      ['2026-03-29', 23],
      ['2026-03-30', 24],
    ]);
    expect(plan.buckets[0]!.firstHour).toBe(from);
    expect(plan.buckets.at(-1)!.endHour).toBe(to);
    expect(bucketCount(from, to, 'day', paris)).toBe(3);
  });

  it('a half-hour zone: local days run 00:30 to 00:30 in whole UTC hours', () => {
    const india = parseZone('Asia/Kolkata')!;
    const from = ceilHour(parseDateParam('2026-01-01', india, false)!);
    expect(new Date(from).toISOString()).toBe('2025-12-31T19:00:00.000Z');
    const plan = planBuckets(from, from + 48 * H, 'day', india);
    expect(plan.buckets.map((b) => b.label)).toEqual(['2026-01-01', '2026-01-02']);
    expect(planBuckets(from, from + 2 * H, 'hour', india).buckets.map((b) => b.label)).toEqual(['2026-01-01T00:30', '2026-01-01T01:30']);
  });

  it('months: partial first and last months, day keys mapped to their month', () => {
    const z = parseZone('UTC')!;
    const from = utc('2026-01-15T00:00:00Z');
    const to = utc('2026-03-02T00:00:00Z');
    const plan = planBuckets(from, to, 'month', z);
    expect(plan.buckets.map((b) => [b.label, new Date(b.firstHour).toISOString().slice(0, 10), new Date(b.endHour).toISOString().slice(0, 10)])).toEqual([
      ['2026-01', '2026-01-15', '2026-02-01'],
      ['2026-02', '2026-02-01', '2026-03-01'],
      ['2026-03', '2026-03-01', '2026-03-02'],
    ]);
    expect(plan.indexOfKey.get(utc('2026-02-10T00:00:00Z') / 86_400_000)).toBe(1);
    expect(bucketCount(utc('2020-01-01T00:00:00Z'), utc('2026-01-01T00:00:00Z'), 'month', z)).toBe(72);
  });
});

describe('what an event counts for', () => {
  it('Failed by FailureType and code family; Tracking by kind and machine; others by type', () => {
    expect(countsOf('Failed', { FailureType: 2, FailureCode: 9999 }).metrics).toEqual(['suppressed', 'failedCode9xxx']);
    expect(countsOf('Failed', { FailureType: 1, FailureCode: 2001 }).metrics).toEqual(['failedPermanent', 'failedCode2xxx']);
    expect(countsOf('Failed', { FailureType: 0, FailureCode: 4004 }).metrics).toEqual(['failedTemporary', 'failedCode4xxx']);
    expect([failureCodeFamily(null), failureCodeFamily(7001), failureCodeFamily(999)]).toEqual(['failedCodeOther', 'failedCodeOther', 'failedCodeOther']);
    expect(countsOf('Tracking', { TrackingType: 1, Machine: true })).toEqual({ metrics: ['opensMachine'], first: { kind: 'open', human: false } });
    expect(countsOf('Tracking', { TrackingType: 0, Machine: false })).toEqual({ metrics: ['clicksHuman'], first: { kind: 'click', human: true } });
    expect(countsOf('Tracking', { TrackingType: 2 })).toEqual({ metrics: ['unsubscribes'], first: null });
    expect(countsOf('Validation', null).metrics).toEqual([]);
  });

  it('dimensions: all mail, mailing, distinct tags and metadata pairs, lower-cased domains', () => {
    const dims = dimsOf({
      message: { tags: ['a', 'a', 'b'], metadata: [{ key: 'k', value: 'v' }], fromAddress: 'x@Brand.Example' },
      mailingId: 'm1',
      rcptDomain: 'Gmail.com',
    });
    expect(dims.map(([d, v]) => `${d}:${v}`)).toEqual([':', 'mailing:m1', 'tag:a', 'tag:b', 'meta:k=v', 'from_domain:brand.example', 'rcpt_domain:gmail.com']);
  });

  it('every stored metric has its column in migration 12, on both dialects', () => {
    for (const migrations of [SQLITE_MIGRATIONS, POSTGRES_MIGRATIONS]) {
      const m12 = migrations.find((m) => m.id === 12)!.sql;
      for (const metric of STORED_METRICS) expect(m12, metric).toMatch(new RegExp(`\\b${columnOf(metric)} (INTEGER|BIGINT) NOT NULL DEFAULT 0`));
    }
  });
});
