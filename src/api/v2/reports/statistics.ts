import type { FastifyInstance } from 'fastify';
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
      schema: {
        summary: 'Delivery and engagement statistics per hour, day or month',
        description: 'One filter at a time (mailingId, tag, metadataKey+metadataValue, sendingDomain, recipientDomain). format=csv answers text/csv.',
        tags: ['reports'],
        params: serverIdParams,
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
      },
    },
    async (req, reply) => {
      const serverId = Number(req.params.serverId);
      const r = parseStatisticsQuery(req.query);
      const chunks = bucketCounts(store, serverId, r.filter, r.plan);
      if (req.query.format === 'csv')
        return sendCsvStream(req, reply, {
          columns: CSV_COLUMNS,
          batches: chunks,
          toCsv: csvOf,
          filename: `statistics-${serverId}.csv`,
          serverId,
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
