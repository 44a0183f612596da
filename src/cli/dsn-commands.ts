import { readFile } from 'node:fs/promises';
import { parseReport } from '../bounce/parse-report.js';
import { traceCandidates, verifyTrace, type TraceSource } from '../bounce/trace.js';
import type { ParsedReport } from '../bounce/types.js';
import type { VerpKeyring } from '../core/verp.js';
import { printJson, printTable, UsageError } from './output.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE = 'usage: postline dsn parse FILE [--rcpt-to ADDRESS] [--verify] [--json]';

/**
 * How the report's trace stands: verified true or false with --verify (the installation's keys),
 * null without (no configuration or store is read then). `reason` says why it is not verified:
 * untraced (no Postline id), untagged (an id without its tag), bad-tag.
 */
interface TraceReport {
  verified: boolean | null;
  via: TraceSource | null;
  tagged: boolean;
  reason: 'untraced' | 'untagged' | 'bad-tag' | null;
}

/**
 * `postline dsn parse FILE [--rcpt-to ADDRESS] [--verify] [--json]` reads one saved message (a
 * bounce, a complaint, anything) and prints what Postline makes of it. --rcpt-to gives the envelope
 * recipient it arrived for, which a saved file does not record. Needs no configuration or store,
 * except with --verify, where `keys` loads the installation's trace keys to check the tag.
 */
export async function dsnCommand(verb: string | undefined, args: string[], flags: Flags, keys?: () => Promise<VerpKeyring>): Promise<void> {
  if (verb !== 'parse' || args.length !== 1) throw new UsageError(USAGE);
  const file = args[0]!;
  let raw: Buffer;
  try {
    raw = await readFile(file);
  } catch (err) {
    // "ENOENT: no such file or directory, open 'x'" -> "ENOENT: no such file or directory": the path is already named.
    throw new UsageError(`cannot read ${file}: ${(err as Error).message.replace(/, \w+ '.*'$/s, '')}`);
  }
  const rcptTo = typeof flags['rcpt-to'] === 'string' ? flags['rcpt-to'] : undefined;
  const report = await parseReport(raw, rcptTo === undefined ? {} : { rcptTo });
  const trace = traceOf(report, rcptTo, flags.verify && keys ? await keys() : null);
  if (flags.json) return printJson(jsonOf(report, trace));
  printHuman(report, trace);
}

/** The MX listener's own trace policy (bounce/trace.ts), run with the keys when given. */
function traceOf(report: ParsedReport, rcptTo: string | undefined, keys: VerpKeyring | null): TraceReport {
  const candidates = traceCandidates({
    rcptTo: rcptTo ?? null,
    originalHeaders: report.originalHeaders,
    originalMailFrom: report.complaint?.originalMailFrom ?? null,
  });
  const tagged = candidates.some((c) => c.tag !== null);
  if (!keys) return { verified: null, via: candidates[0]?.source ?? null, tagged, reason: candidates.length === 0 ? 'untraced' : null };
  const v = verifyTrace(candidates, (id, tag) => keys.verify(id, tag));
  return v.ok ? { verified: true, via: v.via, tagged, reason: null } : { verified: false, via: v.via, tagged, reason: v.reason };
}

/**
 * The --json shape: isBounce and recipients with exactly these seven keys are the contract;
 * isComplaint, kind, recipientId, trace and complaint are additions. recipientId is the id the
 * report claims; trace says whether it is proven.
 */
function jsonOf(report: ParsedReport, trace: TraceReport) {
  return {
    isBounce: report.isBounce,
    isComplaint: report.isComplaint,
    kind: report.kind,
    recipientId: report.recipientId,
    trace,
    recipients: report.recipients.map((r) => ({
      address: r.address,
      status: r.status,
      action: r.action,
      diagnosticCode: r.diagnosticCode,
      permanent: r.permanent,
      failureCode: r.failureCode,
      explanation: r.explanation,
    })),
    complaint: report.complaint,
  };
}

const yesNo = (b: boolean): string => (b ? 'yes' : 'no');

function traceLine(t: TraceReport): string {
  const via = t.via ? ` (${t.via})` : '';
  if (t.verified === true) return `verified${via}`;
  if (t.verified === false) return `NOT verified: ${t.reason}${via}`;
  return `not checked, ${t.tagged ? 'tagged' : 'no tag'}${via} (--verify checks it with this installation's keys)`;
}

function printHuman(report: ParsedReport, trace: TraceReport): void {
  process.stdout.write(
    `kind: ${report.kind}, bounce: ${yesNo(report.isBounce)}, complaint: ${yesNo(report.isComplaint)}, recipient id: ${report.recipientId ?? 'not traced'}\n`,
  );
  if (report.recipientId !== null) process.stdout.write(`trace: ${traceLine(trace)}\n`);
  if (report.complaint) {
    const c = report.complaint;
    printTable([
      {
        feedbackType: c.feedbackType,
        userAgent: c.userAgent,
        originalMailFrom: c.originalMailFrom,
        originalRcptTo: c.originalRcptTo.join(', ') || null,
        arrivalDate: c.arrivalDate,
        sourceIp: c.sourceIp,
      },
    ]);
    return;
  }
  if (report.recipients.length === 0) return;
  printTable(
    report.recipients.map((r) => ({
      address: r.address,
      action: r.action,
      status: r.status,
      permanent: yesNo(r.permanent),
      failureCode: r.failureCode,
      explanation: r.explanation,
    })),
  );
}
