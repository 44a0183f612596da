/**
 * The legacy v1 API's query parameters, read as SocketLabs' clients send them: names in any case
 * (`serverid`, `serverId`), an empty value the same as none (SocketLabs' Node sample sends every
 * optional parameter, empty), parameters of other methods ignored (old clients send
 * `disposition`, `sortDirection`, `getTotals`). Every check here is pure; a refusal is a V1Error
 * naming the parameter.
 */
import { V1Error } from './v1-error.js';

export const V1_FORMATS = ['json', 'jsonp', 'xml', 'csv'] as const;
export type V1Format = (typeof V1_FORMATS)[number];

/** SocketLabs' documented maximum (and default) of records per call. */
export const MAX_V1_COUNT = 500;
/** Beyond this an index asks for rows no server keeps; refusing it keeps OFFSET bounded. */
const MAX_V1_INDEX = 1_000_000_000;
/** A timeZone further than a day from UTC is not an offset of any zone. */
const MAX_TIME_ZONE_MINUTES = 1_440;
/** A JSONP callback is a dotted JavaScript name, nothing that could run as code of its own. */
const CALLBACK = /^[A-Za-z_$][\w$]{0,63}(\.[A-Za-z_$][\w$]{0,63}){0,7}$/;
/** yyyy-mm-dd, optionally followed by hh:mm or hh:mm:ss (a space or a T between). */
const DATE = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/;

/** The query with lower-cased names and empty values dropped; a name given twice is refused. */
export function queryParams(query: unknown): Map<string, string> {
  const out = new Map<string, string>();
  for (const [name, value] of Object.entries((query ?? {}) as Record<string, unknown>)) {
    const key = name.toLowerCase();
    if (Array.isArray(value) || out.has(key)) throw new V1Error('InvalidParameter', `${name} is given more than once`, name);
    if (typeof value === 'string' && value.trim() !== '') out.set(key, value.trim());
  }
  return out;
}

/** `type`, in any case; JSON when absent. */
export function formatOf(p: Map<string, string>): V1Format {
  const raw = p.get('type');
  if (raw === undefined) return 'json';
  const f = raw.toLowerCase() as V1Format;
  if (!V1_FORMATS.includes(f)) throw new V1Error('InvalidParameter', `type must be one of JSON, JSONP, XML, CSV (got "${raw}")`, 'type');
  return f;
}

export type Output = { format: Exclude<V1Format, 'jsonp'> } | { format: 'jsonp'; callback: string };

/** The response format with its JSONP callback, which must be present and a plain name. */
export function outputOf(p: Map<string, string>): Output {
  const format = formatOf(p);
  if (format !== 'jsonp') return { format };
  const callback = p.get('callback');
  if (callback === undefined) throw new V1Error('InvalidParameter', 'type=JSONP needs a callback parameter (a JavaScript function name)', 'callback');
  if (!CALLBACK.test(callback))
    throw new V1Error('InvalidParameter', 'callback must be a JavaScript function name (letters, digits, _ and $, dotted)', 'callback');
  return { format, callback };
}

/** The format an error is answered in: the requested one where it can be used, JSON otherwise. */
export function requestedFormat(query: unknown): Output {
  try {
    const o = outputOf(queryParams(query));
    return o.format === 'csv' ? { format: 'json' } : o;
  } catch {
    return { format: 'json' };
  }
}

/** The server a request names: `serverId`, or `accountId` as SocketLabs' oldest clients call it. */
export function serverParam(p: Map<string, string>): { serverId: number; name: 'serverId' | 'accountId' } {
  const name = p.has('serverid') ? 'serverId' : p.has('accountid') ? 'accountId' : null;
  if (name === null) throw new V1Error('InvalidParameter', 'serverId is required', 'serverId');
  const raw = p.get(name.toLowerCase())!;
  if (!/^[1-9]\d{0,14}$/.test(raw)) throw new V1Error('InvalidParameter', `${name} must be a ServerId (a positive whole number), got "${raw}"`, name);
  return { serverId: Number(raw), name };
}

