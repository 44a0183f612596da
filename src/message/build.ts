import type { AddressResult, MessageErrorCode } from '../core/injection-codes.js';
import { isValidEmailAddress } from '../core/address.js';
import { newId } from '../core/ids.js';
import type { MailAddress, MailAttachment, MailHeader, MergeField, NewMessage, NewRecipient } from '../core/message.js';
import {
  MAX_HEADER_NAME_LENGTH,
  MAX_HEADER_VALUE_LENGTH,
  MAX_MERGE_FIELD_NAME_LENGTH,
  MAX_MERGE_VALUE_LENGTH,
  MAX_MESSAGE_SIZE_BYTES,
} from '../core/limits.js';
import { buildMergeLookup, hasPlaceholders, renderHeader, compileTemplate, type MergeLookup } from '../merge/template.js';
import { InvalidDataError, type RawAddress, type RawHeader, type RawMessage } from './normalize.js';
import type { TemplateContent } from '../store/store.js';
import { requestedTemplate, withTemplateContent } from './api-template.js';

/** Header names a sender may not set: Postline writes them from the message's own fields, and a
 *  second copy would make the message ambiguous or malformed. */
const RESERVED_HEADERS = new Set([
  'from',
  'to',
  'cc',
  'bcc',
  'subject',
  'date',
  'reply-to',
  'return-path',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);
/** Header names only Postline (or the receiving MTAs) may write: a sender's copy would forge a
 *  signature, an authentication verdict or a trace line receivers trust, or (Message-ID, by which
 *  bounces and replies are traced back to a recipient) be silently replaced. */
const POSTLINE_OWNED_HEADERS = new Map([
  ['dkim-signature', "Postline signs with the sending domain's DKIM keys"],
  ['arc-seal', 'ARC headers are added by forwarding servers'],
  ['arc-message-signature', 'ARC headers are added by forwarding servers'],
  ['arc-authentication-results', 'ARC headers are added by forwarding servers'],
  ['authentication-results', 'authentication results are written by the receiving server'],
  ['received', 'trace lines are written by the servers that relay the message'],
  ['message-id', 'Postline sets it per recipient to trace bounces and replies; use MessageId for your own id'],
]);
const HEADER_NAME = /^[\x21-\x39\x3b-\x7e]+$/; // printable ASCII except ':' (RFC 5322 ftext)
const CHARSET = /^[A-Za-z0-9._:+-]{1,40}$/;
const CONTENT_TYPE = /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+$/;
const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;
const MAX_ID_LENGTH = 255;

export type BuildResult =
  | { kind: 'accepted'; message: NewMessage; rejected: AddressResult[] }
  | { kind: 'rejected'; code: MessageErrorCode; rejected: AddressResult[]; reason: string };

const utf8 = (s: string | null): number => (s === null ? 0 : Buffer.byteLength(s, 'utf8'));

/** Request-level checks that SocketLabs answers for the whole request. */
export function metadataAndTagsBytes(m: RawMessage): number {
  return m.metadata.reduce((n, kv) => n + utf8(kv.key) + utf8(kv.value), 0) + m.tags.reduce((n, t) => n + utf8(t), 0);
}
export function recipientCount(m: RawMessage): number {
  return m.perMessage !== null && m.perMessage.length > 0 ? m.perMessage.length : m.to.length + m.cc.length + m.bcc.length;
}

/** CR/LF in a header is an injection attempt or a bug: refused, never passed on. */
function checkHeaders(list: RawHeader[], path: string): MailHeader[] {
  return list.map((h, i) => {
    const name = h.name.trim();
    if (!HEADER_NAME.test(name) || name.length > MAX_HEADER_NAME_LENGTH) {
      throw new InvalidDataError(`${path}[${i}].Name`, 'must be 1-76 printable ASCII characters without ":"');
    }
    if (RESERVED_HEADERS.has(name.toLowerCase())) {
      throw new InvalidDataError(`${path}[${i}].Name`, `"${name}" is set from the message's own fields and cannot be a custom header`);
    }
    const owned = POSTLINE_OWNED_HEADERS.get(name.toLowerCase());
    if (owned !== undefined) throw new InvalidDataError(`${path}[${i}].Name`, `"${name}" cannot be a custom header: ${owned}`);
    if (/[\r\n\0]/.test(h.value)) throw new InvalidDataError(`${path}[${i}].Value`, 'must not contain CR, LF or NUL');
    if (h.value.length > MAX_HEADER_VALUE_LENGTH) throw new InvalidDataError(`${path}[${i}].Value`, 'is too long');
    return { name, value: h.value };
  });
}

/** Display names may arrive with line breaks from sloppy templates; fold them rather than refuse. */
const oneLine = (s: string | null): string | null => (s === null ? null : s.replace(/[\r\n]+/g, ' '));
const toMail = (a: RawAddress): MailAddress => ({ email: a.email, name: oneLine(a.name) });

function mergeFields(rows: { field: string; value: unknown }[]): MergeField[] | string {
  const out: MergeField[] = [];
  for (const r of rows) {
    if (typeof r.value !== 'string') return `merge field "${r.field}" has a non-string value`;
    if (r.field.trim() === '' || r.field.length > MAX_MERGE_FIELD_NAME_LENGTH || /[%\r\n]/.test(r.field)) {
      return `merge field name "${r.field}" is empty, too long or contains %, CR or LF`;
    }
    if (r.value.length > MAX_MERGE_VALUE_LENGTH) return `merge field "${r.field}" value is too long`;
    out.push({ field: r.field, value: r.value });
  }
  return out;
}

function decodedBase64Length(b64: string): number | null {
  const s = b64.replace(/[\r\n\t ]+/g, '');
  if (s.length % 4 !== 0 || !BASE64.test(s)) return null;
  return (s.length / 4) * 3 - (s.endsWith('==') ? 2 : s.endsWith('=') ? 1 : 0);
}

/**
 * Validates one message and builds what the store keeps: the template once, plus a recipient row
 * per delivery. Throws InvalidDataError for malformed input that fails the whole request.
 * `templates` holds the stored templates the request's ApiTemplate ids name (api-template.ts);
 * an id missing from it is InvalidTemplateId.
 */
export function buildMessage(
  sent: RawMessage,
  index: number,
  serverId: number,
  now: number,
  templates: ReadonlyMap<string, TemplateContent> = new Map(),
): BuildResult {
  const p = `Messages[${index}]`;
  const templateId = requestedTemplate(sent);
  const template = templateId === null ? undefined : templates.get(templateId);
  const raw = template === undefined ? sent : withTemplateContent(sent, template);
  const headers = checkHeaders(raw.headers, `${p}.CustomHeaders`);
  if (raw.charset !== null && !CHARSET.test(raw.charset)) throw new InvalidDataError(`${p}.Charset`, 'is not a charset name');
  for (const [v, name] of [
    [raw.messageId, 'MessageId'],
    [raw.mailingId, 'MailingId'],
  ] as const) {
    if (v !== null && (v.length > MAX_ID_LENGTH || /[\r\n\0]/.test(v))) {
      throw new InvalidDataError(`${p}.${name}`, `must be at most ${MAX_ID_LENGTH} characters on one line`);
    }
  }
  const reject = (code: MessageErrorCode, reason: string, rejected: AddressResult[] = []): BuildResult => ({ kind: 'rejected', code, rejected, reason });

  const global = mergeFields(raw.global);
  if (typeof global === 'string') return reject('InvalidMergeData', global);
  const globalLookup = buildMergeLookup(undefined, global);

  if (raw.from === null) return reject('InvalidFrom', 'From is missing');
  const fromRendered = renderHeader(compileTemplate(raw.from.email), globalLookup);
  if (!hasPlaceholders(fromRendered) && !isValidEmailAddress(fromRendered)) return reject('InvalidFrom', `From "${raw.from.email}" is not a valid address`);
  if (raw.replyTo !== null && !hasPlaceholders(raw.replyTo.email) && !isValidEmailAddress(raw.replyTo.email)) {
    return reject('InvalidFrom', `ReplyTo "${raw.replyTo.email}" is not a valid address`);
  }
  const subject = oneLine(raw.subject);
  if (subject === null || subject.trim() === '') return reject('EmptySubject', 'Subject is empty');
  if (templateId !== null && template === undefined) return reject('InvalidTemplateId', `template ${templateId} does not exist`);
  if (template !== undefined && (raw.textBody ?? '') === '' && (raw.htmlBody ?? '') === '') {
    return reject('TemplateHasNoContent', `template ${templateId} has neither TextBody nor HtmlBody`);
  }
  if ((raw.textBody ?? '') === '' && (raw.htmlBody ?? '') === '') return reject('NoValidBodyParts', 'neither TextBody nor HtmlBody is set');

  const attachments: MailAttachment[] = [];
  let size = utf8(subject) + utf8(raw.textBody) + utf8(raw.htmlBody) + utf8(raw.ampBody) + headers.reduce((n, h) => n + utf8(h.name) + utf8(h.value) + 4, 0);
  for (const [i, a] of raw.attachments.entries()) {
    const ap = `${p}.Attachments[${i}]`;
    if (a.name === null || a.name.trim() === '' || /[\r\n\0]/.test(a.name)) return reject('InvalidAttachment', `${ap}.Name is missing or not one line`);
    const contentType = (a.contentType ?? 'application/octet-stream').trim();
    if (!CONTENT_TYPE.test(contentType)) return reject('InvalidAttachment', `${ap}.ContentType "${contentType}" is not a MIME type`);
    // An attachment without Content is what the official Node client's own "invalid attachment" example sends.
    if (a.content === null) return reject('InvalidAttachment', `${ap}.Content is missing`);
    const bytes = decodedBase64Length(a.content);
    if (bytes === null) return reject('InvalidAttachment', `${ap}.Content is not valid base64`);
    if (a.contentId !== null && /[\r\n\0<>\s]/.test(a.contentId)) return reject('InvalidAttachment', `${ap}.ContentId must be one token without <>`);
    attachments.push({
      name: a.name,
      contentType,
      contentId: a.contentId === null || a.contentId === '' ? null : a.contentId,
      content: a.content.replace(/[\r\n\t ]+/g, ''),
      headers: checkHeaders(a.headers, `${ap}.CustomHeaders`),
    });
    size += bytes;
  }
  if (size > MAX_MESSAGE_SIZE_BYTES) return reject('MessageTooLarge', `message is ${size} bytes, the limit is ${MAX_MESSAGE_SIZE_BYTES}`);

  const rejected: AddressResult[] = [];
  const recipients: NewRecipient[] = [];
  const seen = new Set<string>();
  // Compiled once: a bulk merge renders these for every one of up to 10,000 rows.
  const mailingIdTemplate = raw.mailingId === null ? null : compileTemplate(raw.mailingId);
  const messageIdTemplate = raw.messageId === null ? null : compileTemplate(raw.messageId);
  const addRecipient = (address: string, kind: NewRecipient['kind'], merge: MergeField[] | null, lookup: MergeLookup): void => {
    const key = address.toLowerCase();
    if (seen.has(key)) return; // one delivery per address, as one SMTP envelope would
    seen.add(key);
    recipients.push({
      id: newId(now),
      address,
      kind,
      merge,
      mailingId: mailingIdTemplate === null ? null : renderHeader(mailingIdTemplate, lookup),
      messageId: messageIdTemplate === null ? null : renderHeader(messageIdTemplate, lookup),
    });
  };

  const isMerge = raw.perMessage !== null && raw.perMessage.length > 0;
  if (isMerge) {
    for (const row of raw.perMessage!) {
      const fields = mergeFields(row);
      if (typeof fields === 'string') return reject('InvalidMergeData', fields);
      const delivery = fields.find((f) => f.field.toLowerCase() === 'deliveryaddress');
      if (!delivery) return reject('InvalidMergeData', 'a PerMessage row has no DeliveryAddress');
      const addr = delivery.value.trim();
      if (!isValidEmailAddress(addr)) {
        rejected.push({ EmailAddress: delivery.value, Accepted: false, ErrorCode: 'InvalidAddress' });
        continue;
      }
      addRecipient(addr, 'merge', fields, buildMergeLookup(fields, global));
    }
  } else {
    if (raw.to.length + raw.cc.length + raw.bcc.length === 0) return reject('EmptyToAddress', 'To, Cc and Bcc are all empty');
    for (const [kind, list] of [
      ['to', raw.to],
      ['cc', raw.cc],
      ['bcc', raw.bcc],
    ] as const) {
      for (const a of list) {
        const addr = renderHeader(compileTemplate(a.email), globalLookup);
        if (!isValidEmailAddress(addr)) {
          rejected.push({ EmailAddress: a.email, Accepted: false, ErrorCode: 'InvalidAddress' });
          continue;
        }
        addRecipient(addr, kind, null, globalLookup);
      }
    }
  }
  if (recipients.length === 0) return reject('NoValidRecipients', 'no recipient address is valid', rejected);

  return {
    kind: 'accepted',
    rejected,
    message: {
      id: newId(now),
      serverId,
      createdAt: now,
      source: 'api',
      isMerge,
      sizeBytes: size,
      metadata: raw.metadata,
      tags: raw.tags,
      recipients,
      template: {
        from: toMail(raw.from),
        replyTo: raw.replyTo && toMail(raw.replyTo),
        to: raw.to.map(toMail),
        cc: raw.cc.map(toMail),
        bcc: raw.bcc.map(toMail),
        subject,
        textBody: raw.textBody,
        htmlBody: raw.htmlBody,
        ampBody: raw.ampBody,
        charset: raw.charset,
        headers,
        attachments,
        messageId: raw.messageId,
        mailingId: raw.mailingId,
        globalMerge: global,
      },
    },
  };
}
