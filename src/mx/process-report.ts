/**
 * One message received by the MX listener -> read (bounce/parse-report.ts), traced to its
 * recipient with proof (bounce/trace.ts: the tag must verify), planned (report-plan.ts) and
 * recorded durably. Throws only when the store fails: the listener then answers 451 and the
 * sender tries again later.
 */
import { parseReport } from '../bounce/parse-report.js';
import { traceCandidates, verifyTrace, type TraceSource } from '../bounce/trace.js';
import type { ReportKind } from '../bounce/types.js';
import type { VerpKeyring } from '../core/verp.js';
import type { Store } from '../store/store.js';
import { planReport, type IgnoreReason } from './report-plan.js';
import { mailboxFor, type MxAddresses } from './recipient-policy.js';

/** What happened to one report: written, or why not (labels of postline_inbound_reports_total). */
export type ReportOutcome = 'recorded' | 'already-failed' | 'duplicate' | 'not-sent' | IgnoreReason;

export interface ProcessedReport {
  kind: ReportKind;
  outcome: ReportOutcome;
  /** The recipient the report proved, else the one it claimed (a forgery's target), else null. */
  recipientId: string | null;
  /** Where the id was found (rcpt-to, return-path, message-id, ...), when one was. */
  tracedVia: TraceSource | null;
  /** The event written (recorded only). */
  eventType: string | null;
  serverId: number | null;
  messageId: string | null;
}

export async function processReport(
  raw: Buffer,
  envelope: { rcptTo: readonly string[] },
  deps: { store: Store; now: () => number; addresses: MxAddresses; verp: VerpKeyring },
): Promise<ProcessedReport> {
  // The bounce address carries the id; the complaint address does not, so it is left out and the
  // report is traced by the original message it quotes.
  const rcptTo = envelope.rcptTo.find((a) => mailboxFor(a, deps.addresses) === 'bounce');
  const report = await parseReport(raw, rcptTo === undefined ? {} : { rcptTo });
  const trace = verifyTrace(
    traceCandidates({ rcptTo: rcptTo ?? null, originalHeaders: report.originalHeaders, originalMailFrom: report.complaint?.originalMailFrom ?? null }),
    (id, tag) => deps.verp.verify(id, tag),
  );
  const base = {
    kind: report.kind,
    recipientId: trace.ok ? trace.recipientId : (trace.claimedId ?? report.recipientId),
    tracedVia: trace.via,
    eventType: null,
    serverId: null,
    messageId: null,
  };
  // Only a proven id is looked up: a forged one must not even cost a read of someone's row.
  const recipient = trace.ok ? await deps.store.queue.getRecipient(trace.recipientId) : undefined;
  const message = recipient && report.kind === 'complaint' ? await deps.store.queue.getMessage(recipient.messageId) : undefined;
  const plan = planReport({ report, trace, recipient, fromAddress: message?.fromAddress ?? null, sizeBytes: raw.length });
  if (plan.action === 'ignore') return { ...base, outcome: plan.reason };
  const result = await deps.store.queue.recordInboundReport(plan.record, deps.now());
  if (result.kind !== 'recorded') return { ...base, outcome: result.kind === 'unknown-recipient' ? 'unknown-recipient' : result.kind };
  return { ...base, outcome: 'recorded', eventType: plan.record.event.type, serverId: result.serverId, messageId: result.messageId };
}
