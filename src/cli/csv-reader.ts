/** The CSV reader over a file: the chunks of a stream, read 64 KiB at a time (marketing/csv-records.ts parses them). */
import { createReadStream } from 'node:fs';
import { readCsvChunks, type CsvRecord } from '../marketing/csv-records.js';

export type { CsvRecord };

export function readCsv(path: string, maxField: number): AsyncGenerator<CsvRecord> {
  return readCsvChunks(createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 }), maxField);
}
