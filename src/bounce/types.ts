/**
 * What the bounce reader says about one inbound message: a bounce (RFC 3464 DSN or a plain-text
 * non-delivery report), a complaint (RFC 5965 ARF), or something that is neither.
 */

/** RFC 3464 §2.3.3 action values. Only `failed` and `delayed` describe a delivery problem. */
export const DSN_ACTIONS = ['failed', 'delayed', 'delivered', 'relayed', 'expanded'] as const;
export type DsnAction = (typeof DSN_ACTIONS)[number];

/**
 * - bounce: at least one recipient failed.
 * - delay: recipients were only delayed; the reporting server is still trying.
 * - delivery-report: a DSN whose recipients were delivered, relayed or expanded (a success notice).
 * - complaint: an ARF feedback report of abuse, fraud, virus or other (a spam complaint).
 * - feedback: an ARF report that is not a complaint (not-spam, auth-failure).
 * - auto-reply: out-of-office, vacation and other automatic answers.
 * - read-receipt: an RFC 8098 message disposition notification.
 * - other: ordinary mail, or input that could not be read.
 */
export type ReportKind = 'bounce' | 'delay' | 'delivery-report' | 'complaint' | 'feedback' | 'auto-reply' | 'read-receipt' | 'other';

/** One header field: the name as written, the value unfolded (line breaks before whitespace removed). */
export interface HeaderField {
  name: string;
  value: string;
}

export interface ReportRecipient {
  /** Final-Recipient (or, when absent, Original-Recipient) without its address type; the failed address of a plain-text report. */
  address: string;
  /** Original-Recipient, when the report gives one that differs from `address`. */
  originalRecipient: string | null;
  action: DsnAction;
  /** RFC 3463 status, e.g. "5.1.1": the DSN's Status field, or the status found in a plain-text reply. */
  status: string | null;
  /** Diagnostic-Code as written ("smtp; 550 5.1.1 ..."), or the SMTP reply quoted by a plain-text report. */
  diagnosticCode: string | null;
  /** Remote-MTA without its type ("mx.example.com"), when reported. */
  remoteMta: string | null;
  /** False for delays and for failures that may pass later (full mailbox, 4xx replies). */
  permanent: boolean;
  /** SocketLabs FailureCode; null when the recipient was delivered, relayed or expanded. */
  failureCode: number | null;
  /** One human line. */
  explanation: string;
}

/** The RFC 5965 fields of a feedback report that a sender acts on. */
export interface FeedbackReport {
  /** Lower case: abuse, fraud, virus, other, not-spam, auth-failure, ... */
  feedbackType: string;
  userAgent: string | null;
  version: string | null;
  /** Angle brackets removed; the attached original's Return-Path when the report has none (AOL, JMRP). */
  originalMailFrom: string | null;
  /** Angle brackets removed; Microsoft JMRP's X-HmXmrOriginalRecipient when the report has none. */
  originalRcptTo: string[];
  /** Arrival-Date as written (the pre-RFC 5965 Received-Date when that is what the report carries). */
  arrivalDate: string | null;
  sourceIp: string | null;
  reportedDomain: string | null;
}

export interface ParsedReport {
  kind: ReportKind;
  /** True when at least one recipient failed or was delayed. */
  isBounce: boolean;
  /** True for ARF abuse/fraud/virus/other reports. */
  isComplaint: boolean;
  /** Every recipient a DSN lists (whatever its action), or the failed addresses of a plain-text report. */
  recipients: ReportRecipient[];
  /** The feedback report of an ARF message, else null. */
  complaint: FeedbackReport | null;
  /** Reporting-MTA of a DSN, without its type. */
  reportingMta: string | null;
  /** Headers of the original message the report carries (attached, header-only part, or quoted inline). */
  originalHeaders: HeaderField[];
  /** Postline's recipient id (26-character ULID, upper case) the report is about, or null. */
  recipientId: string | null;
}

/** The SMTP envelope an inbound report arrived with, when it is known. */
export interface ReportEnvelope {
  /** RCPT TO: for a bounce this is the Return-Path Postline sent with, b+<recipient id>@<bounce domain>. */
  rcptTo?: string;
}
