import type { FastifyReply, FastifyRequest } from 'fastify';
import { csvRow } from '../../v2/suppressions/csv.js';
import { sendCsvStream } from '../../v2/csv-stream.js';
import { csvCells, renderObject, type V1Record } from './render.js';
import type { Output } from './params.js';

/**
 * Sends a v1 answer in the requested format. JSON, JSONP and XML carry the whole body; CSV is the
 * records alone under a header row (RFC 4180, through the v2 CSV writer: formula cells defused).
 */
export async function sendV1(
  req: FastifyRequest,
  reply: FastifyReply,
  out: Output,
  a: {
    body: Record<string, unknown>;
    columns: readonly string[];
    records: readonly V1Record[];
    serverId: number;
    filename: string;
  },
): Promise<FastifyReply> {
  if (out.format === 'csv') {
    async function* one(): AsyncGenerator<V1Record[]> {
      if (a.records.length > 0) yield [...a.records];
    }
    return sendCsvStream(req, reply, {
      columns: a.columns,
      batches: one(),
      toCsv: (rows) => rows.map((r) => csvRow(csvCells(a.columns, r))).join(''),
      filename: a.filename,
      serverId: a.serverId,
      failure: { event: 'legacy_v1.csv_failed', message: 'legacy v1 CSV answer failed mid-stream' },
    });
  }
  const r = renderObject(out, a.body);
  return reply.type(r.contentType).send(r.body);
}
