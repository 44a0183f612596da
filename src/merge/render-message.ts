import type { MailAddress, MailHeader, MergeField, MessageTemplate } from '../core/message.js';
import { buildMergeLookup, compileTemplate, render, renderHeader, type MergeLookup } from './template.js';

/** One recipient's message after merge: what delivery composes into MIME. */
export interface RenderedMessage {
  from: MailAddress;
  replyTo: MailAddress | null;
  to: MailAddress[];
  cc: MailAddress[];
  subject: string;
  textBody: string | null;
  htmlBody: string | null;
  ampBody: string | null;
  headers: MailHeader[];
  messageId: string | null;
  mailingId: string | null;
}

const addr = (a: MailAddress, l: MergeLookup): MailAddress => ({
  email: renderHeader(compileTemplate(a.email), l),
  name: a.name === null ? null : renderHeader(compileTemplate(a.name), l) || null,
});

/**
 * Renders the stored template for one recipient's merge row (null for a basic send); `renderHtml`,
 * when given, renders the HTML body instead (engagement tracking). Header
 * fields go through renderHeader, so a merge value can never add a header line.
 * For many recipients of one template, callers may cache compiled templates; this keeps the
 * simple form until delivery measures a need.
 */
export function renderForRecipient(t: MessageTemplate, merge: MergeField[] | null, renderHtml?: ((lookup: MergeLookup) => string) | null): RenderedMessage {
  const l = buildMergeLookup(merge ?? undefined, t.globalMerge);
  const body = (s: string | null): string | null => (s === null ? null : render(compileTemplate(s), l));
  const head = (s: string | null): string | null => (s === null ? null : renderHeader(compileTemplate(s), l));
  return {
    from: addr(t.from, l),
    replyTo: t.replyTo && addr(t.replyTo, l),
    to: t.to.map((a) => addr(a, l)),
    cc: t.cc.map((a) => addr(a, l)),
    subject: head(t.subject)!,
    textBody: body(t.textBody),
    // Tracking renders the HTML itself (links rewritten, pixel added), merge included.
    htmlBody: renderHtml && t.htmlBody !== null ? renderHtml(l) : body(t.htmlBody),
    ampBody: body(t.ampBody),
    headers: t.headers.map((h) => ({ name: h.name, value: head(h.value)! })),
    messageId: head(t.messageId),
    mailingId: head(t.mailingId),
  };
}
