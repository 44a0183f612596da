import { createHash, randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer';
import { encode as qpEncode, wrap as qpWrap } from 'nodemailer/lib/qp';
import type { MessageTemplate } from '../core/message.js';

/**
 * A template's MIME structure, built once by nodemailer's composer and reused for every
 * recipient of the template.
 *
 * Composing each recipient's message with MailComposer cost about a third of the delivery
 * process's CPU in the bulk benchmark: a stream pipeline (with an AbortController, timers and
 * listeners) per MIME node per message, the attachments re-encoded each time, and the garbage
 * of it all (see docs/mail-engine.md). What a merge changes is only the header fields and the
 * text of the text/HTML/AMP parts; boundaries, part headers and encoded attachments are the
 * same for every recipient. So the composer runs once over the template with a placeholder in
 * each text part (quoted-printable, which leaves the placeholder as it is), and a recipient's
 * message is the header block (built by nodemailer's own MIME node, synchronously) plus the
 * skeleton with each placeholder replaced by the part's text, quoted-printable encoded by
 * nodemailer's encoder. test/unit/template-mime.test.ts checks the result against
 * MailComposer's own output.
 */

export type TextPart = 'text' | 'html' | 'amp';

export interface RecipientHeaders {
  from: string | { name: string; address: string };
  to: (string | { name: string; address: string })[];
  cc?: (string | { name: string; address: string })[];
  replyTo?: string | { name: string; address: string };
  subject: string;
  messageId: string;
  date: Date;
  headers: { key: string; value: string }[];
}

export interface CompiledMime {
  /** The whole message (CRLF line ends) for one recipient's header fields and part texts. */
  render(headers: RecipientHeaders, parts: Partial<Record<TextPart, string>>): Buffer;
}

/** Header fields that describe the MIME structure: they come from the skeleton, never per recipient. */
const STRUCTURAL = new Set(['content-type', 'content-transfer-encoding', 'mime-version']);
/**
 * The boundaries' base: a digest of the template, so that the same message renders to the same
 * bytes every time (a retry sends what the first attempt sent; the panel's source view shows it).
 * A sender who could guess it could only break their own message's structure.
 */
function boundaryOf(t: MessageTemplate): string {
  const h = createHash('sha256');
  for (const v of [t.subject, t.textBody, t.htmlBody, t.ampBody, t.charset, t.messageId]) h.update(`${v ?? '\u0000'}\u0001`);
  for (const a of t.attachments) h.update(`${a.name}\u0001${a.contentType}\u0001${a.contentId ?? ''}\u0001${a.content}\u0002`);
  return h.digest('hex').slice(0, 16);
}

/** `baseBoundary` fixes the boundaries (tests compare with MailComposer's output); default a digest of the template. */
export async function compileTemplateMime(t: MessageTemplate, opts: { baseBoundary?: string } = {}): Promise<CompiledMime> {
  const tag = randomBytes(8).toString('hex');
  const placeholder = (p: TextPart) => `POSTLINEPART${tag}${p.toUpperCase()}`;
  const charset = t.charset ?? 'utf-8';
  const part = (p: TextPart, present: boolean, type: string) =>
    present ? { content: placeholder(p), contentType: `${type}; charset=${charset}`, contentTransferEncoding: 'quoted-printable' } : undefined;
  const skeleton = (
    await new MailComposer({
      text: part('text', t.textBody !== null, 'text/plain'),
      html: part('html', t.htmlBody !== null, 'text/html'),
      amp: part('amp', t.ampBody !== null, 'text/x-amp-html'),
      attachments: t.attachments.map((a) => ({
        filename: a.name,
        content: Buffer.from(a.content, 'base64'),
        contentType: a.contentType,
        cid: a.contentId ?? undefined,
        contentDisposition: a.contentId ? ('inline' as const) : ('attachment' as const),
        headers: a.headers.map((h) => ({ key: h.name, value: h.value })),
      })),
      newline: 'win',
      xMailer: false,
      disableFileAccess: true,
      disableUrlAccess: true,
      baseBoundary: opts.baseBoundary ?? boundaryOf(t),
    })
      .compile()
      .build()
  ).toString('latin1');

  // The skeleton's own Date and Message-ID are dropped with the rest of its header block.
  const split = skeleton.indexOf('\r\n\r\n');
  const structural = new Map(
    fields(skeleton.slice(0, split))
      .filter((f) => STRUCTURAL.has(f.name))
      .map((f) => [f.name, f.raw]),
  );
  // A single-part message's root carries the part's Content-Transfer-Encoding, which the
  // composer writes first: the header builder below gets a one-part body so it sits there too.
  const rootEncoding = structural.has('content-transfer-encoding') ? 'quoted-printable' : undefined;
  // Body pieces between placeholders: pieces[i], then the part slots[i], then pieces[i + 1].
  const body = skeleton.slice(split);
  const pieces: string[] = [];
  const slots: TextPart[] = [];
  const re = new RegExp(`POSTLINEPART${tag}(TEXT|HTML|AMP)`, 'g');
  let last = 0;
  for (let m = re.exec(body); m; m = re.exec(body)) {
    pieces.push(body.slice(last, m.index));
    slots.push(m[1]!.toLowerCase() as TextPart);
    last = m.index + m[0].length;
  }
  pieces.push(body.slice(last));
  const piecesBuf = pieces.map((p) => Buffer.from(p, 'latin1'));

  return {
    render(h, parts) {
      const head = new MailComposer({
        from: h.from,
        to: h.to,
        cc: h.cc,
        replyTo: h.replyTo,
        subject: h.subject,
        messageId: h.messageId,
        date: h.date,
        headers: h.headers,
        xMailer: false,
        newline: 'win',
        disableFileAccess: true,
        disableUrlAccess: true,
        text: rootEncoding ? { content: ' ', contentTransferEncoding: rootEncoding } : undefined,
      })
        .compile()
        .buildHeaders();
      // The recipient's fields in the composer's order, structural ones taken from the skeleton.
      const lines: string[] = [];
      const used = new Set<string>();
      // The composer re-cases header names (testMessageHeader -> Testmessageheader); a sender's
      // custom header keeps the name as the sender spelled it, as SocketLabs sends it.
      const spelled = new Map(h.headers.map((x) => [x.key.toLowerCase(), x.key]));
      for (const f of fields(head)) {
        const own = spelled.get(f.name);
        const raw = own === undefined ? f.raw : own + f.raw.slice(f.raw.indexOf(':'));
        // The composer's fields are text; a UTF-8 local part it cannot encode stays as characters,
        // written as UTF-8 (RFC 6532), where the latin1 join below would cut each to one byte.
        if (!STRUCTURAL.has(f.name)) lines.push(/[^\x00-\x7f]/.test(raw) ? Buffer.from(raw, 'utf8').toString('latin1') : raw);
        else if (structural.has(f.name) && !used.has(f.name)) {
          lines.push(structural.get(f.name)!);
          used.add(f.name);
        }
      }
      for (const [name, raw] of structural) if (!used.has(name)) lines.push(raw);
      const out: Buffer[] = [Buffer.from(lines.join('\r\n'), 'latin1')];
      for (let i = 0; i < slots.length; i++) {
        out.push(piecesBuf[i]!, Buffer.from(encodeText(parts[slots[i]!] ?? ''), 'latin1'));
      }
      out.push(piecesBuf[piecesBuf.length - 1]!);
      return Buffer.concat(out);
    },
  };
}

/** What the composer's quoted-printable stream makes of a text part with Windows newlines. */
function encodeText(text: string): string {
  return qpWrap(qpEncode(Buffer.from(text.replace(/\r?\n/g, '\r\n'), 'utf8')), 76);
}

interface Field {
  name: string;
  raw: string;
}

/** A header block split into fields (continuation lines kept with their field). */
function fields(block: string): Field[] {
  const out: Field[] = [];
  for (const line of block.split('\r\n')) {
    if ((line.startsWith(' ') || line.startsWith('\t')) && out.length > 0) {
      out[out.length - 1]!.raw += '\r\n' + line;
    } else if (line !== '') {
      out.push({ name: line.slice(0, line.indexOf(':')).trim().toLowerCase(), raw: line });
    }
  }
  return out;
}
