/**
 * Automatic answers that are not bounces: out-of-office and vacation replies. Checked only after
 * the report readers, because delivery reports carry "Auto-Submitted: auto-replied" too.
 */
import { fieldValue } from './fields.js';
import type { HeaderField } from './types.js';

/** Headers autoresponders add (Exim/cPanel, Horde, Zimbra, Yandex and others); present means automatic. */
const AUTORESPONDER_HEADERS = ['X-Autoreply', 'X-Autorespond', 'X-Autoresponder', 'X-AutoReply-From', 'X-Mail-Autoreply'];

/**
 * Subjects of automatic replies in the languages most seen: Outlook's "Automatic reply:", the
 * older "Out of Office", Sieve vacation's "Auto:", and their translations.
 */
const AUTO_REPLY_SUBJECT =
  /^(?:(?:re|aw)\s*:\s*)?(?:auto(?:matic)?[- ]?(?:reply|response)|auto:|out of (?:the )?office|on vacation|vacation reply|away from (?:the )?office|abwesenheit(?:snotiz)?|automatische antwort|r[ée]ponse automatique|absence du bureau|respuesta autom[áa]tica|risposta automatica|automatisch antwoord|resposta autom[áa]tica)/i;

/** Why the message is an automatic reply (for logs), or null when nothing says so. */
export function autoReplySignal(headers: readonly HeaderField[], subject: string): string | null {
  // RFC 3834: any value but "no" marks a message a program sent.
  const autoSubmitted = fieldValue(headers, 'Auto-Submitted');
  if (autoSubmitted !== null && !/^\s*no\b/i.test(autoSubmitted)) return `Auto-Submitted: ${autoSubmitted}`;
  const header = responderHeader(headers);
  if (header !== null) return header;
  // "bulk" and "list" are mailing lists' values, not automatic replies.
  const precedence = fieldValue(headers, 'Precedence');
  if (precedence !== null && /^\s*(?:auto_reply|junk)\b/i.test(precedence)) return `Precedence: ${precedence}`;
  return responderSubject(subject);
}

/**
 * The signals only an autoresponder gives (its headers, an automatic-reply subject), unlike
 * Auto-Submitted and Precedence, which delivery reports carry too.
 */
export function autoResponderSignal(headers: readonly HeaderField[], subject: string): string | null {
  return responderHeader(headers) ?? responderSubject(subject);
}

function responderHeader(headers: readonly HeaderField[]): string | null {
  return AUTORESPONDER_HEADERS.find((name) => fieldValue(headers, name) !== null) ?? null;
}

function responderSubject(subject: string): string | null {
  return AUTO_REPLY_SUBJECT.test(subject.trim()) ? `Subject: ${subject.trim()}` : null;
}
