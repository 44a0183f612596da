import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvRow } from './suppressions/csv.js';

export interface CsvStream<T> {
  /** The header row's cells. */
  columns: readonly string[];
  /** The rows, a batch at a time, as the store reads them. */
  batches: AsyncGenerator<T[]>;
  /** One batch as CSV text (csvRow per row). */
  toCsv(rows: readonly T[]): string;
  /** The download's file name (content-disposition). */
  filename: string;
  serverId: number | null;
  /** What the log says when the stream fails after the headers went out. */
  failure: { event: string; message: string };
}

/**
 * Answers a CSV download streamed from batches (the suppression download, recipient-search export,
 * statistics CSV): the header row, then each batch written as the client reads it, so memory stays
 * flat whatever the result's size. The first batch is read before the headers go out, so a store
 * failure still gets a proper 500; a failure later can only cut the stream short (the client sees an
 * incomplete body), and is logged.
 */
export async function sendCsvStream<T>(req: FastifyRequest, reply: FastifyReply, s: CsvStream<T>): Promise<FastifyReply> {
  const first = await s.batches.next();
  async function* body(): AsyncGenerator<string> {
    try {
      yield csvRow(s.columns);
      if (first.done) return;
      yield s.toCsv(first.value);
      for await (const rows of s.batches) yield s.toCsv(rows);
    } catch (err) {
      req.log.error({ err, event: s.failure.event, serverId: s.serverId }, s.failure.message);
      throw err;
    } finally {
      // A client that hangs up ends this generator early: stop reading the store too.
      await s.batches.return(undefined);
    }
  }
  return reply
    .type('text/csv; charset=utf-8')
    .header('content-disposition', `attachment; filename="${s.filename}"`)
    .send(Readable.from(body(), { objectMode: false }));
}
