/**
 * RFC 5965 feedback reports (ARF): the machine-readable message/feedback-report part, and
 * Microsoft's JMRP form, which sends the complained-about message without that part and names the
 * complainant only in the X-HmXmrOriginalRecipient header of the attached copy.
 */
import { fieldValue, fieldValues, parseFieldGroups, withoutAngles } from './fields.js';
import type { FeedbackReport, HeaderField } from './types.js';

/** RFC 5965 and later registered types that are not a recipient complaining about mail. */
const NOT_COMPLAINTS = new Set(['not-spam', 'auth-failure']);

/** The JMRP header naming the complainant on the attached original. */
export const JMRP_RECIPIENT_HEADER = 'X-HmXmrOriginalRecipient';

/**
 * Reads the feedback-report part's fields (null when the report has none), falling back to the
 * original message's headers for what JMRP leaves out.
 */
export function parseFeedbackReport(reportText: string | null, originalHeaders: readonly HeaderField[]): FeedbackReport {
  const fields = reportText === null ? [] : parseFieldGroups(reportText).flat();
  const rcptTo = fieldValues(fields, 'Original-Rcpt-To').map(withoutAngles).filter(Boolean);
  const jmrpRecipient = fieldValue(originalHeaders, JMRP_RECIPIENT_HEADER);
  const mailFrom = fieldValue(fields, 'Original-Mail-From');
  return {
    // RFC 5965 makes Feedback-Type required; a JMRP report without the part is a junk complaint.
    feedbackType: (fieldValue(fields, 'Feedback-Type') ?? 'abuse').trim().toLowerCase(),
    userAgent: fieldValue(fields, 'User-Agent'),
    version: fieldValue(fields, 'Version'),
    originalMailFrom: mailFrom === null ? returnPathOf(originalHeaders) : withoutAngles(mailFrom),
    originalRcptTo: rcptTo.length > 0 ? rcptTo : jmrpRecipient === null ? [] : [withoutAngles(jmrpRecipient)],
    // Received-Date is the name AOL and Yahoo used before RFC 5965 settled on Arrival-Date.
    arrivalDate: fieldValue(fields, 'Arrival-Date') ?? fieldValue(fields, 'Received-Date'),
    sourceIp: fieldValue(fields, 'Source-IP'),
    reportedDomain: fieldValue(fields, 'Reported-Domain'),
  };
}

export function isComplaintType(feedbackType: string): boolean {
  return !NOT_COMPLAINTS.has(feedbackType);
}

/** True when the attached original carries JMRP's header: a complaint even without a report part. */
export function isJmrpReport(originalHeaders: readonly HeaderField[]): boolean {
  return fieldValue(originalHeaders, JMRP_RECIPIENT_HEADER) !== null;
}

function returnPathOf(headers: readonly HeaderField[]): string | null {
  const value = fieldValue(headers, 'Return-Path');
  return value === null ? null : withoutAngles(value) || null;
}
