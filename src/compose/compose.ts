import MailComposer from 'nodemailer/lib/mail-composer';
import type { MessageTemplate, MergeField } from '../core/message.js';
import { renderForRecipient } from '../merge/render-message.js';
import { addListUnsubscribe } from '../tracking/headers.js';
import type { RecipientTracking } from '../tracking/service.js';

export interface ComposeInput {
  template: MessageTemplate;
  /** The recipient's merge row (null for a basic send). */
  merge: MergeField[] | null;
  deliveryAddress: string;
  /** Unique per delivery: becomes the Message-ID local part, so a reply or bounce quoting it can be traced. */
  recipientId: string;
  hostname: string;
  date: Date;
  /** Engagement tracking for this recipient (tracked HTML, List-Unsubscribe); absent: none. */
  tracking?: RecipientTracking | null;
}

const address = (a: { email: string; name: string | null }) => (a.name ? { name: a.name, address: a.email } : a.email);

/**
 * Builds the RFC 5322 message one recipient receives: the template rendered with its merge row,
 * or the submitted MIME as is (SMTP relay). CRLF line ends throughout (SMTP's and DKIM's form).
 */
export async function composeMessage(input: ComposeInput): Promise<Buffer> {
  const t = input.template;
  if (t.rawMime) return Buffer.from(t.rawMime, 'utf8');
  const r = renderForRecipient(t, input.merge, input.tracking?.renderHtml);
  const headers = input.tracking?.unsubscribeUrl ? addListUnsubscribe(r.headers, { url: input.tracking.unsubscribeUrl }) : r.headers;
  // A merge message's To is decoration; if the template left it empty, name the delivery address.
  const to = r.to.length > 0 ? r.to.map(address) : [input.deliveryAddress];
  const charset = t.charset ?? 'utf-8';
  const composer = new MailComposer({
    from: address(r.from),
    to,
    cc: r.cc.length > 0 ? r.cc.map(address) : undefined,
    replyTo: r.replyTo ? address(r.replyTo) : undefined,
    subject: r.subject,
    messageId: `<${input.recipientId.toLowerCase()}@${input.hostname}>`,
    date: input.date,
    text: r.textBody === null ? undefined : { content: r.textBody, contentType: `text/plain; charset=${charset}` },
    html: r.htmlBody === null ? undefined : { content: r.htmlBody, contentType: `text/html; charset=${charset}` },
    amp: r.ampBody === null ? undefined : r.ampBody,
    headers: headers.map((h) => ({ key: h.name, value: h.value })),
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
  });
  return composer.compile().build();
}
