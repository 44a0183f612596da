/**
 * Turns a message received over SMTP into the NewMessage the accept path commits. Only the header
 * section is read (a full MIME parse of a 30 MB message would cost more than the commit); the body
 * is kept byte for byte, and delivered as submitted. Bytes in any charset are taken (8BITMIME is
 * advertised: an ISO-8859-1 or Shift_JIS body sent as 8bit, even bytes valid in no charset): the
 * message is handled as a latin1 string, one character per byte, so nothing is re-encoded, and
 * stored as bytes (store/message-body.ts).
 *
 * What changes on the way in, and why:
 * - Line ends: a bare CR or bare LF becomes CRLF (RFC 5322 allows CR and LF only together; passing
 *   a bare one on lets receivers disagree about where headers end).
 * - X-xsMessageId / X-xsMailingId (SocketLabs' SMTP convention) become the recipients' MessageId and
 *   MailingId and are removed; Bcc is removed so blind recipients stay blind.
 * - Date, Message-ID and, when missing, From (from MAIL FROM) are added: RFC 6409 section 8 lets a
 *   submission server complete a message, and large receivers refuse mail without a Message-ID.
 */
import { isUtf8 } from 'node:buffer';
import addressparser from 'nodemailer/lib/addressparser';
import { isValidEmailAddress } from '../core/address.js';
import { newId } from '../core/ids.js';
import type { MailAddress, NewMessage, NewRecipient } from '../core/message.js';

/** Same bound as the Injection API's MessageId / MailingId. */
const MAX_ID_LENGTH = 255;
const HEADER_FIELD = /^([\x21-\x39\x3b-\x7e]+)[ \t]*:/; // printable ASCII name, then ':' (obs-FWS allowed)
const REMOVED_HEADERS = new Set(['x-xsmessageid', 'x-xsmailingid', 'bcc']);
const ENCODED_WORD = /=\?([^?\s]+)\?([BbQq])\?([^?\s]*)\?=/g;

export interface SmtpEnvelope {
  serverId: number;
  /** MAIL FROM address; '' for the null reverse-path. */
  mailFrom: string;
  /** RCPT TO addresses, already checked by the session policy. */
  rcptTo: readonly string[];
}

export type MimeAcceptResult = { ok: true; message: NewMessage } | { ok: false; code: number; reply: string };

export interface HeaderField {
  /** Field name as written. */
  name: string;
  /** The field exactly as it will be written out: folded lines, each ending in CRLF. */
  raw: string;
  /** Unfolded value without the name, trimmed. */
  value: string;
}

/** A bare CR or bare LF becomes CRLF; CRLF stays. */
export function normalizeLineEnds(text: string): string {
  return /\r(?!\n)|(?<!\r)\n/.test(text) ? text.replace(/\r\n|\r|\n/g, '\r\n') : text;
}

/**
 * Splits a CRLF-normalised message into header fields and the rest. The header section ends at
 * the first empty line, or at the first line that is neither a field nor a continuation (such a
 * message has no proper header section, and what follows is kept as it came).
 */
export function splitHeaders(text: string): { fields: HeaderField[]; body: string } {
  const fields: HeaderField[] = [];
  let pos = 0;
  while (pos < text.length) {
    const eol = text.indexOf('\r\n', pos);
    const end = eol === -1 ? text.length : eol + 2;
    const line = text.slice(pos, eol === -1 ? text.length : eol);
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.raw += text.slice(pos, end);
    } else {
      const m = HEADER_FIELD.exec(line);
      if (!m) break;
      fields.push({ name: m[1]!, raw: text.slice(pos, end), value: '' });
    }
    pos = end;
  }
  for (const f of fields) {
    if (!f.raw.endsWith('\r\n')) f.raw += '\r\n';
    f.value = f.raw
      .slice(f.raw.indexOf(':') + 1)
      .replace(/\r\n/g, '')
      .trim();
  }
  return { fields, body: text.slice(pos) };
}

