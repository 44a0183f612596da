/**
 * Reading an uploaded suppression file: one address per line, or a CSV whose header names an
 * email column (`emailAddress`, `email`, `address`, ... — so the panel's own download can be
 * uploaded again). Pure functions, no DOM, so the rules are easy to follow and test.
 */

export interface UploadLine {
  /** 1-based line number in the file, for telling the user which line was refused. */
  line: number;
  address: string;
}

const HEADER = /^(e-?mail ?address|e-?mail|address|recipient)$/i;

/** The cells of one CSV line (RFC 4180 quoting; a line break inside quotes is not supported). */
export function csvCells(line: string): string[] {
  const cells: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"' && cell === '') quoted = true;
    else if (c === ',' || c === ';' || c === '\t') {
      cells.push(cell);
      cell = '';
    } else cell += c;
  }
  cells.push(cell);
  return cells;
}

/**
 * The addresses of a file, with their line numbers. Blank lines are skipped; a first line that
 * is a header (a cell named like an email column, none with an @) picks the column and is not an
 * address. Without a header the first cell of each line is the address. Text is trimmed; the
 * server decides what is valid.
 */
export function parseUpload(text: string): UploadLine[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r\n|\n|\r/);
  let column = 0;
  let start = 0;
  const first = csvCells(lines[0] ?? '').map((c) => c.trim());
  const headerAt = first.findIndex((c) => HEADER.test(c));
  if (headerAt >= 0 && !first.some((c) => c.includes('@'))) {
    column = headerAt;
    start = 1;
  }
  const out: UploadLine[] = [];
  for (let i = start; i < lines.length; i++) {
    const raw = lines[i]!;
    if (raw.trim() === '') continue;
    const cells = raw.includes(',') || raw.includes(';') || raw.includes('\t') || raw.startsWith('"') ? csvCells(raw) : [raw];
    out.push({ line: i + 1, address: (cells[column] ?? '').trim() });
  }
  return out;
}

/** Splits the lines into requests of at most `max` items and about `maxChars` characters of addresses (the API's body limit). */
export function chunkLines(lines: UploadLine[], max: number, maxChars = 500_000): UploadLine[][] {
  const chunks: UploadLine[][] = [];
  let cur: UploadLine[] = [];
  let chars = 0;
  for (const l of lines) {
    if (cur.length >= max || (cur.length > 0 && chars + l.address.length > maxChars)) {
      chunks.push(cur);
      cur = [];
      chars = 0;
    }
    cur.push(l);
    chars += l.address.length + 8;
  }
  if (cur.length > 0) chunks.push(cur);
  return chunks;
}
