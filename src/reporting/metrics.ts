/**
 * What an event counts for in the statistics, as pure functions: the metrics it increments and
 * the dimensions (mailing, tags, metadata, From domain, recipient domain) it is counted under.
 * The rollup writer (store/report-queries.ts) and the rebuild both go through here, so live
 * counters and rebuilt ones cannot disagree. docs/reporting.md defines every metric.
 */

/** Counters stored per hour. Totals such as `failed` or `opens` are sums of these, made at query time. */
export const STORED_METRICS = [
  'queued', 'delivered', 'deferred',
  // Failed, split by SocketLabs' FailureType: 0 temporary, 1 permanent, 2 suppressed (not attempted).
  'failedTemporary', 'failedPermanent', 'suppressed',
  // Failed, split by FailureCode family (reference §7); "Other" is a code outside them or none.
  'failedCode1xxx', 'failedCode2xxx', 'failedCode3xxx', 'failedCode4xxx', 'failedCode5xxx', 'failedCode9xxx', 'failedCodeOther',
  'complaints',
  'opensHuman', 'opensMachine', 'uniqueOpens', 'uniqueOpensHuman',
  'clicksHuman', 'clicksMachine', 'uniqueClicks', 'uniqueClicksHuman',
  'unsubscribes',
] as const;
export type StoredMetric = (typeof STORED_METRICS)[number];

/** The dimensions a statistic can be filtered by; '' is all of a server's mail. */
export type Dim = '' | 'mailing' | 'tag' | 'meta' | 'from_domain' | 'rcpt_domain';

/** What an event's recipient and message say about it: the dimensions' values. */
export interface EventFacts {
  mailingId: string | null;
  tags: readonly string[];
  metadata: readonly { key: string; value: string }[];
  fromAddress: string;
  /** The recipient's domain (recipients.domain). */
  rcptDomain: string;
}

/** SocketLabs' TrackingType (webhooks/payload.ts): 0 click, 1 open, 2 unsubscribe. */
const TRACKING_CLICK = 0;
const TRACKING_OPEN = 1;
const TRACKING_UNSUBSCRIBE = 2;

/** An open or click that may be a recipient's first: counted unique only if the store says it was. */
export interface FirstCandidate { kind: 'open' | 'click'; human: boolean }

/** The metrics one event increments outright, and the unique counts it may add. */
export interface EventCounts { metrics: StoredMetric[]; first: FirstCandidate | null }

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
    case 'Queued': return { metrics: ['queued'], first: null };
    case 'Delivered': return { metrics: ['delivered'], first: null };
    case 'Deferred': return { metrics: ['deferred'], first: null };
    case 'Failed': {
      // A Failed event without a known FailureType is a producer's bug; it still counts as temporary.
      const byType = FAILURE_TYPE_METRIC[d.FailureType as number] ?? 'failedTemporary';
      return { metrics: [byType, failureCodeFamily(d.FailureCode)], first: null };
    }
    case 'Complaint': return { metrics: ['complaints'], first: null };
    case 'Tracking': {
      const human = d.Machine !== true;
      if (d.TrackingType === TRACKING_OPEN) return { metrics: [human ? 'opensHuman' : 'opensMachine'], first: { kind: 'open', human } };
      if (d.TrackingType === TRACKING_CLICK) return { metrics: [human ? 'clicksHuman' : 'clicksMachine'], first: { kind: 'click', human } };
      if (d.TrackingType === TRACKING_UNSUBSCRIBE) return { metrics: ['unsubscribes'], first: null };
      return { metrics: [], first: null };
    }
    default: return { metrics: [], first: null };
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
const ALL_MAIL: readonly [Dim, string][] = [['', '']];
/** Dimensions per facts object: the events of one recipient (and the rebuild's batches) reuse them. */
const dimsCache = new WeakMap<EventFacts, readonly [Dim, string][]>();

export function dimsOf(f: EventFacts | null): readonly [Dim, string][] {
  if (!f) return ALL_MAIL;
  const cached = dimsCache.get(f);
  if (cached) return cached;
  const out: [Dim, string][] = [['', '']];
  if (f.mailingId !== null && f.mailingId !== '') out.push(['mailing', f.mailingId]);
  for (const tag of new Set(f.tags)) out.push(['tag', tag]);
  for (const v of new Set(f.metadata.map((m) => metaValue(m.key, m.value)))) out.push(['meta', v]);
  const from = domainOfAddress(f.fromAddress);
  if (from !== '') out.push(['from_domain', from]);
  if (f.rcptDomain !== '') out.push(['rcpt_domain', f.rcptDomain.toLowerCase()]);
  dimsCache.set(f, out);
  return out;
}

export const HOUR_MS = 3_600_000;
export const hourOf = (ms: number): number => Math.floor(ms / HOUR_MS) * HOUR_MS;
