/**
 * The header section of a message (or of a MIME part) as it arrived: every field in order, repeats
 * kept, values unfolded but otherwise raw (encoded-words stay encoded). Inbound receivers get this
 * list as `CustomHeaders`, so nothing may be dropped, merged or re-encoded here.
 */

export interface RawHeader {
  Name: string;
  Value: string | null;
}

export interface RawHeaderBlock {
  headers: RawHeader[];
  /** Lines that were neither a field nor a continuation, for ErrorLog (1-based line numbers). */
  garbage: string[];
  /** Where the body starts (after the blank line), or the input length when there is none. */
  bodyOffset: number;
}

/** A field name: printable ASCII except ':' (RFC 5322 ftext), then optional blanks before ':'. */
const FIELD_LINE = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:(.*)$/s;

/** Header bytes are UTF-8 (RFC 6532) or, from older senders, raw 8-bit text: never fail on them. */
const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Index just past the blank line that ends the header block at the start of `raw`. */
function headerEnd(raw: Uint8Array): { end: number; body: number } {
  // A message that starts with a blank line has no headers at all.
  if (raw[0] === 0x0a) return { end: 0, body: 1 };
  if (raw[0] === 0x0d && raw[1] === 0x0a) return { end: 0, body: 2 };
  for (let i = raw.indexOf(0x0a); i >= 0; i = raw.indexOf(0x0a, i + 1)) {
    if (raw[i + 1] === 0x0a) return { end: i + 1, body: i + 2 };
    if (raw[i + 1] === 0x0d && raw[i + 2] === 0x0a) return { end: i + 1, body: i + 3 };
  }
  return { end: raw.length, body: raw.length };
}

/** Splits the header block at the start of `raw` into fields. */
export function readHeaderBlock(raw: Uint8Array): RawHeaderBlock {
  const { end, body } = headerEnd(raw);
  return { ...parseHeaderLines(utf8.decode(raw.subarray(0, end))), bodyOffset: body };
}

/**
 * Parses header text (lines ending in CRLF or LF). Unfolding removes the line breaks before
 * continuation lines and keeps their whitespace (RFC 5322 §2.2.3); the space after the colon is
 * not part of the value. An empty value is reported as null, as SocketLabs does.
 */
export function parseHeaderLines(text: string): { headers: RawHeader[]; garbage: string[] } {
  const headers: RawHeader[] = [];
  const garbage: string[] = [];
  const raw: { name: string; value: string }[] = [];
  const lines = text.split(/\r?\n/);
  if (lines[lines.length - 1] === '') lines.pop();
  lines.forEach((line, i) => {
    const last = raw[raw.length - 1];
    if (/^[ \t]/.test(line) && last) {
      last.value += line;
      return;
    }
    const m = FIELD_LINE.exec(line);
    if (m) raw.push({ name: m[1]!, value: m[2]! });
    else garbage.push(`header line ${i + 1} is not a field: ${JSON.stringify(line.slice(0, 80))}`);
  });
  for (const f of raw) {
    const value = f.value.replace(/^[ \t]+/, '').replace(/[ \t]+$/, '');
    headers.push({ Name: f.name, Value: value === '' ? null : value });
  }
  return { headers, garbage };
}

/** The first value of a header, matched case-insensitively, or null. */
export function headerValue(headers: readonly RawHeader[], name: string): string | null {
  const lower = name.toLowerCase();
  return headers.find((h) => h.Name.toLowerCase() === lower)?.Value ?? null;
}
