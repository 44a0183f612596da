/**
 * What an event counts for in the statistics, as pure functions: the metrics it increments and
 * the dimensions (mailing, tags, metadata, From domain, recipient domain) it is counted under.
 * The rollup writer (store/reports.ts) and the rebuild both go through here, so live
 * counters and rebuilt ones cannot disagree. docs/reporting.md defines every metric.
 */

/** Counters stored per hour. Totals such as `failed` or `opens` are sums of these, made at query time. */
export const STORED_METRICS = [
  'queued',
  'delivered',
  'deferred',
  // Failed, split by SocketLabs' FailureType: 0 temporary, 1 permanent, 2 suppressed (not attempted).
  'failedTemporary',
  'failedPermanent',
  'suppressed',
  // Failed, split by FailureCode family; "Other" is a code outside them or none.
  'failedCode1xxx',
  'failedCode2xxx',
  'failedCode3xxx',
  'failedCode4xxx',
  'failedCode5xxx',
  'failedCode9xxx',
  'failedCodeOther',
  'complaints',
  'opensHuman',
  'opensMachine',
  'uniqueOpens',
  'uniqueOpensHuman',
  'clicksHuman',
  'clicksMachine',
  'uniqueClicks',
  'uniqueClicksHuman',
  'unsubscribes',
] as const;
export type StoredMetric = (typeof STORED_METRICS)[number];

/** The dimensions a statistic can be filtered by; '' is all of a server's mail. */
export type Dim = '' | 'mailing' | 'tag' | 'meta' | 'from_domain' | 'rcpt_domain';

/** What an event's message says about it (one object shared by the message's recipients). */
export interface MessageFacts {
  tags: readonly string[];
  metadata: readonly { key: string; value: string }[];
  fromAddress: string;
}
/** What an event's recipient and message say about it: the dimensions' values. */
export interface EventFacts {
  message: MessageFacts;
  mailingId: string | null;
  /** The recipient's domain (recipients.domain). */
  rcptDomain: string;
}

/** SocketLabs' TrackingType (webhooks/payload.ts): 0 click, 1 open, 2 unsubscribe. */
const TRACKING_CLICK = 0;
const TRACKING_OPEN = 1;
const TRACKING_UNSUBSCRIBE = 2;

/** An open or click that may be a recipient's first: counted unique only if the store says it was. */
export interface FirstCandidate {
  kind: 'open' | 'click';
  human: boolean;
}

/** The metrics one event increments outright, and the unique counts it may add. */
export interface EventCounts {
  metrics: StoredMetric[];
  first: FirstCandidate | null;
}

const FAILURE_TYPE_METRIC: Record<number, StoredMetric> = { 0: 'failedTemporary', 1: 'failedPermanent', 2: 'suppressed' };

export function failureCodeFamily(code: unknown): StoredMetric {
  if (typeof code !== 'number' || !Number.isInteger(code)) return 'failedCodeOther';
  const family = Math.floor(code / 1000);
  if (code >= 1000 && code < 6000) return `failedCode${family}xxx` as StoredMetric;
  if (code >= 9000 && code < 10000) return 'failedCode9xxx';
  return 'failedCodeOther';
}

/** The counters of one event (type and parsed `data`); an event of a type reports do not count adds none. */
export function countsOf(type: string, data: Record<string, unknown> | null): EventCounts {
  const d = data ?? {};
  switch (type) {
    case 'Queued':
      return { metrics: ['queued'], first: null };
    case 'Delivered':
      return { metrics: ['delivered'], first: null };
    case 'Deferred':
      return { metrics: ['deferred'], first: null };
    case 'Failed': {
      // A Failed event without a known FailureType is a producer's bug; it still counts as temporary.
      const byType = FAILURE_TYPE_METRIC[d.FailureType as number] ?? 'failedTemporary';
      return { metrics: [byType, failureCodeFamily(d.FailureCode)], first: null };
    }
    case 'Complaint':
      return { metrics: ['complaints'], first: null };
    case 'Tracking': {
      const human = d.Machine !== true;
      if (d.TrackingType === TRACKING_OPEN) return { metrics: [human ? 'opensHuman' : 'opensMachine'], first: { kind: 'open', human } };
      if (d.TrackingType === TRACKING_CLICK) return { metrics: [human ? 'clicksHuman' : 'clicksMachine'], first: { kind: 'click', human } };
      if (d.TrackingType === TRACKING_UNSUBSCRIBE) return { metrics: ['unsubscribes'], first: null };
      return { metrics: [], first: null };
    }
    default:
      return { metrics: [], first: null };
  }
}

/** The From domain as a dimension value: lower-cased, '' when the address has none. */
export function domainOfAddress(address: string): string {
  const at = address.lastIndexOf('@');
  return at === -1 ? '' : address.slice(at + 1).toLowerCase();
}

/** The `meta` dimension's value for one metadata pair. */
export const metaValue = (key: string, value: string): string => `${key}=${value}`;

/**
 * Every (dim, value) an event with these facts is counted under: all mail, its mailing, each
 * distinct tag and metadata pair, its From domain and its recipient's domain.
 */
/** A dimension, its value, and the two as one string (a map key made once). */
export type DimValue = readonly [Dim, string, string];
const dimValue = (dim: Dim, value: string): DimValue => [dim, value, `${dim}\u0001${value}`];
const ALL_MAIL: DimValue = dimValue('', '');

/** Message dimensions per message facts object; recipient dimensions per value (bounded). */
const messageDims = new WeakMap<MessageFacts, readonly DimValue[]>();
const INTERNED_MAX = 100_000;
const interned = { mailing: new Map<string, DimValue>(), rcpt_domain: new Map<string, DimValue>() };
function intern(dim: 'mailing' | 'rcpt_domain', value: string): DimValue {
  const m = interned[dim];
  let v = m.get(value);
  if (!v) {
    if (m.size >= INTERNED_MAX) m.clear();
    m.set(value, (v = dimValue(dim, value)));
  }
  return v;
}

function dimsOfMessage(f: MessageFacts): readonly DimValue[] {
  let out = messageDims.get(f);
  if (out) return out;
  const list: DimValue[] = [];
  for (const tag of new Set(f.tags)) list.push(dimValue('tag', tag));
  for (const v of new Set(f.metadata.map((m) => metaValue(m.key, m.value)))) list.push(dimValue('meta', v));
  const from = domainOfAddress(f.fromAddress);
  if (from !== '') list.push(dimValue('from_domain', from));
  messageDims.set(f, (out = list));
  return out;
}

/**
 * Every (dim, value) an event with these facts is counted under: all mail, its mailing, each
 * distinct tag and metadata pair, its From domain and its recipient's domain. Values are made
 * once per message (and per mailing and domain), not per event: the rebuild calls this millions of times.
 */
export function dimsOf(f: EventFacts | null): DimValue[] {
  const out: DimValue[] = [ALL_MAIL];
  if (!f) return out;
  if (f.mailingId !== null && f.mailingId !== '') out.push(intern('mailing', f.mailingId));
  for (const d of dimsOfMessage(f.message)) out.push(d);
  if (f.rcptDomain !== '') out.push(intern('rcpt_domain', f.rcptDomain.toLowerCase()));
  return out;
}

export const HOUR_MS = 3_600_000;
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;

/** The stats_hourly column of a metric: `failedCode2xxx` -> `failed_code_2xxx` (migration 12 lists them). */
export const columnOf = (metric: StoredMetric): string => metric.replace(/(\d)xxx/, '_$1xxx').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