function wholeNumber(p: Map<string, string>, name: string, fallback: number, max: number, why: string): number {
  const raw = p.get(name.toLowerCase());
  if (raw === undefined) return fallback;
  if (!/^\d{1,10}$/.test(raw)) throw new V1Error('InvalidParameter', `${name} must be a whole number of 0 or more, got "${raw}"`, name);
  const n = Number(raw);
  if (n > max) throw new V1Error('InvalidParameter', `${name} must be at most ${max}${why}, got ${n}`, name);
  return n;
}

export interface Page {
  count: number;
  index: number;
}

/** `count` (0-500, default 500) and `index` (0-based, default 0). */
export function pageOf(p: Map<string, string>): Page {
  return {
    count: wholeNumber(p, 'count', MAX_V1_COUNT, MAX_V1_COUNT, ' (page through more with index)'),
    index: wholeNumber(p, 'index', 0, MAX_V1_INDEX, ''),
  };
}

/** `timeZone`: minutes to add to UTC for the caller's local time (-360 is UTC-6); 0 when absent. */
export function timeZoneOf(p: Map<string, string>): number {
  const raw = p.get('timezone');
  if (raw === undefined) return 0;
  if (!/^[+-]?\d{1,4}$/.test(raw) || Math.abs(Number(raw)) > MAX_TIME_ZONE_MINUTES) {
    throw new V1Error(
      'InvalidParameter',
      `timeZone must be an offset from UTC in minutes between -${MAX_TIME_ZONE_MINUTES} and ${MAX_TIME_ZONE_MINUTES} (e.g. -360), got "${raw}"`,
      'timeZone',
    );
  }
  return Number(raw);
}

/** A `yyyy-mm-dd hh:mm:ss` date (time 00:00:00 when left out) in the caller's zone, as epoch ms. */
export function parseV1Date(raw: string, name: string, timeZoneMinutes: number): number {
  const m = DATE.exec(raw);
  const [y, mo, d, h, mi, s] = m ? (m.slice(1).map((v) => (v === undefined ? 0 : Number(v))) as [number, number, number, number, number, number]) : [];
  const local = m ? Date.UTC(y!, mo! - 1, d!, h!, mi!, s!) : NaN;
  const back = new Date(local);
  if (!m || h! > 23 || mi! > 59 || s! > 59 || back.getUTCFullYear() !== y || back.getUTCMonth() !== mo! - 1 || back.getUTCDate() !== d) {
    throw new V1Error('InvalidParameter', `${name} must be a date as yyyy-mm-dd hh:mm:ss (the time may be left out), got "${raw}"`, name);
  }
  return local - timeZoneMinutes * 60_000;
}

export interface Range {
  startTime?: number;
  endTime?: number;
}

/**
 * `startDate` and `endDate` in the caller's zone. Both are included: the range ends after the
 * endDate's second (a client asking for `… 23:59:59` means the whole day).
 */
export function rangeOf(p: Map<string, string>, timeZoneMinutes: number): Range {
  const start = p.get('startdate');
  const end = p.get('enddate');
  const startTime = start === undefined ? undefined : parseV1Date(start, 'startDate', timeZoneMinutes);
  const endTime = end === undefined ? undefined : parseV1Date(end, 'endDate', timeZoneMinutes) + 1000;
  if (startTime !== undefined && endTime !== undefined && endTime <= startTime) {
    throw new V1Error('InvalidParameter', 'endDate is before startDate', 'endDate');
  }
  return { startTime, endTime };
}

/** A text filter (mailingId, messageId): as given, at most 255 characters (longer matches nothing stored). */
export function textFilter(p: Map<string, string>, name: string): string | undefined {
  const v = p.get(name.toLowerCase());
  if (v !== undefined && v.length > 255) throw new V1Error('InvalidParameter', `${name} is longer than 255 characters`, name);
  return v;
}
