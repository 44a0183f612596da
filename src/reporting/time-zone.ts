/**
 * Time zones and dates of the statistics API, as pure functions: a zone is an IANA name
 * (`Europe/Paris`), `UTC`, or a fixed offset (`+05:30`, `-0800`); dates are `YYYY-MM-DD` (a
 * local day in the zone) or ISO-8601 date-times (with `Z` or an offset; without one, local time
 * in the zone).
 */
import { HOUR_MS } from '../core/report-metrics.js';

export const DAY_MS = 86_400_000;

export interface Zone {
  name: string;
  /** Local time minus UTC at this instant, in ms (e.g. +3,600,000 in Paris in winter). */
  offsetAt(utcMs: number): number;
  /** True when the offset never changes (UTC, a fixed offset). */
  fixed: boolean;
}

const FIXED = /^([+-])(\d{2}):?(\d{2})$/;

/** The zone a `timeZone` parameter names, or null when it names none. */
export function parseZone(raw: string | undefined): Zone | null {
  if (raw === undefined || raw === '' || /^(utc|z|gmt)$/i.test(raw)) return { name: 'UTC', offsetAt: () => 0, fixed: true };
  const m = FIXED.exec(raw);
  if (m) {
    const hours = Number(m[2]);
    const minutes = Number(m[3]);
    if (hours > 14 || minutes > 59) return null;
    const offset = (m[1] === '-' ? -1 : 1) * (hours * HOUR_MS + minutes * 60_000);
    return { name: raw, offsetAt: () => offset, fixed: true };
  }
  let fmt: Intl.DateTimeFormat;
  try {
    fmt = new Intl.DateTimeFormat('en-US', {
      timeZone: raw,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
  } catch {
    return null; // RangeError: not a time zone this runtime knows
  }
  const offsetAt = (utcMs: number): number => {
    const p: Record<string, number> = {};
    for (const part of fmt.formatToParts(new Date(utcMs))) if (part.type !== 'literal') p[part.type] = Number(part.value);
    const local = Date.UTC(p.year!, p.month! - 1, p.day!, p.hour!, p.minute!, p.second!);
    return local - Math.floor(utcMs / 1000) * 1000;
  };
  return { name: fmt.resolvedOptions().timeZone, offsetAt, fixed: false };
}

/** The UTC instant of a local wall-clock time in the zone (a time skipped by a DST change moves forward). */
export function localToUtc(zone: Zone, localMs: number): number {
  const first = localMs - zone.offsetAt(localMs);
  const second = localMs - zone.offsetAt(first);
  return second;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,3}))?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * A `startDate`/`endDate` parameter as a UTC instant, or null when it is not a real date.
 * A plain date means the start of that local day; `endOfDay` (endDate) makes it the start of the next,
 * so `endDate=2026-01-31` includes all of the 31st.
 */
export function parseDateParam(raw: string, zone: Zone, endOfDay: boolean): number | null {
  let m = DATE.exec(raw);
  if (m) {
    const local = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
    if (new Date(local).toISOString().slice(0, 10) !== raw) return null; // 2026-02-30
    return localToUtc(zone, local + (endOfDay ? DAY_MS : 0));
  }
  m = DATE_TIME.exec(raw);
  if (!m) return null;
  const [, y, mo, d, h, mi, s = '0', frac = '0', tz] = m;
  const local = Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(frac.padEnd(3, '0')));
  const back = new Date(local);
  if (back.getUTCDate() !== Number(d) || back.getUTCMonth() !== Number(mo) - 1 || Number(h) > 23 || Number(mi) > 59 || Number(s) > 59) return null;
  if (tz === undefined) return localToUtc(zone, local);
  if (tz === 'Z') return local;
  const off = FIXED.exec(tz)!;
  return local - (off[1] === '-' ? -1 : 1) * (Number(off[2]) * HOUR_MS + Number(off[3]) * 60_000);
}

/** The first whole UTC hour at or after `ms`: an hour belongs to a range when its start lies in it. */
export const ceilHour = (ms: number): number => Math.ceil(ms / HOUR_MS) * HOUR_MS;

/** Days between offset samples: zones change offset months apart, never twice in a week. */
const SAMPLE_STEP_MS = 7 * DAY_MS;

/**
 * The zone's offsets over whole hours [from, to): the offset in force from each `from` on (the
 * first from `from`). An hour takes the offset in force at its start.
 */
export function offsetSegments(zone: Zone, from: number, to: number): { from: number; offsetMs: number }[] {
  const out = [{ from, offsetMs: zone.offsetAt(from) }];
  if (zone.fixed || to - from <= HOUR_MS) return out;
  const last = to - HOUR_MS; // the start of the last hour
  let prev = from;
  let prevOffset = out[0]!.offsetMs;
  for (let t = Math.min(from + SAMPLE_STEP_MS, last); ; t = Math.min(t + SAMPLE_STEP_MS, last)) {
    const o = zone.offsetAt(t);
    if (o !== prevOffset) {
      // Bisection over whole hours: offset(lo) is the old one, offset(hi) the new.
      let lo = prev;
      let hi = t;
      while (hi - lo > HOUR_MS) {
        const mid = lo + Math.floor((hi - lo) / 2 / HOUR_MS) * HOUR_MS;
        if (zone.offsetAt(mid) === prevOffset) lo = mid;
        else hi = mid;
      }
      out.push({ from: hi, offsetMs: o });
      prevOffset = o;
    }
    prev = t;
    if (t === last) return out;
  }
}

/** The offset in force at `ms` among segments from offsetSegments. */
export function offsetIn(segments: readonly { from: number; offsetMs: number }[], ms: number): number {
  let o = segments[0]!.offsetMs;
  for (const s of segments) {
    if (s.from <= ms) o = s.offsetMs;
    else break;
  }
  return o;
}
