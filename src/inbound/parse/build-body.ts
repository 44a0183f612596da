/**
 * One raw message -> the UTF-8 JSON body of its Inbound POST (SocketLabs' Inbound Parse format,
 * plus Authentication, ReplyText and AutoReply; docs/inbound-payload.md). Runs on a parser thread
 * (parse-worker.ts): everything here is CPU work on up to 50 MB.
 *
 * Attachment contents never become one large JavaScript string: the JSON is written with a
 * placeholder per attachment, and each attachment's base64 is written into the output buffer in
 * its place, a slice at a time.
 */
import { randomUUID } from 'node:crypto';
import type { DNSResolver } from 'mailauth';
import { autoReplySignal } from '../../bounce/auto-reply.js';
import { authenticateMessage, type AuthenticationResult } from './authentication.js';
import { parseMime, type MimeAddress, type ParsedAttachment, type ParsedMime } from './mime.js';
import { replyText } from './reply-text.js';
import { headerValue, readHeaderBlock, type RawHeader } from './raw-headers.js';

/** What the MX listener knew about the message (index.ts InboundEnvelope, minus receivedAt). */
export interface BodyEnvelope {
  serverId: number;
  secretKey: string;
  mailFrom: string;
  rcptTo: string;
  remoteIp: string;
  heloName: string | null;
}

export interface BodyContext {
  resolver: DNSResolver;
  hostname: string;
}

interface PayloadAddress {
  EmailAddress: string;
  FriendlyName: string | null;
}
interface PayloadFile {
  Name: string | null;
  ContentType: string;
  Content: string;
  ContentId: string | null;
  CustomHeaders: RawHeader[];
}

/** Every mailbox of the header(s), group members included, in order. */
function addresses(list: readonly MimeAddress[]): PayloadAddress[] {
  const out: PayloadAddress[] = [];
  for (const a of list) {
    if (a.group) out.push(...addresses(a.group));
    else if (a.address) out.push({ EmailAddress: a.address, FriendlyName: a.name || null });
  }
  return out;
}

const orNull = <T>(list: T[]): T[] | null => (list.length > 0 ? list : null);

