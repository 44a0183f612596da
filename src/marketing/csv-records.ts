/**
 * A streaming RFC 4180 reader: records come out one at a time as the file is read, so memory
 * holds one chunk and one record, never the file. Quoted fields may hold commas, doubled quotes
 * and line breaks; CRLF and LF both end a record. A field longer than `maxField` is cut there and
 * flagged (the caller refuses the row) so one runaway field cannot grow memory without bound.
 * The source is any sequence of text chunks: a file stream (the CLI's import) or a request body
 * (the Marketing API's import jobs).
 */
export interface CsvRecord {
  /** 1-based record number in the file (a line break inside quotes does not start a record). */
  row: number;
  cells: string[];
  /** Some cell was longer than maxField (and was cut). */
  overlong: boolean;
  /** The file ended inside a quoted field. */
  unterminated: boolean;
}

const QUOTE = 0x22,
  COMMA = 0x2c,
  LF = 0x0a,
  CR = 0x0d;

export async function* readCsvChunks(source: AsyncIterable<string> | Iterable<string>, maxField: number): AsyncGenerator<CsvRecord> {
  let cells: string[] = [];
  let field = '';
  let overlong = false;
  let inQuotes = false;
  let quoteSeen = false; // a quote inside a quoted field: the end, or the first of a doubled pair
  let started = false; // the record has any content (a bare line break is an empty record)
  let row = 0;
  // Text is appended a run at a time (a slice up to the next special character), never a
  // character at a time: `field += ch` made a new string per character, and that garbage, promoted
  // while a batch was being written, was most of the import's peak memory.
  const append = (s: string): void => {
    if (s.length === 0) return;
    const room = maxField + 1 - field.length;
    if (room <= 0) overlong = true;
    else if (s.length > room) {
      field += s.slice(0, room);
      overlong = true;
    } else field += s;
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
  for await (const chunk of source) {
    const text = chunk as string;
    const n = text.length;
    let i = 0;
    while (i < n) {
      const ch = text.charCodeAt(i);
      if (pendingCr) {
        pendingCr = false;
        if (ch === LF) {
          i++;
          continue;
        } // CRLF: the record already ended at CR
      }
      if (inQuotes) {
        if (quoteSeen) {
          quoteSeen = false;
          if (ch === QUOTE) {
            append('"');
            i++;
            continue;
          }
          inQuotes = false; // the closing quote; this character is handled below
        } else {
          const q = text.indexOf('"', i);
          append(text.slice(i, q === -1 ? n : q));
          if (q !== -1) quoteSeen = true;
          i = q === -1 ? n : q + 1;
          continue;
        }
      }
      if (ch === QUOTE && field.length === 0 && !overlong) {
        inQuotes = true;
        started = true;
        i++;
        continue;
      }
      if (ch === COMMA) {
        started = true;
        endField();
        i++;
        continue;
      }
      if (ch === LF || ch === CR) {
        pendingCr = ch === CR;
        i++;
        if (started || field.length > 0) yield endRecord();
        else {
          row += 1;
          cells = [];
        } // a blank line: counted, not returned
        continue;
      }
      // A run of text up to the next comma or line break (lenient: a stray quote inside an
      // unquoted field is kept as text).
      started = true;
      let j = i + 1;
      while (j < n) {
        const c = text.charCodeAt(j);
        if (c === COMMA || c === LF || c === CR) break;
        j++;
      }
      append(text.slice(i, j));
      i = j;
    }
  }
  if (inQuotes && quoteSeen) inQuotes = false;
  if (inQuotes) {
    const rec = endRecord();
    yield { ...rec, unterminated: true };
  } else if (started || field.length > 0) yield endRecord();
}
