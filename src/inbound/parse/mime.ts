/**
 * Streams one raw message through mailparser's MailParser and keeps what the Inbound payload needs:
 * decoded text and HTML with the charsets their parts declared, addresses, every attachment with its
 * own header lines and content already base64-encoded (so the JSON writer copies bytes, never
 * builds one more 50 MB string), and the faults seen on the way for ErrorLog.
 *
 * MailParser tolerates broken MIME silently (a missing closing boundary, junk in base64), so the
 * faults a receiver should hear about are noticed here: on the way into each part's decoder and
 * against the boundaries the multipart parts declared.
 */
import { MailParser, type AddressObject, type AttachmentStream, type MessageText } from 'mailparser';
import { Writable } from 'node:stream';
import { parseHeaderLines, type RawHeader } from './raw-headers.js';

export interface ParsedAttachment {
  name: string | null;
  contentType: string;
  contentId: string | null;
  disposition: string | null;
  headers: RawHeader[];
  /** The decoded content as base64 text (ASCII bytes), in pieces. */
  base64: Buffer[];
}

export interface ParsedMime {
  subject: string | null;
  from: AddressObject | null;
  to: AddressObject[];
  cc: AddressObject[];
  bcc: AddressObject[];
  replyTo: AddressObject | null;
  text: string | null;
  html: string | null;
  textCharset: string | null;
  htmlCharset: string | null;
  attachments: ParsedAttachment[];
  errors: string[];
}

/** What mailsplit tells about a part (the fields used here; mailparser does not type them). */
interface SplitNode {
  root: boolean;
  contentType: string | false;
  charset: string | false;
  encoding: string | false;
  multipart: string | false;
  _boundary: Buffer | false;
  headers: { build(): Buffer };
}
interface ParserNode {
  node: SplitNode;
  contentType: string;
  charset?: string;
  disposition?: string;
  isAttachment?: boolean;
  headers: unknown;
  decoder?: { write(chunk: Buffer): boolean; on(event: 'finish', fn: () => void): unknown };
}

const BASE64_JUNK = /[^A-Za-z0-9+/=\s]/;

/** MailParser, told about every part as it is created (createNode is MailParser's own hook point). */
class PartAwareParser extends MailParser {
  readonly partHeaders = new WeakMap<object, RawHeader[]>();
  readonly boundaries: Buffer[] = [];
  readonly faults: string[] = [];
  textCharset: string | null = null;
  htmlCharset: string | null = null;
  hasTextPart = false;
  hasHtmlPart = false;
  private partCount = 0;

  createNode(data: SplitNode): ParserNode {
    const create = (MailParser.prototype as unknown as { createNode(d: SplitNode): ParserNode }).createNode;
    const node = create.call(this, data);
    const part = ++this.partCount;
    if (data._boundary) this.boundaries.push(data._boundary);
    if (data.multipart) return node;
    const { headers } = parseHeaderLines(data.headers.build().toString('utf8'));
    this.partHeaders.set(node.headers as object, headers);
    if (!node.isAttachment) {
      const charset = (node.charset ?? 'us-ascii').toLowerCase();
      if (node.contentType === 'text/plain' && !this.hasTextPart) { this.hasTextPart = true; this.textCharset = charset; }
      if (node.contentType === 'text/html' && !this.hasHtmlPart) { this.hasHtmlPart = true; this.htmlCharset = charset; }
    }
    if (data.encoding === 'base64' && node.decoder) this.watchBase64(node.decoder, part);
    return node;
  }

  /** libbase64 skips characters outside the alphabet and a cut-off last quantum without a word. */
  private watchBase64(decoder: NonNullable<ParserNode['decoder']>, part: number): void {
    const write = decoder.write.bind(decoder);
    let symbols = 0;
    let junk = false;
    decoder.write = (chunk: Buffer) => {
      const text = chunk.toString('latin1');
      if (!junk && BASE64_JUNK.test(text)) {
        junk = true;
        this.faults.push(`MIME part ${part}: base64 content has characters outside the base64 alphabet`);
      }
      symbols += text.replace(/[^A-Za-z0-9+/=]/g, '').length;
      return write(chunk);
    };
    decoder.on('finish', () => {
      if (symbols % 4 !== 0) this.faults.push(`MIME part ${part}: base64 content is truncated (${symbols} symbols, not a multiple of 4)`);
    });
  }
}

