/**
 * A streaming RFC 4180 reader: records come out one at a time as the file is read, so memory
 * holds one chunk and one record, never the file. Quoted fields may hold commas, doubled quotes
 * and line breaks; CRLF and LF both end a record. A field longer than `maxField` is cut there and
 * flagged (the caller refuses the row) so one runaway field cannot grow memory without bound.
 */
import { createReadStream } from 'node:fs';

export interface CsvRecord {
  /** 1-based record number in the file (a line break inside quotes does not start a record). */
  row: number;
  cells: string[];
  /** Some cell was longer than maxField (and was cut). */
  overlong: boolean;
  /** The file ended inside a quoted field. */
  unterminated: boolean;
}

export async function* readCsv(path: string, maxField: number): AsyncGenerator<CsvRecord> {
  let cells: string[] = [];
  let field = '';
  let overlong = false;
  let inQuotes = false;
  let quoteSeen = false; // a quote inside a quoted field: the end, or the first of a doubled pair
  let started = false; // the record has any content (a bare line break is an empty record)
  let row = 0;
  const push = (ch: string): void => {
    if (field.length < maxField + 1) field += ch;
    else overlong = true;
  };
  const endField = (): void => {
    if (field.length > maxField) overlong = true;
    cells.push(field);
    field = '';
  };
  const endRecord = (): CsvRecord => {
    endField();
    row += 1;
    const rec = { row, cells, overlong, unterminated: false };
    cells = [];
    overlong = false;
    started = false;
    return rec;
  };
  let pendingCr = false;
  for await (const chunk of createReadStream(path, { encoding: 'utf8', highWaterMark: 64 * 1024 })) {
    const text = chunk as string;
    for (let i = 0; i < text.length; i++) {
      const ch = text[i]!;
      if (pendingCr) {
        pendingCr = false;
        if (ch === '\n') continue; // CRLF: the record already ended at CR
      }
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (ch === '"') { push('"'); continue; }
          inQuotes = false; // the closing quote; this character is handled below
        } else if (ch === '"') { quoteSeen = true; continue; } else { push(ch); continue; }
      }
      if (ch === '"' && field.length === 0 && !overlong) { inQuotes = true; started = true; continue; }
      if (ch === ',') { started = true; endField(); continue; }
      if (ch === '\n' || ch === '\r') {
        pendingCr = ch === '\r';
        if (started || field.length > 0) yield endRecord();
        else { row += 1; cells = []; } // a blank line: counted, not returned
        continue;
      }
      started = true;
      push(ch); // lenient: a stray quote inside an unquoted field is kept as text
    }
  }
  if (inQuotes && quoteSeen) inQuotes = false;
  if (inQuotes) {
    const rec = endRecord();
    yield { ...rec, unterminated: true };
  } else if (started || field.length > 0) yield endRecord();
}
