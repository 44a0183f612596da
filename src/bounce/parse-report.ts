/**
 * parseReport: one inbound message -> what it is (bounce, delay, complaint, auto-reply, ...), the
 * recipients it reports with their SocketLabs failure data, and the Postline recipient it traces to.
 *
 * The readers run as a checklist, most structured first: an ARF feedback report, an RFC 3464
 * delivery-status part, Microsoft's JMRP complaint, an RFC 8098 read receipt, a plain-text
 * non-delivery report, then the automatic-reply signals. Reports come first because they carry
 * "Auto-Submitted" as well. Unreadable input is ordinary mail ("other"): nothing here throws.
 */
import { isComplaintType, isJmrpReport, parseFeedbackReport } from './arf.js';
import { autoReplySignal } from './auto-reply.js';
import { inlineDeliveryStatus, parseDeliveryStatus } from './dsn.js';
import { MAX_INLINE_STATUS_SEARCH_CHARS } from './limits.js';
import { fieldValues, parseFieldGroups, parseHeaderBlock } from './fields.js';
import { readMessage, type ReportMessage } from './mime.js';
import { parsePlainReport, quotedOriginalHeaders } from './plain-ndr.js';
import { traceRecipientId } from './trace.js';
import type { HeaderField, ParsedReport, ReportEnvelope, ReportKind, ReportRecipient } from './types.js';

/** Parts that carry the original message, or its header section only (RFC 6522, RFC 6533). */
const ORIGINAL_PARTS = ['message/rfc822', 'message/global', 'text/rfc822-headers', 'message/rfc822-headers', 'message/global-headers'];
const DELIVERY_STATUS_PARTS = ['message/delivery-status', 'message/global-delivery-status'];
const DISPOSITION_PARTS = ['message/disposition-notification', 'message/global-disposition-notification'];

export async function parseReport(raw: Buffer | string, envelope: ReportEnvelope = {}): Promise<ParsedReport> {
  const message = await readMessage(raw);
  const originalHeaders = originalHeadersOf(message);
  const report = (kind: ReportKind, rest: Partial<ParsedReport> = {}, originalMessageIds: string[] = []): ParsedReport => ({
    kind,
    isBounce: kind === 'bounce' || kind === 'delay',
    isComplaint: kind === 'complaint',
    recipients: [],
    complaint: null,
    reportingMta: null,
    originalHeaders,
    recipientId: traceRecipientId({ rcptTo: envelope.rcptTo ?? null, originalHeaders, originalMessageIds }),
    ...rest,
  });

  const feedbackPart = partText(message, ['message/feedback-report']);
  if (feedbackPart !== null || message.reportType === 'feedback-report') {
    const complaint = parseFeedbackReport(feedbackPart, originalHeaders);
    return report(isComplaintType(complaint.feedbackType) ? 'complaint' : 'feedback', { complaint });
  }

  for (const statusText of deliveryStatusTexts(message)) {
    const dsn = parseDeliveryStatus(statusText);
    if (dsn.recipients.length > 0) return report(kindOfRecipients(dsn.recipients), { recipients: dsn.recipients, reportingMta: dsn.reportingMta });
  }

  if (isJmrpReport(originalHeaders)) {
    return report('complaint', { complaint: parseFeedbackReport(null, originalHeaders) });
  }

  const dispositionPart = partText(message, DISPOSITION_PARTS);
  if (dispositionPart !== null || message.reportType === 'disposition-notification') {
    const fields = parseFieldGroups(dispositionPart ?? '').flat();
    return report('read-receipt', {}, fieldValues(fields, 'Original-Message-ID'));
  }

  // A report cut off inside its delivery-status part (the closing MIME boundary never comes) is
  // not read from its text instead: the machine-readable part it meant to give is half there.
  const cutOffReport = message.truncated && partText(message, DELIVERY_STATUS_PARTS) !== null;
  const plain = cutOffReport ? [] : parsePlainReport({ ...message, originalHeaders });
  if (plain.length > 0) return report(kindOfRecipients(plain), { recipients: plain });

  // A report of any type that could not be read is not an automatic reply, whatever it says.
  const autoReply = message.reportType === null && autoReplySignal(message.headers, message.subject) !== null;
  return report(autoReply ? 'auto-reply' : 'other');
}

function kindOfRecipients(recipients: readonly ReportRecipient[]): ReportKind {
  if (recipients.some((r) => r.action === 'failed')) return 'bounce';
  if (recipients.some((r) => r.action === 'delayed')) return 'delay';
  return 'delivery-report';
}

/**
 * The delivery-status part, then delivery-status fields written inline: in the text, in a part of
 * another type, or in an attached message (a report forwarded or bounced back as an attachment).
 */
function* deliveryStatusTexts(message: ReportMessage): Generator<string> {
  const part = partText(message, DELIVERY_STATUS_PARTS);
  if (part !== null) yield part;
  for (const text of [message.text, ...message.parts.filter((p) => !DELIVERY_STATUS_PARTS.includes(p.contentType)).map((p) => p.text)]) {
    const inline = inlineDeliveryStatus(text.slice(0, MAX_INLINE_STATUS_SEARCH_CHARS));
    if (inline !== null) yield inline;
  }
}

/** The decoded text of the first part of one of these types, or null. */
function partText(message: ReportMessage, types: readonly string[]): string | null {
  return message.parts.find((p) => types.includes(p.contentType))?.text ?? null;
}

/** From an attached original or header-only part, else from a copy quoted in the text. */
function originalHeadersOf(message: ReportMessage): HeaderField[] {
  const attached = partText(message, ORIGINAL_PARTS);
  return attached !== null ? parseHeaderBlock(attached) : quotedOriginalHeaders(message.text);
}
