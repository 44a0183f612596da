/**
 * Parses one raw message with postal-mime and keeps what the Inbound payload needs: decoded text
 * and HTML with the charsets their parts declared, addresses, every attachment with its own header
 * lines and decoded content, and the faults seen on the way for ErrorLog.
 *
 * postal-mime rather than mailparser: it took half the CPU and made far less garbage
 * (BENCHMARKS.md). Its fast paths and the part tree read here are in src/patches/postal-mime.ts.
 *
 * postal-mime tolerates broken MIME silently (a missing closing boundary, junk in base64), so the
 * faults a receiver should hear about are found here: by the base64 decoder (with the library
 * patches on), and by looking for the closing line of every boundary a multipart part declared.
 */
import type { Address, Attachment } from 'postal-mime';
import { BASE64_FAULT, installPostalMimePatches, PartAwareParser, partsInOrder, type ParserInternals } from '../../patches/postal-mime.js';
import { parseHeaderLines, type RawHeader } from './raw-headers.js';

await installPostalMimePatches();

export type MimeAddress = Address;

export interface ParsedAttachment {
  name: string | null;
  contentType: string;
  contentId: string | null;
  disposition: string | null;
  headers: RawHeader[];
  /** The decoded content. */
  content: Buffer;
}

export interface ParsedMime {
  subject: string | null;
  from: MimeAddress | null;
  to: MimeAddress[];
  cc: MimeAddress[];
  bcc: MimeAddress[];
  replyTo: MimeAddress[];
  text: string | null;
  html: string | null;
  textCharset: string | null;
  htmlCharset: string | null;
  attachments: ParsedAttachment[];
  errors: string[];
}

/** Header blocks beyond this are refused by postal-mime (its default is 2 MB). */
const MAX_HEADERS_BYTES = 4 * 1024 * 1024;

const bytesOf = (c: Attachment['content']): Buffer =>
  typeof c === 'string' ? Buffer.from(c, 'utf8') : c instanceof ArrayBuffer ? Buffer.from(c) : Buffer.from(c.buffer, c.byteOffset, c.byteLength);

export async function parseMime(raw: Buffer): Promise<ParsedMime> {
  const parser = new PartAwareParser({ attachmentEncoding: 'arraybuffer', rfc822Attachments: true, maxHeadersSize: MAX_HEADERS_BYTES });
  const email = await parser.parse(raw);
  const internals = parser as unknown as ParserInternals;
  const parts = partsInOrder(internals.root);

  const errors: string[] = [];
  let textCharset: string | null = null;
  let htmlCharset: string | null = null;
  parts.forEach((node, i) => {
    const fault = node[BASE64_FAULT];
    if (fault?.junk) errors.push(`MIME part ${i + 1}: base64 content has characters outside the base64 alphabet`);
    if (fault && fault.symbols % 4 !== 0) errors.push(`MIME part ${i + 1}: base64 content is truncated (${fault.symbols} symbols, not a multiple of 4)`);
    if (node.contentType.multipart) {
      const boundary = node.contentType.parsed.params.boundary;
      if (boundary && raw.indexOf(`--${boundary}--`, 0, 'latin1') < 0) errors.push(`MIME: multipart boundary "${boundary}" is never closed`);
      return;
    }
    if (!internals.isInlineTextNode(node)) return;
    const type = node.contentType.parsed.value;
    const charset = (node.contentType.parsed.params.charset ?? 'us-ascii').toLowerCase();
    if (type === 'text/plain' && textCharset === null) textCharset = charset;
    if (type === 'text/html' && htmlCharset === null) htmlCharset = charset;
  });

  const attachments = email.attachments.map((a): ParsedAttachment => {
    const node = parser.partOf.get(a);
    return {
      name: a.filename,
      contentType: a.mimeType,
      contentId: a.contentId ?? null,
      disposition: a.disposition,
      headers: node ? parseHeaderLines(node.rawHeaderLines.map((l) => l.line).join('\n')).headers : [],
      content: bytesOf(a.content),
    };
  });
  return {
    subject: email.subject ?? null,
    from: email.from ?? null,
    to: email.to ?? [],
    cc: email.cc ?? [],
    bcc: email.bcc ?? [],
    replyTo: email.replyTo ?? [],
    text: email.text ?? null,
    html: email.html ?? null,
    textCharset: email.text !== undefined ? (textCharset ?? 'us-ascii') : null,
    htmlCharset: email.html !== undefined ? (htmlCharset ?? 'us-ascii') : null,
    attachments,
    errors,
  };
}
