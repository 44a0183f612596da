/**
 * The statistics route's query: its JSON schema, and turning a validated query into what the
 * rollups are read with (the range's whole hours, the buckets, the one dimension filtered on),
 * or a refusal that names the parameter at fault.
 */
import { ApiError } from '../errors.js';
import { bucketCount, BUCKET_SIZES, MAX_STATISTICS_BUCKETS, planBuckets, type BucketPlan, type BucketSize } from '../../../reporting/buckets.js';
import { ceilHour, parseDateParam, parseZone, type Zone } from '../../../reporting/time-zone.js';
import { metaValue, type Dim } from '../../../core/report-metrics.js';

export interface StatisticsQuery {
  startDate: string;
  endDate: string;
  bucket: BucketSize;
  timeZone?: string;
  format: 'json' | 'csv';
  mailingId?: string;
  tag?: string;
  metadataKey?: string;
  metadataValue?: string;
  sendingDomain?: string;
  recipientDomain?: string;
}

const text = (description: string, maxLength = 256) => ({ type: 'string', minLength: 1, maxLength, description }) as const;

export const statisticsQuerySchema = {
  type: 'object',
  additionalProperties: false,
  required: ['startDate', 'endDate'],
  properties: {
    startDate: text("YYYY-MM-DD (that local day's start) or an ISO-8601 date-time", 40),
    endDate: text('YYYY-MM-DD (included: up to the end of that local day) or an ISO-8601 date-time (excluded)', 40),
    bucket: { type: 'string', enum: [...BUCKET_SIZES], default: 'day' },
    timeZone: text('IANA name (Europe/Paris), UTC, or a fixed offset (+05:30); default UTC', 64),
    format: { type: 'string', enum: ['json', 'csv'], default: 'json', description: 'csv: one row per bucket, streamed' },
    mailingId: text('only mail of this MailingId'),
    tag: text('only mail with this tag'),
    metadataKey: text('only mail with this metadata pair (with metadataValue)'),
    metadataValue: { type: 'string', maxLength: 256, description: 'the value of metadataKey' },
    sendingDomain: text('only mail whose From address is at this domain'),
    recipientDomain: text('only recipients at this domain'),
  },
} as const;

/** The filters, each a dimension of the rollups; at most one per request. */
const FILTERS: { param: keyof StatisticsQuery; dim: Dim }[] = [
  { param: 'mailingId', dim: 'mailing' },
  { param: 'tag', dim: 'tag' },
  { param: 'metadataKey', dim: 'meta' },
  { param: 'sendingDomain', dim: 'from_domain' },
  { param: 'recipientDomain', dim: 'rcpt_domain' },
];

export interface StatisticsRequest {
  zone: Zone;
  fromHour: number;
  toHour: number;
  size: BucketSize;
  filter: { dim: Dim; value: string; param: string | null };
  plan: BucketPlan;
}

function filterOf(q: StatisticsQuery): StatisticsRequest['filter'] {
  if ((q.metadataKey === undefined) !== (q.metadataValue === undefined)) {
    const missing = q.metadataKey === undefined ? 'metadataKey' : 'metadataValue';
    throw new ApiError('validation_failed', 'metadataKey and metadataValue go together: give both, or neither', missing);
  }
  const given = FILTERS.filter((f) => q[f.param] !== undefined);
  if (given.length > 1) {
    const names = given.map((f) => (f.param === 'metadataKey' ? 'metadataKey+metadataValue' : f.param));
    throw new ApiError(
      'conflicting_filters',
      `one filter at a time: ${names.join(' and ')} were given; statistics are kept per dimension, not per combination of them`,
      given[1]!.param,
    );
  }
  const f = given[0];
  if (!f) return { dim: '', value: '', param: null };
  const raw = q[f.param] as string;
  switch (f.dim) {
    case 'meta':
      return { dim: 'meta', value: metaValue(raw, q.metadataValue!), param: 'metadataKey' };
    case 'from_domain':
    case 'rcpt_domain':
      return { dim: f.dim, value: raw.toLowerCase(), param: f.param };
    default:
      return { dim: f.dim, value: raw, param: f.param };
  }
}

/** The validated query as a plan; throws ApiError (400) for anything the schema cannot check. */
export function parseStatisticsQuery(q: StatisticsQuery): StatisticsRequest {
  const zone = parseZone(q.timeZone);
  if (!zone)
    throw new ApiError(
      'validation_failed',
      `timeZone "${q.timeZone}" is not a time zone: give an IANA name (Europe/Paris), UTC or an offset (+05:30)`,
      'timeZone',
    );
  const dateError = (field: string) =>
    new ApiError('validation_failed', `${field} is not a date: give YYYY-MM-DD or an ISO-8601 date-time (2026-01-31T13:00:00Z), from 1970 on`, field);
  const start = parseDateParam(q.startDate, zone, false);
  if (start === null || start < 0) throw dateError('startDate');
  const end = parseDateParam(q.endDate, zone, true);
  if (end === null || end < 0) throw dateError('endDate');
  if (end <= start)
    throw new ApiError('validation_failed', `endDate (${new Date(end).toISOString()}) must be after startDate (${new Date(start).toISOString()})`, 'endDate');
  const filter = filterOf(q);
  // Rollups are hourly: the range is the hours that start in [start, end).
  const fromHour = ceilHour(start);
  const toHour = ceilHour(end);
  const n = bucketCount(fromHour, toHour, q.bucket, zone);
  if (n > MAX_STATISTICS_BUCKETS) {
    throw new ApiError(
      'validation_failed',
      `the range holds ${n} ${q.bucket} buckets; at most ${MAX_STATISTICS_BUCKETS}: narrow the range or use a bigger bucket`,
      'bucket',
    );
  }
  return { zone, fromHour, toHour, size: q.bucket, filter, plan: planBuckets(fromHour, toHour, q.bucket, zone) };
}
