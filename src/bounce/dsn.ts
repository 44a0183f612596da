/**
 * RFC 3464 delivery-status part -> the per-message Reporting-MTA and one ReportRecipient per
 * recipient group (Final-Recipient, Action, Status, Diagnostic-Code, Remote-MTA).
 */
import { classifyRecipient } from './classify-recipient.js';
import { collapseWhitespace, fieldValue, parseFieldGroups, withoutAngles, withoutType } from './fields.js';
import { MAX_DIAGNOSTIC_CHARS, MAX_REPORTED_RECIPIENTS } from './limits.js';
import { DSN_ACTIONS, type DsnAction, type HeaderField, type ReportRecipient } from './types.js';

/** Fields that occur once per recipient: seeing one again means the next recipient began. */
const PER_RECIPIENT_ONCE = new Set(['final-recipient', 'original-recipient', 'action', 'status']);

export interface DeliveryStatus {
  reportingMta: string | null;
  recipients: ReportRecipient[];
}

/**
 * Where delivery-status fields start in text that is not a message/delivery-status part: reports
 * whose MIME structure was lost (forwarded, sent without headers, flattened to text/plain) still
 * carry the RFC 3464 fields inline.
 */
const INLINE_STATUS_START = /^(?:Reporting-MTA|Final-Recipient|Original-Recipient)[ \t]*:/im;

/** The delivery-status fields found inline in text, or null when the text has none. */
export function inlineDeliveryStatus(text: string): string | null {
  const start = text.search(INLINE_STATUS_START);
  return start < 0 ? null : text.slice(start);
}

export function parseDeliveryStatus(text: string): DeliveryStatus {
  let reportingMta: string | null = null;
  const recipients: ReportRecipient[] = [];
  for (const group of recipientGroups(parseFieldGroups(text))) {
    const mta = fieldValue(group, 'Reporting-MTA');
    if (mta !== null && reportingMta === null) reportingMta = withoutType(mta) || null;
    const recipient = recipientOf(group);
    if (recipient) recipients.push(recipient);
    if (recipients.length >= MAX_REPORTED_RECIPIENTS) break;
  }
  return { reportingMta, recipients };
}

/**
 * Groups are normally separated by blank lines, but some servers run the per-message fields into
 * the first recipient or list recipients without a blank line: a repeated per-recipient field
 * starts a new group too.
 */
function recipientGroups(groups: HeaderField[][]): HeaderField[][] {
  const out: HeaderField[][] = [];
  for (const group of groups) {
    let current: HeaderField[] = [];
    const seen = new Set<string>();
    for (const field of group) {
      const name = field.name.toLowerCase();
      if (PER_RECIPIENT_ONCE.has(name) && seen.has(name)) {
        out.push(current);
        current = [];
        seen.clear();
      }
      seen.add(name);
      current.push(field);
    }
    out.push(current);
  }
  return out;
}

/**
 * A recipient needs an address and an Action (RFC 3464 requires both); anything else is skipped.
 * Some MTAs leave Action out: a 5.x.x or 4.x.x Status then says failed or delayed, as the Action
 * would have. An Action of a value RFC 3464 does not define is not guessed at.
 */
function recipientOf(group: HeaderField[]): ReportRecipient | null {
  const finalRecipient = addressOf(fieldValue(group, 'Final-Recipient'));
  const originalRecipient = addressOf(fieldValue(group, 'Original-Recipient'));
  const address = finalRecipient ?? originalRecipient;
  const status = statusOf(fieldValue(group, 'Status'));
  const actionField = fieldValue(group, 'Action');
  const action = actionField === null ? actionOfStatus(status) : actionOf(actionField);
  if (address === null || action === null) return null;
  const rawDiagnostic = fieldValue(group, 'Diagnostic-Code');
  const diagnosticCode = rawDiagnostic === null ? null : collapseWhitespace(rawDiagnostic).slice(0, MAX_DIAGNOSTIC_CHARS) || null;
  const remoteMta = fieldValue(group, 'Remote-MTA');
  const verdict = classifyRecipient({ action, status, diagnostic: diagnosticCode === null ? null : diagnosticText(diagnosticCode) });
  return {
    address,
    originalRecipient: originalRecipient !== null && originalRecipient.toLowerCase() !== address.toLowerCase() ? originalRecipient : null,
    action,
    status,
    diagnosticCode,
    remoteMta: remoteMta === null ? null : withoutType(remoteMta) || null,
    ...verdict,
  };
}

/** "rfc822; <User@Example.com>" -> "User@Example.com"; null unless it looks like an address. */
function addressOf(value: string | null): string | null {
  if (value === null) return null;
  // "rfc822; <a@b>", and the type-less "<a@b>" some servers write.
  const address = withoutAngles(value.includes('@') && !/;.*@/.test(value) ? value : withoutType(value));
  return /^[^\s@]+@[^\s@]+$/.test(address) ? address : null;
}

/** "Failed", "failed (bad mailbox)" -> "failed"; an unknown action -> null. */
function actionOf(value: string | null): DsnAction | null {
  const word = value
    ?.trim()
    .split(/[\s(;]/)[0]
    ?.toLowerCase();
  return (DSN_ACTIONS as readonly string[]).includes(word ?? '') ? (word as DsnAction) : null;
}

function actionOfStatus(status: string | null): DsnAction | null {
  if (status?.startsWith('5.')) return 'failed';
  if (status?.startsWith('4.')) return 'delayed';
  return null;
}

/** "5.0.0 (permanent failure)" -> "5.0.0"; "5.1.001" -> "5.1.1"; anything else -> null. */
function statusOf(value: string | null): string | null {
  const m = value === null ? null : /^\s*([245])\.(\d{1,3})\.(\d{1,3})(?!\d)/.exec(value);
  return m ? `${m[1]}.${Number(m[2])}.${Number(m[3])}` : null;
}

/** "smtp; 550 5.1.1 ..." -> "550 5.1.1 ..."; a diagnostic without a type is kept whole. */
function diagnosticText(diagnosticCode: string): string {
  const m = /^([A-Za-z][\w-]*)\s*;\s*([\s\S]*)$/.exec(diagnosticCode);
  return m ? m[2]! : diagnosticCode;
}
