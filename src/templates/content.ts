/**
 * What a stored template may hold, checked the same way for the v2 API and the CLI. A template is
 * SocketLabs' "email content": a name, HTML and/or plain text (and optionally AMP) with `%%Field%%`
 * placeholders, plus an optional subject used when the message brings none.
 */
import { MAX_HEADER_VALUE_LENGTH } from '../core/limits.js';
import type { TemplateContent } from '../store/store.js';

/** Longest template name: a label for people and lists, not content. */
export const MAX_TEMPLATE_NAME_LENGTH = 200;
/** Largest template content (name, subject and bodies, UTF-8 bytes): the management API's body limit, so the CLI stores nothing the API could not. */
export const MAX_TEMPLATE_CONTENT_BYTES = 1_000_000;

export interface TemplateInput {
  name?: unknown;
  subject?: unknown;
  htmlBody?: unknown;
  textBody?: unknown;
  ampBody?: unknown;
}
export type TemplateCheck = { ok: true; content: TemplateContent } | { ok: false; field: string; message: string };

const optionalText = (v: unknown): string | null | undefined =>
  v === undefined || v === null ? null : typeof v === 'string' ? (v === '' ? null : v) : undefined;

/** Checks and normalises a template's content: an empty string is "absent", the name is trimmed. */
export function checkTemplateContent(input: TemplateInput): TemplateCheck {
  const fail = (field: string, message: string): TemplateCheck => ({ ok: false, field, message });
  if (typeof input.name !== 'string' || input.name.trim() === '') return fail('name', 'name is required and must not be empty');
  const name = input.name.trim();
  if (name.length > MAX_TEMPLATE_NAME_LENGTH) return fail('name', `name is longer than ${MAX_TEMPLATE_NAME_LENGTH} characters`);
  if (/[\r\n\0]/.test(name)) return fail('name', 'name must be one line');
  const subject = optionalText(input.subject);
  const htmlBody = optionalText(input.htmlBody);
  const textBody = optionalText(input.textBody);
  const ampBody = optionalText(input.ampBody);
  for (const [field, v] of [
    ['subject', subject],
    ['htmlBody', htmlBody],
    ['textBody', textBody],
    ['ampBody', ampBody],
  ] as const) {
    if (v === undefined) return fail(field, `${field} must be a string`);
  }
  if (subject && (/[\r\n\0]/.test(subject) || subject.length > MAX_HEADER_VALUE_LENGTH)) {
    return fail('subject', `subject must be one line of at most ${MAX_HEADER_VALUE_LENGTH} characters`);
  }
  // As SocketLabs' content and the Injection API's bodies: HTML or text; AMP only beside one of them.
  if (!htmlBody && !textBody) return fail('htmlBody', 'a template needs htmlBody or textBody (or both)');
  const content: TemplateContent = { name, subject: subject ?? null, htmlBody: htmlBody ?? null, textBody: textBody ?? null, ampBody: ampBody ?? null };
  const bytes = [content.name, content.subject, content.htmlBody, content.textBody, content.ampBody].reduce(
    (n, s) => n + (s === null ? 0 : Buffer.byteLength(s, 'utf8')),
    0,
  );
  if (bytes > MAX_TEMPLATE_CONTENT_BYTES) return fail('htmlBody', `the template is ${bytes} bytes; at most ${MAX_TEMPLATE_CONTENT_BYTES}`);
  return { ok: true, content };
}
