/**
 * `ApiTemplate`: a message that names a stored template gets its content from it. The template
 * supplies HtmlBody, TextBody and AmpBody, replacing any the message carries (SocketLabs' clients
 * describe the template as overriding the bodies, and let such a message have none); the message
 * keeps everything else: From, recipients, headers, attachments, MergeData, ids. Its Subject wins;
 * the template's subject fills in only when the message has none. `%%Field%%` placeholders in the
 * template render with the message's merge data like the message's own text.
 */
import type { Store, TemplateContent } from '../store/store.js';
import type { RawMessage } from './normalize.js';

/** The ApiTemplate a message asks for, or null: absent, or 0 (what clients send for "none"). */
export function requestedTemplate(raw: RawMessage): string | null {
  return raw.apiTemplate === null || /^0+$/.test(raw.apiTemplate) ? null : raw.apiTemplate;
}

/** Each distinct ApiTemplate of the request, looked up once among the server's own templates (current versions). */
export async function loadApiTemplates(store: Pick<Store, 'templates'>, serverId: number, raws: readonly RawMessage[]): Promise<Map<string, TemplateContent>> {
  const ids = new Set(raws.map(requestedTemplate).filter((id): id is string => id !== null));
  const found = new Map<string, TemplateContent>();
  for (const id of ids) {
    const n = Number(id);
    const t = Number.isSafeInteger(n) ? await store.templates.get(serverId, n) : undefined;
    if (t) found.set(id, t);
  }
  return found;
}

/** The message with its template's content in place. */
export function withTemplateContent(raw: RawMessage, t: TemplateContent): RawMessage {
  const subject = raw.subject !== null && raw.subject.trim() !== '' ? raw.subject : t.subject;
  return { ...raw, subject, htmlBody: t.htmlBody, textBody: t.textBody, ampBody: t.ampBody };
}
