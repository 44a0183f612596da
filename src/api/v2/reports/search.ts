import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { pagedResponse, pageOf } from '../paging.js';
import { CSV_COLUMNS, searchQueryProperties, searchRowSchema, toStoreQuery, toWire, type SearchQuery } from './search-wire.js';
import { sendSearchCsv } from './csv-export.js';

/** The largest count cap a caller may ask for; beyond it, ask without a cap. */
const MAX_COUNT_LIMIT = 1_000_000;

const searchResponse = {
  ...pagedResponse(searchRowSchema),
  required: ['data', 'total'],
  properties: {
    ...pagedResponse(searchRowSchema).properties,
    totalExact: {
      type: 'boolean',
      description: 'only when countLimit was given: false when the count stopped there (there are at least `total` matches)',
    },
  },
} as const;

/**
 * GET /servers/:serverId/reports/recipient-search — SocketLabs' recipient search: one row per
 * recipient, filtered, sorted and paged (`{data, total}`), or with `format=csv` every matching row
 * as a streamed CSV (paging parameters then do not apply).
 */
export function registerRecipientSearch(scope: FastifyInstance, store: Store): void {
  scope.get<{ Params: { serverId: string }; Querystring: SearchQuery & { format: 'json' | 'csv'; countLimit?: number } }>(
    '/reports/recipient-search',
    {
      schema: {
        summary: 'Search recipients (messages) by address, sender, subject, ids, status and queued time; paged, or the whole result as CSV',
        tags: ['reports'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: {
            ...searchQueryProperties,
            countLimit: {
              type: 'integer',
              minimum: 1,
              maximum: MAX_COUNT_LIMIT,
              description:
                'count at most this many matches: `total` is then a lower bound and `totalExact` false when reached (the control panel asks 10,000, so a broad search over millions of messages answers quickly); no cap when absent',
            },
            format: {
              type: 'string',
              enum: ['json', 'csv'],
              default: 'json',
              description: 'csv: every matching row, streamed, sorted the same way (pageSize and pageNumber ignored)',
            },
          },
        },
        response: withErrors({
          200: {
            description: `a page as JSON, or (format=csv) CSV with a header row; columns ${CSV_COLUMNS.join(', ')}`,
            content: {
              'application/json': { schema: searchResponse },
              'text/csv': { schema: { type: 'string' } },
            },
          },
        }),
      },
    },
    async (req, reply) => {
      const serverId = Number(req.params.serverId);
      const query = toStoreQuery(req.query);
      if (req.query.format === 'csv') return sendSearchCsv(req, reply, store, serverId, query);
      const { rows, total, totalExact } = await store.reports.searchRecipients(serverId, query, { ...pageOf(req.query), countLimit: req.query.countLimit });
      // Without countLimit, exactly SocketLabs' envelope.
      const body = req.query.countLimit === undefined ? { data: rows.map(toWire), total } : { data: rows.map(toWire), total, totalExact };
      return reply.type('application/json; charset=utf-8').send(body);
    },
  );
}
