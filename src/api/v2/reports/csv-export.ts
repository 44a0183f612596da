import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { RecipientSearchQuery, RecipientSearchRow } from '../../../store/search-queries.js';
import { REPORT_EXPORT_BATCH } from '../../../core/api-v2-limits.js';
import { csvRow } from '../suppressions/csv.js';
import { CSV_COLUMNS, toWire } from './search-wire.js';

function batchCsv(rows: readonly RecipientSearchRow[]): string {
  return rows.map((r) => { const w = toWire(r); return csvRow(CSV_COLUMNS.map((c) => w[c])); }).join('');
}

/**
 * Sends every row of a recipient search as CSV (header row first, RFC 4180, formula cells
 * defused as in the suppression download). Streamed: the store is read REPORT_EXPORT_BATCH rows
 * at a time by keyset, each batch written as the client reads it, so memory stays flat and no
 * batch rescans the rows before it whatever the result's size.
 */
export async function sendSearchCsv(req: FastifyRequest, reply: FastifyReply, store: Store, serverId: number, query: RecipientSearchQuery): Promise<FastifyReply> {
  const batches = store.streamRecipientSearch(serverId, query, REPORT_EXPORT_BATCH);
  // The first batch is read before the headers go out, so a store failure still gets a proper 500;
  // a failure later can only cut the stream short (the client sees an incomplete body).
  const first = await batches.next();
  async function* body(): AsyncGenerator<string> {
    try {
      yield csvRow(CSV_COLUMNS);
      if (first.done) return;
      yield batchCsv(first.value);
      for await (const rows of batches) yield batchCsv(rows);
    } catch (err) {
      req.log.error({ err, event: 'api_v2.export_failed', serverId }, 'recipient search export failed mid-stream');
      throw err;
    } finally {
      // A client that hangs up ends this generator early: stop reading the store too.
      await batches.return(undefined);
    }
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="recipient-search-${serverId}.csv"`)
    .send(Readable.from(body(), { objectMode: false }));
}
