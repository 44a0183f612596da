import type { MessageTemplate, MergeField } from '../core/message.js';
import { renderForRecipient } from '../merge/render-message.js';
import { addListUnsubscribe } from '../tracking/headers.js';
import type { RecipientTracking } from '../tracking/service.js';
import { compileTemplateMime, type CompiledMime } from './template-mime.js';
import { tracedLocalPart } from '../core/verp.js';

export interface ComposeInput {
  template: MessageTemplate;
  /** The recipient's merge row (null for a basic send). */
  merge: MergeField[] | null;
  deliveryAddress: string;
  /** Unique per delivery: becomes the Message-ID local part, so a reply or bounce quoting it can be traced. */
  recipientId: string;
  /**
   * The recipient id's trace tag (core/verp.ts), written after it: <id>-<tag>@<hostname>, so a
   * report that quotes only the Message-ID still proves its recipient. Null: <id>@<hostname>.
   */
  traceTag?: string | null;
  hostname: string;
  date: Date;
  /** Engagement tracking for this recipient (tracked HTML, List-Unsubscribe); absent: none. */
  tracking?: RecipientTracking | null;
}

const address = (a: { email: string; name: string | null }) => (a.name ? { name: a.name, address: a.email } : a.email);

/** Each template's MIME skeleton, built on first use; templates are cached by the worker, so entries live as long as they do. */
const compiled = new WeakMap<MessageTemplate, Promise<CompiledMime>>();

function skeletonFor(t: MessageTemplate): Promise<CompiledMime> {
  let c = compiled.get(t);
  if (!c) {
    c = compileTemplateMime(t);
    compiled.set(t, c);
    c.catch(() => compiled.delete(t));
  }
  return c;
}

/**
 * Builds the RFC 5322 message one recipient receives: the template rendered with its merge row
 * into the template's MIME skeleton (see template-mime.ts), or the submitted MIME as is (SMTP
 * relay). CRLF line ends throughout (SMTP's and DKIM's form).
 */
export async function composeMessage(input: ComposeInput): Promise<Buffer> {
  const t = input.template;
  if (t.rawMime) return t.rawMime;
  const skeleton = await skeletonFor(t);
  const r = renderForRecipient(t, input.merge, input.tracking?.renderHtml);
  const headers = input.tracking?.unsubscribeUrl ? addListUnsubscribe(r.headers, { url: input.tracking.unsubscribeUrl }) : r.headers;
  // A merge message's To is decoration; if the template left it empty, name the delivery address.
  const to = r.to.length > 0 ? r.to.map(address) : [input.deliveryAddress];
  return skeleton.render(
    {
      from: address(r.from),
      to,
      cc: r.cc.length > 0 ? r.cc.map(address) : undefined,
      replyTo: r.replyTo ? address(r.replyTo) : undefined,
      subject: r.subject,
      messageId: `<${input.traceTag ? tracedLocalPart(input.recipientId, input.traceTag) : input.recipientId.toLowerCase()}@${input.hostname}>`,
      date: input.date,
      headers: headers.map((h) => ({ key: h.name, value: h.value })),
    },
    {
      ...(r.textBody !== null ? { text: r.textBody } : {}),
      ...(r.htmlBody !== null ? { html: r.htmlBody } : {}),
      ...(r.ampBody !== null ? { amp: r.ampBody } : {}),
    },
  );
}