/** Content-IDs the HTML points at with cid: URLs (RFC 2392: URL-encoded, without the angle brackets). */
function referencedCids(html: string | null): Set<string> {
  const out = new Set<string>();
  if (!html) return out;
  for (const m of html.matchAll(/\bcid:([^\s"'<>)]+)/gi)) {
    let id = m[1]!;
    try {
      id = decodeURIComponent(id);
    } catch {
      /* keep it as written */
    }
    out.add(id.toLowerCase());
  }
  return out;
}

const bareCid = (cid: string | null): string | null => (cid ? cid.trim().replace(/^<|>$/g, '').trim() : null);

/** Bytes of content encoded per step: a multiple of 3, so the slices' base64 joins up. */
const ENCODE_SLICE = 3 * 256 * 1024;

const base64Length = (n: number): number => Math.ceil(n / 3) * 4;

/**
 * The JSON text split at each placeholder: text, attachment index, text, ... (always odd in length).
 * A placeholder is `token` followed by digits and the closing quote of its JSON string; the token
 * holds a random UUID, so no sender's text can contain it. indexOf, not a RegExp: the token is new
 * per message, so a RegExp would be compiled per message and run by V8's regexp interpreter.
 */
export function splitAtPlaceholders(json: string, token: string): Array<string | number> {
  const parts: Array<string | number> = [];
  let textFrom = 0;
  for (let at = json.indexOf(token); at !== -1; at = json.indexOf(token, at + 1)) {
    let end = at + token.length;
    while (end < json.length && json.charCodeAt(end) >= 0x30 && json.charCodeAt(end) <= 0x39) end++;
    if (end === at + token.length || json.charCodeAt(end) !== 0x22) continue;
    parts.push(json.slice(textFrom, at), Number(json.slice(at + token.length, end)));
    textFrom = end;
  }
  parts.push(json.slice(textFrom));
  return parts;
}

/**
 * The JSON with each attachment's Content written as base64 from its bytes, as one exact-size buffer.
 * `token` is the placeholder prefix as it appears inside the JSON text; the attachment's index follows it.
 */
function assemble(payload: unknown, files: ParsedAttachment[], token: string): Buffer {
  const parts = splitAtPlaceholders(JSON.stringify(payload), token);
  let total = 0;
  for (const p of parts) total += typeof p === 'string' ? Buffer.byteLength(p, 'utf8') : base64Length(files[p]!.content.length);
  // A buffer of its own (not a pooled slice), so it can be transferred to the main thread.
  const out = Buffer.from(new ArrayBuffer(total));
  let at = 0;
  for (const p of parts) {
    if (typeof p === 'string') {
      at += out.write(p, at, 'utf8');
      continue;
    }
    const content = files[p]!.content;
    for (let from = 0; from < content.length; from += ENCODE_SLICE) {
      at += out.write(content.subarray(from, from + ENCODE_SLICE).toString('base64'), at, 'latin1');
    }
  }
  return out;
}

export async function buildInboundBody(raw: Buffer, env: BodyEnvelope, ctx: BodyContext): Promise<Buffer> {
  const top = readHeaderBlock(raw);
  const [mime, auth] = await Promise.all([
    parseMime(raw).catch((err: Error): ParsedMime => emptyMime(`MIME: ${err.message}`)),
    authenticateMessage(raw, { ip: env.remoteIp, helo: env.heloName, mailFrom: env.mailFrom, mta: ctx.hostname, resolver: ctx.resolver }),
  ]);
  return renderBody(top.headers, top.garbage, mime, auth, env);
}

function emptyMime(error: string): ParsedMime {
  return {
    subject: null,
    from: null,
    to: [],
    cc: [],
    bcc: [],
    replyTo: [],
    text: null,
    html: null,
    textCharset: null,
    htmlCharset: null,
    attachments: [],
    errors: [error],
  };
}

function renderBody(headers: RawHeader[], garbage: string[], mime: ParsedMime, auth: AuthenticationResult, env: BodyEnvelope): Buffer {
  const token = `\u0001content:${randomUUID()}:`;
  const cids = referencedCids(mime.html);
  const attachments: PayloadFile[] = [];
  const embedded: PayloadFile[] = [];
  mime.attachments.forEach((a, i) => {
    const cid = bareCid(a.contentId);
    const file: PayloadFile = { Name: a.name, ContentType: a.contentType, Content: `${token}${i}`, ContentId: cid, CustomHeaders: a.headers };
    const isEmbedded = cid !== null && a.disposition !== 'attachment' && cids.has(cid.toLowerCase());
    (isEmbedded ? embedded : attachments).push(file);
  });
  const from = addresses(mime.from ? [mime.from] : [])[0] ?? null;
  const subject = mime.subject ?? '';
  const autoReason = autoReplySignal(
    headers.map((h) => ({ name: h.Name, value: h.Value ?? '' })),
    subject,
  );
  const errors = [...garbage, ...mime.errors];
  const payload = {
    SecretKey: env.secretKey,
    ServerId: env.serverId,
    SubaccountId: env.serverId,
    IpPoolId: null,
    InboundMailFrom: env.mailFrom,
    InboundRcptTo: env.rcptTo,
    InboundIpAddress: env.remoteIp,
    ErrorLog: errors.length > 0 ? errors.join('\n') : null,
    SpamScore: 0,
    SpamDetails: null,
    Message: {
      Subject: mime.subject,
      TextBody: mime.text,
      HtmlBody: mime.html,
      TextCharSet: mime.text !== null ? mime.textCharset : null,
      HtmlCharSet: mime.html !== null ? mime.htmlCharset : null,
      MailingId: headerValue(headers, 'X-xsMailingId'),
      MessageId: headerValue(headers, 'X-xsMessageId'),
      From: from,
      To: addresses(mime.to),
      Cc: orNull(addresses(mime.cc)),
      Bcc: orNull(addresses(mime.bcc)),
      ReplyTo: addresses(mime.replyTo)[0] ?? null,
      CustomHeaders: headers,
      Attachments: attachments,
      EmbeddedMedia: embedded,
      ReplyText: replyText(mime.text),
    },
    Authentication: auth,
    AutoReply: { Detected: autoReason !== null, Reason: autoReason },
  };
  return assemble(payload, mime.attachments, JSON.stringify(token).slice(1, -1));
}
