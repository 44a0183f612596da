import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { principalOf } from '../auth.js';
import type { Store } from '../../../store/store.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { csvRow } from '../suppressions/csv.js';
import { sendCsvStream } from '../csv-stream.js';
import { addCounts, bucketCounts, emptyCounts, ratesOf, WIRE_METRICS, type BucketCounts, type Counts } from '../../../reporting/statistics.js';
import { parseStatisticsQuery, statisticsQuerySchema, type StatisticsQuery, type StatisticsRequest } from './statistics-query.js';

const countsSchema = {
  type: 'object',
  required: [...WIRE_METRICS],
  properties: Object.fromEntries(WIRE_METRICS.map((m) => [m, { type: 'integer' }])),
} as const;
const rate = (description: string) => ({ type: ['number', 'null'], description }) as const;

const statisticsSchema = {
  type: 'object',
  required: ['startDate', 'endDate', 'bucket', 'timeZone', 'filter', 'totals', 'rates', 'buckets'],
  properties: {
    startDate: { type: 'string', description: 'the first whole hour counted (UTC)' },
    endDate: { type: 'string', description: 'the end of the last hour counted (UTC, excluded)' },
    bucket: { type: 'string' },
    timeZone: { type: 'string' },
    filter: {
      type: ['object', 'null'],
      required: ['name', 'value'],
      properties: { name: { type: 'string' }, value: { type: 'string' } },
    },
    totals: countsSchema,
    rates: {
      type: 'object',
      required: ['delivery', 'bounce', 'complaint', 'open', 'click'],
      properties: {
        delivery: rate('delivered / (delivered + failedTemporary + failedPermanent)'),
        bounce: rate('(failedTemporary + failedPermanent) / (delivered + failedTemporary + failedPermanent)'),
        complaint: rate('complaints / delivered'),
        open: rate('uniqueOpensHuman / delivered'),
        click: rate('uniqueClicksHuman / delivered'),
      },
    },
    buckets: {
      type: 'array',
      items: {
        type: 'object',
        required: ['start', 'label', ...WIRE_METRICS],
        properties: { start: { type: 'string' }, label: { type: 'string' }, ...countsSchema.properties },
      },
    },
  },
} as const;

const CSV_COLUMNS = ['start', 'label', ...WIRE_METRICS] as const;
const csvOf = (rows: readonly BucketCounts[]) =>
  rows.map(({ bucket, counts }) => csvRow([new Date(bucket.start).toISOString(), bucket.label, ...WIRE_METRICS.map((m) => String(counts[m]))])).join('');

const routeSchema = (params: boolean, summary: string, description: string) => ({
  summary,
  description,
  tags: ['reports'],
  ...(params ? { params: serverIdParams } : {}),
  querystring: statisticsQuerySchema,
  response: withErrors({
    200: {
      description: `JSON {data}; with format=csv, CSV with a header row (columns ${CSV_COLUMNS.join(', ')})`,
      content: {
        'application/json': { schema: { type: 'object', required: ['data'], properties: { data: statisticsSchema } } },
        'text/csv': { schema: { type: 'string' } },
      },
    },
  }),
});

/** Whose rollups an answer sums: one server, or every server of an account. */
type StatisticsScope = number | { accountId: number };

/** The one answer of both routes: JSON (totals, rates, buckets) or a streamed CSV of the buckets. */
async function answer(store: Store, req: FastifyRequest<{ Querystring: StatisticsQuery }>, reply: FastifyReply, scope: StatisticsScope, name: string) {
  const r = parseStatisticsQuery(req.query);
  const chunks = bucketCounts(store, scope, r.filter, r.plan);
  if (req.query.format === 'csv')
    return sendCsvStream(req, reply, {
      columns: CSV_COLUMNS,
      batches: chunks,
      toCsv: csvOf,
      filename: `statistics-${name}.csv`,
      serverId: typeof scope === 'number' ? scope : null,
      failure: { event: 'api_v2.download_failed', message: 'statistics CSV failed mid-stream' },
    });
  const totals = emptyCounts();
  const buckets: ({ start: string; label: string } & Counts)[] = [];
  for await (const rows of chunks) {
    for (const { bucket, counts } of rows) {
      addCounts(totals, counts);
      buckets.push({ start: new Date(bucket.start).toISOString(), label: bucket.label, ...counts });
    }
  }
  return reply.type('application/json; charset=utf-8').send({ data: { ...about(req.query, r), totals, rates: ratesOf(totals), buckets } });
}

/**
 * GET /servers/:serverId/reports/statistics — counts per bucket, totals and rates of a server's
 * mail over a range, optionally for one mailing, tag, metadata pair, From domain or recipient
 * domain, read from the hourly rollups (never from the events). `format=csv` streams one row per
 * bucket, a chunk of buckets read at a time.
 */
export function registerStatistics(scope: FastifyInstance, store: Store): void {
  scope.get<{ Params: { serverId: string }; Querystring: StatisticsQuery }>(
    '/reports/statistics',
    {
      schema: routeSchema(
        true,
        'Delivery and engagement statistics per hour, day or month',
        'One filter at a time (mailingId, tag, metadataKey+metadataValue, sendingDomain, recipientDomain). format=csv answers text/csv.',
      ),
    },
    (req, reply) => {
      const serverId = Number(req.params.serverId);
      return answer(store, req, reply, serverId, String(serverId));
    },
  );
}

/**
 * GET /account/reports/statistics — the same answer summed over every server of the account (an
 * account key or a session; a server's management key: its own server), in one read of the
 * rollups: the control panel's account overview.
 */
export function registerAccountStatistics(scope: FastifyInstance, store: Store): void {
  scope.get<{ Querystring: StatisticsQuery }>(
    '/account/reports/statistics',
    {
      schema: routeSchema(
        false,
        "Statistics of all the account's servers together",
        "As /servers/{serverId}/reports/statistics, summed over every server of the key's account (a management key: its own server).",
      ),
    },
    (req, reply) => {
      const p = principalOf(req);
      return p.serverId !== null
        ? answer(store, req, reply, p.serverId, String(p.serverId))
        : answer(store, req, reply, { accountId: p.accountId }, `account-${p.accountId}`);
    },
  );
}

function about(q: StatisticsQuery, r: StatisticsRequest) {
  return {
    startDate: new Date(r.fromHour).toISOString(),
    endDate: new Date(r.toHour).toISOString(),
    bucket: r.size,
    timeZone: r.zone.name,
    filter:
      r.filter.param === null
        ? null
        : { name: r.filter.param, value: r.filter.param === 'metadataKey' ? `${q.metadataKey}=${q.metadataValue}` : r.filter.value },
  };
}
