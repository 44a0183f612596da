import MailComposer from 'nodemailer/lib/mail-composer';
import { dayStartMs, DAY_MS } from './utc-day.js';

export interface TlsReportMailInput {
  from: string;
  to: string;
  /** Our host name: the report's submitter (RFC 8460 §5.3). */
  submitter: string;
  policyDomain: string;
  /** `<id-left>@<id-right>`, as the Subject's Report-ID wants it. */
  reportId: string;
  /** The UTC day reported, YYYY-MM-DD. */
  day: string;
  /** Tells this report apart from others of the same day and domain in the file name. */
  uniqueId: string;
  /** The report's JSON, gzipped. */
  gzipped: Buffer;
  now: number;
}

/** RFC 8460 §5.3: `<submitter>!<policy-domain>!<begin>!<end>!<unique-id>.json.gz`, begin and end in Unix seconds. */
export function tlsReportFilename(submitter: string, policyDomain: string, day: string, uniqueId: string): string {
  const begin = Math.floor(dayStartMs(day) / 1000);
  const end = begin + DAY_MS / 1000 - 1;
  return `${submitter}!${policyDomain}!${begin}!${end}!${uniqueId}.json.gz`;
}

/** nodemailer writes header names in its own case ("Tls-Report-Domain"); RFC 8460 spells them out. */
const headerCase = (key: string): string => key.replace(/^Tls-Report-/i, 'TLS-Report-');

/**
 * The report as a mail message (RFC 8460 §5.3): a multipart/report of report-type "tlsrpt" with a
 * text/plain part saying what it is and the gzipped JSON as an application/tlsrpt+gzip
 * attachment; the Subject and TLS-Report-* header fields name the domain, the submitter and the
 * report id. CRLF line ends, ready for SMTP.
 */
export async function composeTlsReportMail(i: TlsReportMailInput): Promise<Buffer> {
  const composer = new MailComposer({
    from: i.from,
    to: i.to,
    subject: `Report Domain: ${i.policyDomain} Submitter: ${i.submitter} Report-ID: <${i.reportId}>`,
    date: new Date(i.now),
    headers: {
      'TLS-Report-Domain': i.policyDomain,
      'TLS-Report-Submitter': i.submitter,
      // RFC 3834: a machine wrote this; auto-responders leave it alone.
      'Auto-Submitted': 'auto-generated',
    },
    text: `This is an aggregate TLS report (RFC 8460) from ${i.submitter} about mail sent to ${i.policyDomain} on ${i.day} (UTC).\r\nThe report is attached as application/tlsrpt+gzip.\r\n`,
    attachments: [{ filename: tlsReportFilename(i.submitter, i.policyDomain, i.day, i.uniqueId), content: i.gzipped, contentType: 'application/tlsrpt+gzip' }],
    newline: 'win',
    normalizeHeaderKey: headerCase,
  });
  const root = composer.compile();
  // The composer makes text plus an attachment a multipart/mixed; the report is the same
  // structure under the type RFC 6522 gives reports (the boundary is kept).
  root.setHeader('Content-Type', 'multipart/report; report-type="tlsrpt"');
  return root.build();
}
