import { readFile } from 'node:fs/promises';
import { parseReport } from '../bounce/parse-report.js';
import type { ParsedReport } from '../bounce/types.js';
import { printJson, printTable, UsageError } from './output.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE = 'usage: postline dsn parse FILE [--rcpt-to ADDRESS] [--json]';

/**
 * `postline dsn parse FILE [--rcpt-to ADDRESS] [--json]` reads one saved message (a bounce, a
 * complaint, anything) and prints what Postline makes of it. --rcpt-to gives the envelope
 * recipient it arrived for, which a saved file does not record. Needs no configuration or store.
 */
export async function dsnCommand(verb: string | undefined, args: string[], flags: Flags): Promise<void> {
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
  if (flags.json) return printJson(jsonOf(report));
  printHuman(report);
}

/**
 * The --json shape: isBounce and recipients with exactly these seven keys are the contract;
 * isComplaint, kind, recipientId and complaint are additions.
 */
function jsonOf(report: ParsedReport) {
  return {
    isBounce: report.isBounce,
    isComplaint: report.isComplaint,
    kind: report.kind,
    recipientId: report.recipientId,
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

function printHuman(report: ParsedReport): void {
  process.stdout.write(`kind: ${report.kind}, bounce: ${yesNo(report.isBounce)}, complaint: ${yesNo(report.isComplaint)}, recipient id: ${report.recipientId ?? 'not traced'}\n`);
  if (report.complaint) {
    const c = report.complaint;
    printTable([{ feedbackType: c.feedbackType, userAgent: c.userAgent, originalMailFrom: c.originalMailFrom, originalRcptTo: c.originalRcptTo.join(', ') || null, arrivalDate: c.arrivalDate, sourceIp: c.sourceIp }]);
    return;
  }
  if (report.recipients.length === 0) return;
  printTable(report.recipients.map((r) => ({
    address: r.address, action: r.action, status: r.status, permanent: yesNo(r.permanent), failureCode: r.failureCode, explanation: r.explanation,
  })));
}