/** A stream that base64-encodes what it is given, in whole 3-byte groups, into ASCII pieces. */
class Base64Collector extends Writable {
  readonly pieces: Buffer[] = [];
  private rest: Buffer = Buffer.alloc(0);
  override _write(chunk: Buffer, _enc: BufferEncoding, done: () => void): void {
    const data = this.rest.length > 0 ? Buffer.concat([this.rest, chunk]) : chunk;
    const whole = data.length - (data.length % 3);
    if (whole > 0) this.pieces.push(Buffer.from(data.subarray(0, whole).toString('base64'), 'latin1'));
    this.rest = Buffer.from(data.subarray(whole));
    done();
  }
  override _final(done: () => void): void {
    if (this.rest.length > 0) this.pieces.push(Buffer.from(this.rest.toString('base64'), 'latin1'));
    done();
  }
}

const list = (v: AddressObject | AddressObject[] | undefined): AddressObject[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

/** Feeds `raw` to the parser in slices, so no single step holds the thread for a whole 50 MB. */
const SLICE = 256 * 1024;

export async function parseMime(raw: Buffer): Promise<ParsedMime> {
  const parser = new PartAwareParser({
    skipHtmlToText: true,
    skipTextToHtml: true,
    skipImageLinks: true,
    skipTextLinks: true,
    checksumAlgo: false,
    maxHeadSize: 4 * 1024 * 1024,
  });
  const attachments: ParsedAttachment[] = [];
  const errors: string[] = [];
  let textData: MessageText | null = null;

  const done = new Promise<void>((resolve) => {
    parser.on('data', (data: AttachmentStream | MessageText) => {
      if (data.type === 'text') { textData = data; return; }
      const sink = new Base64Collector();
      const att: ParsedAttachment = {
        name: data.filename ?? null,
        contentType: data.contentType,
        contentId: data.contentId ?? null,
        disposition: data.contentDisposition ?? null,
        headers: parser.partHeaders.get(data.headers as object) ?? [],
        base64: sink.pieces,
      };
      attachments.push(att);
      data.content.on('error', (err: Error) => errors.push(`attachment ${attachments.length}: ${err.message}`));
      sink.on('finish', () => data.release?.());
      data.content.pipe(sink);
    });
    parser.on('error', (err: Error) => { errors.push(`MIME: ${err.message}`); resolve(); });
    parser.on('end', () => resolve());
  });

  // Back-pressure from the parser paces the writes; errors end the loop (best effort keeps what came).
  let failed = false;
  parser.once('error', () => { failed = true; });
  for (let off = 0; off < raw.length && !failed; off += SLICE) {
    if (!parser.write(raw.subarray(off, off + SLICE))) {
      await new Promise<void>((r) => { const go = () => { parser.off('error', go); r(); }; parser.once('drain', go); parser.once('error', go); });
    }
  }
  if (!failed) parser.end();
  await done;

  const t = textData as MessageText | null;
  errors.push(...parser.faults);
  for (const b of parser.boundaries) {
    if (raw.indexOf(Buffer.concat([Buffer.from('--'), b, Buffer.from('--')])) < 0) {
      errors.push(`MIME: multipart boundary "${b.toString('latin1')}" is never closed`);
    }
  }
  return {
    subject: parser.subject ?? null,
    from: parser.from ?? null,
    to: list(parser.to),
    cc: list(parser.cc),
    bcc: list(parser.bcc),
    replyTo: parser.replyTo ?? null,
    text: parser.hasTextPart ? (t?.text ?? '') : null,
    html: parser.hasHtmlPart ? (t?.html ?? '') : null,
    textCharset: parser.textCharset,
    htmlCharset: parser.htmlCharset,
    attachments,
    errors,
  };
}