/**
 * A header value (latin1 string, one character per byte) as text for search and events: UTF-8
 * when its bytes are UTF-8 (RFC 6532), else ISO-8859-1, the usual charset of raw 8-bit headers
 * from legacy software (which is the latin1 string itself). Only these derived fields are decoded;
 * the header itself is kept as bytes.
 */
export function headerText(binary: string): string {
  if (!/[^\x00-\x7f]/.test(binary)) return binary;
  const bytes = Buffer.from(binary, 'latin1');
  return isUtf8(bytes) ? bytes.toString('utf8') : binary;
}

function decodeBytes(charset: string, bytes: Buffer): string {
  try {
    return new TextDecoder(charset).decode(bytes);
  } catch {
    return new TextDecoder('utf-8').decode(bytes); // unknown charset: best effort, these fields are for search
  }
}

/**
 * RFC 2047 encoded words (`=?UTF-8?B?...?=`) to text. Adjacent words of one charset are decoded
 * together, because encoders split multi-byte characters across words.
 */
export function decodeEncodedWords(value: string): string {
  if (!value.includes('=?')) return value;
  let out = '';
  let last = 0;
  let pending: { charset: string; parts: Buffer[] } | null = null;
  const flush = (): void => {
    if (pending) out += decodeBytes(pending.charset, Buffer.concat(pending.parts));
    pending = null;
  };
  for (const m of value.matchAll(ENCODED_WORD)) {
    const between = value.slice(last, m.index);
    const charset = m[1]!.split('*')[0]!.toLowerCase();
    const text = m[3]!;
    const bytes =
      m[2] === 'B' || m[2] === 'b'
        ? Buffer.from(text, 'base64')
        : Buffer.from(
            text.replace(/_/g, ' ').replace(/=([0-9A-Fa-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16))),
            'latin1',
          );
    const adjacent = pending !== null && /^[ \t]*$/.test(between); // whitespace between encoded words is not text
    if (adjacent && pending!.charset === charset) {
      pending!.parts.push(bytes);
    } else {
      flush();
      if (!adjacent) out += between;
      pending = { charset, parts: [bytes] };
    }
    last = m.index + m[0].length;
  }
  flush();
  return out + value.slice(last);
}

const oneLine = (s: string): string => s.replace(/[\x00-\x1f\x7f]+/g, ' ').trim();

function addresses(fields: HeaderField[], name: string): MailAddress[] {
  const out: MailAddress[] = [];
  for (const f of fields) {
    if (f.name.toLowerCase() !== name) continue;
    for (const a of addressparser(f.value, { flatten: true })) {
      const email = a.address.trim();
      if (!isValidEmailAddress(email)) continue; // header decoration we cannot use; the envelope decides delivery
      const display = oneLine(decodeEncodedWords(a.name));
      out.push({ email, name: display === '' ? null : display });
    }
  }
  return out;
}

function firstValue(fields: HeaderField[], name: string): string | null {
  const f = fields.find((h) => h.name.toLowerCase() === name);
  return f === undefined ? null : f.value;
}

/** RFC 5322 date-time in UTC ("Tue, 04 Nov 2025 10:00:00 +0000"). */
export function rfc5322Date(ms: number): string {
  return new Date(ms).toUTCString().replace(/GMT$/, '+0000');
}

const fail = (code: number, reply: string): MimeAcceptResult => ({ ok: false, code, reply });

