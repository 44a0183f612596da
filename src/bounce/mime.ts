/**
 * The one place that reads MIME (through mailparser): an inbound message becomes its top-level
 * headers, its human-readable text and its machine-readable parts, decoded. Nothing here decides
 * what the message is.
 */
import { simpleParser, type SimpleParserOptions } from 'mailparser';
import type { HeaderField } from './types.js';

export interface ReportPart {
  /** Lower-case media type, e.g. "message/delivery-status". */
  contentType: string;
  /** The decoded body as text. */
  text: string;
}

export interface ReportMessage {
  headers: HeaderField[];
  /** Decoded Subject, or ''. */
  subject: string;
  /** Lower-case report-type parameter of a multipart/report, else null. */
  reportType: string | null;
  /** The human-readable text parts, decoded (HTML-only messages converted to text). */
  text: string;
  /** Parts mailparser keeps apart from the text: the report parts and attached messages. */
  parts: ReportPart[];
  /** A multipart message whose closing boundary ("--boundary--") never comes: cut off in transit or storage. */
  truncated: boolean;
}

/**
 * - keepDeliveryStatus keeps message/delivery-status apart instead of appending it to the text;
 * - ignoreEmbedded keeps an inline message/rfc822 part as one part with its headers, instead of
 *   merging its body into the text and losing the headers that trace a report to its recipient
 *   (AOL and others attach the original inline).
 */
const PARSER_OPTIONS: SimpleParserOptions = {
  keepDeliveryStatus: true,
  ignoreEmbedded: true,
  skipTextToHtml: true,
  skipImageLinks: true,
};

/** Reads one message; input that is not a readable message yields an empty one, never a throw. */
export async function readMessage(raw: Buffer | string): Promise<ReportMessage> {
  let mail: Awaited<ReturnType<typeof simpleParser>>;
  try {
    mail = await simpleParser(raw, PARSER_OPTIONS);
  } catch {
    return { headers: [], subject: '', reportType: null, text: '', parts: [], truncated: false };
  }
  const headers = (mail.headerLines ?? []).map(({ line }) => headerFieldOf(line)).filter((f): f is HeaderField => f !== null);
  const contentType = headers.find((f) => f.name.toLowerCase() === 'content-type')?.value ?? '';
  const reportType = /;\s*report-type\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  return {
    headers,
    subject: typeof mail.subject === 'string' ? mail.subject : '',
    reportType: reportType === undefined ? null : reportType.toLowerCase(),
    text: typeof mail.text === 'string' && mail.text !== '' ? mail.text : mail.attachments.length === 0 ? rawBodyOf(raw) : '',
    parts: mail.attachments.map((a) => ({ contentType: a.contentType.toLowerCase(), text: a.content.toString('utf8') })),
    truncated: isTruncated(raw, contentType),
  };
}

/** "Subject: a\r\n b" -> { name: 'Subject', value: 'a b' }. */
function headerFieldOf(line: string): HeaderField | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  return { name: line.slice(0, colon).trim(), value: line.slice(colon + 1).replace(/\r?\n(?=[ \t])/g, '').trim() };
}

/** True for a multipart message without its closing boundary line. */
function isTruncated(raw: Buffer | string, contentType: string): boolean {
  if (!/^\s*multipart\//i.test(contentType)) return false;
  const boundary = /;\s*boundary\s*=\s*(?:"([^"]+)"|([^\s;]+))/i.exec(contentType);
  if (!boundary) return false;
  const closing = `--${boundary[1] ?? boundary[2]}--`;
  return typeof raw === 'string' ? !raw.includes(closing) : !raw.includes(closing, 0, 'latin1');
}

/**
 * The body as it arrived, for a message whose MIME structure gave nothing (a multipart whose
 * boundary parameter matches no delimiter line, say): the report is still there as text.
 */
function rawBodyOf(raw: Buffer | string): string {
  const text = typeof raw === 'string' ? raw : raw.toString('utf8');
  const end = text.search(/\r?\n\r?\n/);
  return end < 0 ? '' : text.slice(end).trim();
}
