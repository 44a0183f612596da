import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { RecipientSearchQuery, RecipientSearchRow } from '../../../store/search.js';
import { REPORT_EXPORT_BATCH } from '../../../core/api-v2-limits.js';
import { csvRow } from '../suppressions/csv.js';
import { sendCsvStream } from '../csv-stream.js';
import { CSV_COLUMNS, toWire } from './search-wire.js';

function batchCsv(rows: readonly RecipientSearchRow[]): string {
  return rows
    .map((r) => {
      const w = toWire(r);
      return csvRow(CSV_COLUMNS.map((c) => w[c]));
    })
    .join('');
}

/**
 * Sends every row of a recipient search as CSV (header row first, RFC 4180, formula cells
 * defused as in the suppression download). Streamed: the store is read REPORT_EXPORT_BATCH rows
 * at a time by keyset, each batch written as the client reads it, so memory stays flat and no
 * batch rescans the rows before it whatever the result's size.
 */
export async function sendSearchCsv(
  req: FastifyRequest,
  reply: FastifyReply,
  store: Store,
  serverId: number,
  query: RecipientSearchQuery,
): Promise<FastifyReply> {
  return sendCsvStream(req, reply, {
    columns: CSV_COLUMNS,
    batches: store.reports.streamRecipientSearch(serverId, query, REPORT_EXPORT_BATCH),
    toCsv: batchCsv,
    filename: `recipient-search-${serverId}.csv`,
    serverId,
    failure: { event: 'api_v2.export_failed', message: 'recipient search export failed mid-stream' },
  });
}
