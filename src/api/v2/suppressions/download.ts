import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { Suppression } from '../../../core/suppression.js';
import { SUPPRESSION_DOWNLOAD_BATCH } from '../../../core/api-v2-limits.js';
import { withErrors } from '../schemas.js';
import { SERVER_PATH, type ServerPath } from '../server-path.js';
import { sortQueryProperties } from '../paging.js';
import { filterProperties, SORT_DEFAULTS, SORT_FIELDS, storeQuery, toWire, type FilterQuery } from './wire.js';
import { csvRow } from './csv.js';
import { sendCsvStream } from '../csv-stream.js';

export const CSV_COLUMNS = ['emailAddress', 'reason', 'detail', 'createdOn', 'lastUpdate'] as const;

function batchCsv(rows: readonly Suppression[]): string {
  return rows
    .map((s) => {
      const w = toWire(s);
      return csvRow(CSV_COLUMNS.map((c) => w[c]));
    })
    .join('');
}

/**
 * GET /servers/:serverId/suppressions/download — the whole list (or the filtered part) as CSV
 * with a header row, sorted like search. Streamed: one store batch at a time, written as the
 * client reads (backpressure), never the whole list in memory. Also a sub-account's
 * (`/subaccount/:subaccountId/suppressions/download`), through `path`.
 */
export function registerDownload(scope: FastifyInstance, store: Store, path: ServerPath = SERVER_PATH): void {
  scope.get<{ Querystring: FilterQuery }>(
    '/suppressions/download',
    {
      schema: {
        summary: 'Download the suppression list as CSV',
        tags: ['suppressions'],
        params: path.params,
        querystring: { type: 'object', additionalProperties: false, properties: { ...sortQueryProperties(SORT_FIELDS, SORT_DEFAULTS), ...filterProperties } },
        response: withErrors({
          200: { description: `CSV with a header row; columns ${CSV_COLUMNS.join(', ')}`, content: { 'text/csv': { schema: { type: 'string' } } } },
        }),
      },
    },
    async (req, reply) => {
      const serverId = path.serverIdOf(req);
      return sendCsvStream(req, reply, {
        columns: CSV_COLUMNS,
        batches: store.suppressions.stream(serverId, storeQuery(req.query), SUPPRESSION_DOWNLOAD_BATCH),
        toCsv: batchCsv,
        filename: `suppressions-${serverId}.csv`,
        serverId,
        failure: { event: 'api_v2.download_failed', message: 'suppression download failed mid-stream' },
      });
    },
  );
}
