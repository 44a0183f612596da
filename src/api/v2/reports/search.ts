import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { pagedResponse, pageOf } from '../paging.js';
import { CSV_COLUMNS, searchQueryProperties, searchRowSchema, toStoreQuery, toWire, type SearchQuery } from './search-wire.js';
import { sendSearchCsv } from './csv-export.js';

/**
 * GET /servers/:serverId/reports/recipient-search — SocketLabs' recipient search: one row per
 * recipient, filtered, sorted and paged (`{data, total}`), or with `format=csv` every matching row
 * as a streamed CSV (paging parameters then do not apply).
 */
export function registerRecipientSearch(scope: FastifyInstance, store: Store): void {
  scope.get<{ Params: { serverId: string }; Querystring: SearchQuery & { format: 'json' | 'csv' } }>(
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
              'application/json': { schema: pagedResponse(searchRowSchema) },
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
      const { rows, total } = await store.reports.searchRecipients(serverId, query, pageOf(req.query));
      return reply.type('application/json; charset=utf-8').send({ data: rows.map(toWire), total });
    },
  );
}
