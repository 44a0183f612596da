/**
 * What an inbound report means for the recipient it traces to, as a pure function: the event to
 * write (Failed, Deferred or Complaint, shaped like the delivery path's, delivery/outcome.ts), the
 * recipient's final status for a bounce, and the suppression it causes; or why nothing is written.
 *
 * A report counts only for a recipient it proves (bounce/trace.ts: a valid tag) and, when it names
 * the address it is about (a DSN's Final-Recipient or Original-Recipient, the failed address of a
 * plain report, an ARF report's Original-Rcpt-To), only if that address is the recipient's.
 */
import type { TraceVerdict } from '../bounce/trace.js';
import type { ParsedReport, ReportKind, ReportRecipient } from '../bounce/types.js';
import { bounceSuppression, clipDetail } from '../core/suppression.js';
import type { InboundReportRecord, StoredRecipient } from '../store/store.js';

/** SocketLabs' FailureType: 0 temporary, 1 permanent, 2 suppressed. */
const FAILURE_TYPE_TEMPORARY = 0;
const FAILURE_TYPE_PERMANENT = 1;

/**
 * Why a report is taken for a forgery: its id carries no tag (untagged), a tag that does not verify
 * (bad-tag), or it proves a recipient but names another address (recipient-mismatch).
 */
export type ForgeryReason = 'untagged' | 'bad-tag' | 'recipient-mismatch';

/** Why a report writes nothing (besides what the store may answer: see InboundReportResult). */
export type IgnoreReason = 'not-a-report' | 'untraced' | 'unknown-recipient' | 'no-recipient-line' | ForgeryReason;

const FORGERY: ReadonlySet<string> = new Set<ForgeryReason>(['untagged', 'bad-tag', 'recipient-mismatch']);
export const isForgery = (reason: string): reason is ForgeryReason => FORGERY.has(reason);

export type ReportPlan = { action: 'record'; record: InboundReportRecord } | { action: 'ignore'; reason: IgnoreReason };

export interface PlanInput {
  report: ParsedReport;
  /** What the report's trace proves (bounce/trace.ts verifyTrace). */
  trace: TraceVerdict;
  /** The recipient the trace proves (undefined: the id names no recipient, or nothing was proven). */
  recipient: StoredRecipient | undefined;
  /** From address of the recipient's message (the Complaint event's From). */
  fromAddress: string | null;
  /** Size of the report as received, in bytes (the Complaint event's Length). */
  sizeBytes: number;
}

/** Kinds that describe something happening to a message we sent; the rest are accepted and dropped. */
const ACTIONABLE: ReadonlySet<ReportKind> = new Set(['bounce', 'delay', 'complaint']);

export function planReport({ report, trace, recipient, fromAddress, sizeBytes }: PlanInput): ReportPlan {
  if (!ACTIONABLE.has(report.kind)) return { action: 'ignore', reason: 'not-a-report' };
  if (!trace.ok) return { action: 'ignore', reason: trace.reason };
  if (!recipient || recipient.id !== trace.recipientId) return { action: 'ignore', reason: 'unknown-recipient' };

  if (report.kind === 'complaint') {
    const c = report.complaint;
    if (!complaintNames(c?.originalRcptTo ?? [], recipient.address)) return { action: 'ignore', reason: 'recipient-mismatch' };
    const fblType = c?.feedbackType ?? 'abuse';
    return {
      action: 'record',
      record: {
        recipientId: recipient.id,
        event: { type: 'Complaint', data: { FblType: fblType, UserAgent: c?.userAgent ?? null, From: fromAddress, To: recipient.address, Length: sizeBytes } },
        suppress: { reason: 'Complaint', detail: clipDetail(`Complaint (${fblType})${c?.userAgent ? ` from ${c.userAgent}` : ''}`)! },
      },
    };
  }

  const action = report.kind === 'bounce' ? 'failed' : 'delayed';
  const line = lineFor(report.recipients, action, recipient.address);
  if (line === 'mismatch') return { action: 'ignore', reason: 'recipient-mismatch' };
  if (!line) return { action: 'ignore', reason: 'no-recipient-line' };
  const reason = line.diagnosticCode === null ? line.explanation : withoutType(line.diagnosticCode);
  const common = {
    FailureCode: line.failureCode,
    Reason: reason,
    BounceStatus: line.status,
    DiagnosticCode: line.diagnosticCode,
    // Remote-MTA names the server that refused; a report without one comes from that server itself.
    RemoteMta: line.remoteMta ?? report.reportingMta,
    Explanation: line.explanation,
    Async: true,
  };
  if (action === 'delayed') {
    return { action: 'record', record: { recipientId: recipient.id, event: { type: 'Deferred', data: common } } };
  }
  return {
    action: 'record',
    record: {
      recipientId: recipient.id,
      event: { type: 'Failed', data: { FailureType: line.permanent ? FAILURE_TYPE_PERMANENT : FAILURE_TYPE_TEMPORARY, ...common } },
      failure: { failureCode: line.failureCode, reply: reason },
      // The delivery path's rule: only a permanent address failure (2xxx) suppresses.
      suppress: bounceSuppression(line.permanent, line.failureCode, reason),
    },
  };
}

/**
 * The report line about our recipient: the one with the action naming its address (as final or
 * original recipient). A report whose lines name addresses, none of them ours with the action, is
 * about someone else (mismatch); one that names no address at all is taken at its first line
 * with the action. A forwarder that fails the mail of our recipient without naming it (no
 * Original-Recipient) is therefore not counted: a report only acts on the address it names.
 */
function lineFor(lines: readonly ReportRecipient[], action: 'failed' | 'delayed', address: string): ReportRecipient | 'mismatch' | undefined {
  const candidates = lines.filter((l) => l.action === action);
  const match = candidates.find((l) => sameAddress(l.address, address) || sameAddress(l.originalRecipient, address));
  if (match) return match;
  if (lines.some((l) => l.address.trim() !== '' || (l.originalRecipient ?? '').trim() !== '')) return 'mismatch';
  return candidates[0];
}

/** True unless the complaint names its recipient(s) and our recipient is not among them. */
function complaintNames(originalRcptTo: readonly string[], address: string): boolean {
  const named = originalRcptTo.filter((a) => a.trim() !== '');
  return named.length === 0 || named.some((a) => sameAddress(a, address));
}

/** Addresses compared case-insensitively, angle brackets and surrounding space ignored. */
function sameAddress(a: string | null, b: string): boolean {
  if (a === null) return false;
  return (
    a
      .trim()
      .replace(/^<(.*)>$/, '$1')
      .toLowerCase() === b.trim().toLowerCase()
  );
}

/** "smtp; 550 5.1.1 ..." -> "550 5.1.1 ..." (the delivery path's Reason is the reply alone). */
function withoutType(diagnosticCode: string): string {
  const m = /^[A-Za-z][\w-]*\s*;\s*([\s\S]+)$/.exec(diagnosticCode);
  return m ? m[1]! : diagnosticCode;
}