/** Builds the NewMessage for one SMTP transaction, or the reply that refuses it. */
export function buildSmtpMessage(raw: Buffer, env: SmtpEnvelope, opts: { now: number; hostname: string }): MimeAcceptResult {
  if (raw.length === 0) return fail(554, '5.6.0 Empty message');
  // One character per byte: every string operation below keeps the bytes as they came.
  const binary = raw.toString('latin1');
  // 8BITMIME allows any octet but NUL (RFC 6152); BINARYMIME is not offered.
  if (binary.includes('\0')) return fail(554, '5.6.0 Message contains NUL characters');
  const { fields: rawFields, body } = splitHeaders(normalizeLineEnds(binary));
  const fields = rawFields.map((f) => ({ ...f, value: headerText(f.value) }));

  const ids: Record<'x-xsmessageid' | 'x-xsmailingid', string | null> = { 'x-xsmessageid': null, 'x-xsmailingid': null };
  for (const name of ['x-xsmessageid', 'x-xsmailingid'] as const) {
    const v = firstValue(fields, name);
    if (v !== null && v.length > MAX_ID_LENGTH)
      return fail(554, `5.6.0 ${name === 'x-xsmessageid' ? 'X-xsMessageId' : 'X-xsMailingId'} is longer than ${MAX_ID_LENGTH} characters`);
    ids[name] = v === null || v === '' ? null : v;
  }

  const headerFrom = addresses(fields, 'from')[0];
  const hasFromField = fields.some((f) => f.name.toLowerCase() === 'from');
  let from: MailAddress;
  if (headerFrom) from = headerFrom;
  else if (env.mailFrom !== '') from = { email: env.mailFrom, name: null };
  else return fail(550, '5.1.7 No sender: the From header has no valid address and MAIL FROM is empty');

  const to = addresses(fields, 'to');
  const cc = addresses(fields, 'cc');
  const bcc = addresses(fields, 'bcc');
  const subjectRaw = firstValue(fields, 'subject');
  const subject = subjectRaw === null ? '' : oneLine(decodeEncodedWords(subjectRaw));

  const messageId = newId(opts.now);
  const added: string[] = [];
  // The envelope address may be UTF-8 (SMTPUTF8): its bytes, in the message's one-character-per-byte form.
  if (!hasFromField) added.push(Buffer.from(`From: <${from.email}>\r\n`, 'utf8').toString('latin1'));
  if (firstValue(fields, 'date') === null) added.push(`Date: ${rfc5322Date(opts.now)}\r\n`);
  if (firstValue(fields, 'message-id') === null) added.push(`Message-ID: <${messageId}@${opts.hostname}>\r\n`);
  const kept = fields.filter((f) => !REMOVED_HEADERS.has(f.name.toLowerCase()));
  // A header section that did not end in an empty line gets one, so every reader agrees where the body starts.
  const rawMime = Buffer.from(kept.map((f) => f.raw).join('') + added.join('') + (body.startsWith('\r\n') ? body : `\r\n${body}`), 'latin1');

  const toSet = new Set(to.map((a) => a.email.toLowerCase()));
  const ccSet = new Set(cc.map((a) => a.email.toLowerCase()));
  const seen = new Set<string>();
  const recipients: NewRecipient[] = [];
  for (const address of env.rcptTo) {
    const key = address.toLowerCase();
    if (seen.has(key)) continue; // one delivery per address
    seen.add(key);
    recipients.push({
      id: newId(opts.now),
      address,
      merge: null,
      kind: toSet.has(key) ? 'to' : ccSet.has(key) ? 'cc' : 'bcc',
      mailingId: ids['x-xsmailingid'],
      messageId: ids['x-xsmessageid'],
    });
  }
  if (recipients.length === 0) return fail(554, '5.5.1 No valid recipients');

  return {
    ok: true,
    message: {
      id: messageId,
      serverId: env.serverId,
      createdAt: opts.now,
      source: 'smtp',
      isMerge: false,
      sizeBytes: rawMime.length,
      metadata: [],
      tags: [],
      recipients,
      template: {
        from,
        replyTo: null,
        to,
        cc,
        bcc,
        subject,
        textBody: null,
        htmlBody: null,
        ampBody: null,
        charset: null,
        headers: [],
        attachments: [],
        messageId: ids['x-xsmessageid'],
        mailingId: ids['x-xsmailingid'],
        globalMerge: [],
        rawMime,
      },
    },
  };
}
