/**
 * Raw message -> SocketLabs Inbound Parse JSON body (wire-format reference §4). A minimal
 * version: mailparser's simpleParser, the top-level fields and the Message's subject, bodies,
 * addresses, every header in order, attachments and inline parts. No authentication results,
 * spam score or reply text yet.
 */
import { simpleParser, type AddressObject, type Attachment } from 'mailparser';
import type { DnsLookup } from '../../dns/lookup.js';

export interface InboundEnvelope { serverId: number; secretKey: string; mailFrom: string; rcptTo: string; remoteIp: string; heloName: string | null; receivedAt: number }
export interface InboundParser { build(raw: Buffer, env: InboundEnvelope): Promise<Buffer>; close(): Promise<void> }
export interface InboundParserOptions { dns: DnsLookup; hostname: string; threads?: number; dnsServers?: readonly string[] }

interface Address { EmailAddress: string; FriendlyName: string | null }

function addresses(a: AddressObject | AddressObject[] | undefined): Address[] {
  const list = a === undefined ? [] : Array.isArray(a) ? a : [a];
  return list.flatMap((o) => o.value).flatMap((v) => (v.group ? v.group : [v]))
    .map((v) => ({ EmailAddress: v.address ?? '', FriendlyName: v.name || null }));
}

/** Header lines as written (unfolded), in order: mailparser's headerLines keep repeats and order. */
function headersOf(lines: readonly { key: string; line: string }[]): { Name: string; Value: string | null }[] {
  return lines.map((h) => {
    const colon = h.line.indexOf(':');
    const name = colon < 0 ? h.key : h.line.slice(0, colon);
    const value = colon < 0 ? '' : h.line.slice(colon + 1).replace(/\r?\n[ \t]/g, ' ').trim();
    return { Name: name, Value: value };
  });
}

function part(a: Attachment) {
  return {
    Name: a.filename ?? null, ContentType: a.contentType, Content: a.content.toString('base64'),
    ContentId: a.contentId ?? (a.cid ? `<${a.cid}>` : null), CustomHeaders: headersOf((a as { headerLines?: { key: string; line: string }[] }).headerLines ?? []),
  };
}

export function createInboundParser(_opts: InboundParserOptions): InboundParser {
  return {
    async build(raw, env) {
      const m = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true, skipTextLinks: true });
      const inline = m.attachments.filter((a) => a.related || a.contentDisposition === 'inline');
      const attached = m.attachments.filter((a) => !inline.includes(a));
      const from = addresses(m.from)[0] ?? null;
      const cc = addresses(m.cc);
      const bcc = addresses(m.bcc);
      const replyTo = addresses(m.replyTo);
      const body = {
        SecretKey: env.secretKey, ServerId: env.serverId, SubaccountId: null, IpPoolId: null,
        InboundMailFrom: env.mailFrom, InboundRcptTo: env.rcptTo, InboundIpAddress: env.remoteIp,
        ErrorLog: null, SpamScore: 0, SpamDetails: null,
        Message: {
          Subject: m.subject ?? null, TextBody: m.text ?? null, HtmlBody: typeof m.html === 'string' ? m.html : null,
          TextCharSet: m.text === undefined ? null : 'utf-8', HtmlCharSet: typeof m.html === 'string' ? 'utf-8' : null,
          MailingId: null, MessageId: m.messageId ?? null,
          From: from, To: addresses(m.to), Cc: cc.length ? cc : null, Bcc: bcc.length ? bcc : null, ReplyTo: replyTo[0] ?? null,
          CustomHeaders: headersOf(m.headerLines), Attachments: attached.map(part), EmbeddedMedia: inline.map(part), ReplyText: null,
        },
        Authentication: null, AutoReply: null,
      };
      return Buffer.from(JSON.stringify(body));
    },
    async close() { /* nothing held */ },
  };
}
