/**
 * How a message template is stored in `message_bodies`: the template as JSON text in `content`,
 * and a relayed message's raw MIME as bytes in `raw_mime` (BLOB on SQLite, bytea on PostgreSQL).
 * JSON text cannot carry bytes that are not UTF-8 (an ISO-8859-1 or Shift_JIS body sent as 8bit),
 * so the raw MIME stays out of it and is delivered byte for byte.
 */
import type { MessageTemplate } from '../core/message.js';

export interface MessageBodyRow {
  message_id: string;
  content: string;
  raw_mime: Buffer | null;
}

export function messageBodyRow(messageId: string, t: MessageTemplate): MessageBodyRow {
  const { rawMime, ...rest } = t;
  return { message_id: messageId, content: JSON.stringify(rest), raw_mime: rawMime ?? null };
}

/**
 * The template back from its row. Rows written before the raw_mime column held the raw MIME as a
 * JSON string in `content`; it was accepted only as valid UTF-8, so its UTF-8 encoding is exactly
 * the bytes that were submitted.
 */
export function templateFromBody(content: string, rawMime: Uint8Array | null): MessageTemplate {
  const { rawMime: legacy, ...t } = JSON.parse(content) as Omit<MessageTemplate, 'rawMime'> & { rawMime?: string | null };
  if (rawMime !== null) return { ...t, rawMime: Buffer.isBuffer(rawMime) ? rawMime : Buffer.from(rawMime.buffer, rawMime.byteOffset, rawMime.byteLength) };
  return typeof legacy === 'string' ? { ...t, rawMime: Buffer.from(legacy, 'utf8') } : t;
}
