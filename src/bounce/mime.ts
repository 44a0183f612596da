/**
 * The one place the bounce reader reads MIME (through postal-mime, the project's one MIME parser):
 * an inbound message becomes its top-level headers, its human-readable text and its
 * machine-readable parts, decoded. Nothing here decides what the message is.
 */
import PostalMime from 'postal-mime';
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
  /** Parts kept apart from the text: the report parts and attached messages. */
  parts: ReportPart[];
  /** A multipart message whose closing boundary ("--boundary--") never comes: cut off in transit or storage. */
  truncated: boolean;
}

/**
 * Every message/rfc822 part stays one attachment with its headers (forceRfc822Attachments), instead
 * of its body being merged into the text and the headers that trace a report to its recipient
 * lost (AOL and others attach the original inline). postal-mime keeps message/delivery-status and
 * message/feedback-report apart from the text by itself.
 */
const PARSER_OPTIONS = { attachmentEncoding: 'arraybuffer', rfc822Attachments: true, forceRfc822Attachments: true } as const;

/** Reads one message; input that is not a readable message yields an empty one, never a throw. */
export async function readMessage(raw: Buffer | string): Promise<ReportMessage> {
  let mail: Awaited<ReturnType<typeof PostalMime.parse>>;
  try {
    mail = await PostalMime.parse(raw, PARSER_OPTIONS);
  } catch {
    return { headers: [], subject: '', reportType: null, text: '', parts: [], truncated: false };
  }
  const headers = (mail.headerLines ?? []).map(({ line }) => headerFieldOf(line)).filter((f): f is HeaderField => f !== null);
  const contentType = headers.find((f) => f.name.toLowerCase() === 'content-type')?.value ?? '';
  const reportType = /;\s*report-type\s*=\s*"?([^";\s]+)/i.exec(contentType)?.[1];
  const text = mail.text ?? '';
  return {
    headers,
    subject: typeof mail.subject === 'string' ? mail.subject : '',
    reportType: reportType === undefined ? null : reportType.toLowerCase(),
    text: text !== '' ? text : mail.attachments.length === 0 ? rawBodyOf(raw) : '',
    parts: mail.attachments.map((a) => ({ contentType: a.mimeType.toLowerCase(), text: Buffer.from(a.content as ArrayBuffer).toString('utf8') })),
    truncated: isTruncated(raw, contentType),
  };
}

/** "Subject: a\r\n b" -> { name: 'Subject', value: 'a b' }. */
function headerFieldOf(line: string): HeaderField | null {
  const colon = line.indexOf(':');
  if (colon <= 0) return null;
  return {
    name: line.slice(0, colon).trim(),
    value: line
      .slice(colon + 1)
      .replace(/\r?\n(?=[ \t])/g, '')
      .trim(),
  };
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
