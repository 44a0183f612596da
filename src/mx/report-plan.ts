/**
 * What an inbound report means for the recipient it traces to, as a pure function: the event to
 * write (Failed, Deferred or Complaint, shaped like the delivery path's, delivery/outcome.ts), the
 * recipient's final status for a bounce, and the suppression it causes; or why nothing is written.
 */
import type { ParsedReport, ReportKind, ReportRecipient } from '../bounce/types.js';
import { bounceSuppression, clipDetail } from '../core/suppression.js';
import type { InboundReportRecord, StoredRecipient } from '../store/store.js';

/** SocketLabs' FailureType (reference §7). */
const FAILURE_TYPE_TEMPORARY = 0;
const FAILURE_TYPE_PERMANENT = 1;

/** Why a report writes nothing (besides what the store may answer: see InboundReportResult). */
export type IgnoreReason = 'not-a-report' | 'untraced' | 'unknown-recipient' | 'no-recipient-line';

export type ReportPlan = { action: 'record'; record: InboundReportRecord } | { action: 'ignore'; reason: IgnoreReason };

export interface PlanInput {
  report: ParsedReport;
  /** The recipient the report traces to (undefined: the id names no recipient). */
  recipient: StoredRecipient | undefined;
  /** From address of the recipient's message (the Complaint event's From). */
  fromAddress: string | null;
  /** Size of the report as received, in bytes (the Complaint event's Length). */
  sizeBytes: number;
}

/** Kinds that describe something happening to a message we sent; the rest are accepted and dropped. */
const ACTIONABLE: ReadonlySet<ReportKind> = new Set(['bounce', 'delay', 'complaint']);

export function planReport({ report, recipient, fromAddress, sizeBytes }: PlanInput): ReportPlan {
  if (!ACTIONABLE.has(report.kind)) return { action: 'ignore', reason: 'not-a-report' };
  if (report.recipientId === null) return { action: 'ignore', reason: 'untraced' };
  if (!recipient) return { action: 'ignore', reason: 'unknown-recipient' };

  if (report.kind === 'complaint') {
    const c = report.complaint;
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
  if (!line) return { action: 'ignore', reason: 'no-recipient-line' };
  const reason = line.diagnosticCode === null ? line.explanation : withoutType(line.diagnosticCode);
  const common = {
    FailureCode: line.failureCode, Reason: reason, BounceStatus: line.status, DiagnosticCode: line.diagnosticCode,
    // Remote-MTA names the server that refused; a report without one comes from that server itself.
    RemoteMta: line.remoteMta ?? report.reportingMta, Explanation: line.explanation, Async: true,
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
 * The report line about our recipient: the one naming its address (as final or original
 * recipient), else the first with the action. A report may list several (an alias expanded
 * further on); a forwarded address that fails still means our recipient's mail fails.
 */
function lineFor(lines: readonly ReportRecipient[], action: 'failed' | 'delayed', address: string): ReportRecipient | undefined {
  const candidates = lines.filter((l) => l.action === action);
  const lower = address.toLowerCase();
  return candidates.find((l) => l.address.toLowerCase() === lower || l.originalRecipient?.toLowerCase() === lower) ?? candidates[0];
}

/** "smtp; 550 5.1.1 ..." -> "550 5.1.1 ..." (the delivery path's Reason is the reply alone). */
function withoutType(diagnosticCode: string): string {
  const m = /^[A-Za-z][\w-]*\s*;\s*([\s\S]+)$/.exec(diagnosticCode);
  return m ? m[1]! : diagnosticCode;
}
