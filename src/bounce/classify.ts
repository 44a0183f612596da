/**
 * SMTP reply -> SocketLabs failure data (FailureCode), as a pure function.
 *
 * Order of evidence: the text rules in bounce-rules.ts (first match wins), then the RFC 3463
 * enhanced status, then the reply code's class. Permanence comes from the code class (5xx
 * permanent; 4xx, no reply and network errors temporary) unless the matching rule overrides it.
 * Outcomes are values: nothing here throws (docs/architecture.md, Conventions).
 */
import { BOUNCE_RULES } from './bounce-rules.js';

export interface SmtpReplyInput {
  /** 3-digit SMTP code; null when there was no reply (connection/network failure). */
  code: number | null;
  /** The full reply text (multi-line joined with \n), or the network error message. */
  text: string;
}

export interface Classification {
  /** true: 5xx or a rule says so; false: 4xx, network errors, no reply. */
  permanent: boolean;
  /** SocketLabs FailureCode (§7), e.g. 2001 unknown user, 3001 mailbox full, 4003 network, 9999 unknown. */
  failureCode: number;
  /** RFC 3463 status ("5.1.1") found in the reply text, else null. */
  enhancedStatus: string | null;
  /** One human line, e.g. "The recipient's mailbox does not exist." */
  explanation: string;
  /** Which rule matched; null when a fallback was used. */
  ruleId: string | null;
}

/**
 * Characters of reply text the rules look at. Real refusals are well under 1 KB (Gmail's longest
 * is ~700 characters); nodemailer accepts replies up to 1 MB, and a hostile server should not
 * make 40 regular expressions scan that for every recipient.
 */
export const MAX_CLASSIFIED_REPLY_CHARS = 8192;

/**
 * class.subject.detail (RFC 3463). The class must be 2, 4 or 5; the subject is one digit 0-7
 * (every subject IANA has registered), which keeps version numbers such as "Exim 4.94.2" out.
 * Neither side may touch another digit, letter or dot-digit, so an IP address ("[5.6.7.8]",
 * "45.2.3.4") is never read as a status; "#5.1.1" (qmail) and "550-5.1.1" are.
 */
const ENHANCED_STATUS = /(?<![\w.])([245])\.([0-7])\.(\d{1,3})(?!\w|\.\d)/;

/** The RFC 3463 enhanced status in a reply, e.g. "550-5.1.1 The email account" -> "5.1.1". */
export function parseEnhancedStatus(text: string): string | null {
  const m = ENHANCED_STATUS.exec(text.slice(0, MAX_CLASSIFIED_REPLY_CHARS));
  return m ? `${m[1]}.${m[2]}.${Number(m[3])}` : null;
}

export function classifySmtpReply(reply: SmtpReplyInput): Classification {
  const text = typeof reply.text === 'string' ? reply.text.slice(0, MAX_CLASSIFIED_REPLY_CHARS) : '';
  const enhancedStatus = parseEnhancedStatus(text);
  // A reply that reached us as an "error" (e.g. a 554 greeting reported by the connection layer)
  // still starts with its code: it was a reply, and its code class decides permanence.
  const code = reply.code ?? leadingReplyCode(text);

  if (code !== null) {
    if (!Number.isInteger(code) || code < 200 || code > 599) {
      // 1xx does not exist in SMTP; 0, 600+ and fractions are a broken reply, not a verdict.
      return { permanent: false, failureCode: 4002, enhancedStatus, explanation: 'The receiving server sent a reply that is not valid SMTP.', ruleId: null };
    }
    if (code < 400) {
      // 2xx/3xx reaching the classifier is a caller bug; answer with a value, not a throw.
      return { permanent: false, failureCode: 9999, enhancedStatus, explanation: 'Not a failure.', ruleId: null };
    }
  }

  const codePermanent = code !== null && code >= 500;
  const normalized = normalizeReply(text);
  for (const rule of BOUNCE_RULES) {
    // search() ignores and preserves lastIndex, so a stray g flag cannot make matching stateful.
    if (normalized.search(rule.match) !== -1) {
      return { permanent: rule.permanent ?? codePermanent, failureCode: rule.failureCode, enhancedStatus, explanation: rule.explanation, ruleId: rule.id };
    }
  }

  if (code === null) {
    return { permanent: false, failureCode: 4003, enhancedStatus, explanation: 'Could not connect to the receiving server.', ruleId: null };
  }
  const byStatus = enhancedStatus === null ? undefined : statusFallback(enhancedStatus);
  if (byStatus) {
    return {
      permanent: byStatus.permanent ?? codePermanent,
      failureCode: byStatus.failureCode,
      enhancedStatus,
      explanation: byStatus.explanation,
      ruleId: null,
    };
  }
  return codePermanent
    ? { permanent: true, failureCode: 2999, enhancedStatus, explanation: 'The receiving server refused the message permanently.', ruleId: null }
    : { permanent: false, failureCode: 3999, enhancedStatus, explanation: 'The receiving server refused the message temporarily.', ruleId: null };
}

interface StatusFallback {
  /** "subject.detail", or "subject.*" for the whole subject. */
  readonly status: string;
  readonly failureCode: number;
  readonly permanent?: boolean;
  readonly explanation: string;
}

/**
 * Used when no text rule matched. The class digit is ignored: permanence follows the reply code
 * ("550 4.2.2" is a 5xx), except where an entry says otherwise. Exact entries beat "x.*" ones.
 */
const STATUS_FALLBACKS: readonly StatusFallback[] = Object.freeze([
  { status: '1.1', failureCode: 2001, explanation: "The recipient's mailbox does not exist." },
  { status: '1.2', failureCode: 2002, explanation: 'The recipient domain does not exist or accepts no mail.' },
  { status: '1.3', failureCode: 2003, explanation: 'The recipient address is not valid syntax.' },
  { status: '1.6', failureCode: 2004, explanation: "The recipient's mailbox has moved or no longer exists." },
  // RFC 7505: "recipient address has null MX". (Exchange reuses 5.1.10 for unknown users; its
  // text is matched by a rule first.)
  { status: '1.10', failureCode: 2002, explanation: 'The recipient domain accepts no mail.' },
  { status: '1.7', failureCode: 1999, explanation: "The receiving server refused the message's sender address." },
  { status: '1.8', failureCode: 1999, explanation: "The receiving server refused the message's sender domain." },
  // Full mailboxes are temporary even on a 5xx: §7 names "mailbox full" as SocketLabs' example of
  // a temporary failure (the mailbox-full rule does the same).
  { status: '2.2', failureCode: 3001, permanent: false, explanation: "The recipient's mailbox is full." },
  { status: '2.1', failureCode: 3002, explanation: "The recipient's mailbox is disabled or not accepting mail." },
  // Too large: 1999, not 2999, because the address is fine; only this message is refused.
  { status: '2.3', failureCode: 1999, explanation: 'The message is larger than the receiving server accepts.' },
  { status: '3.4', failureCode: 1999, explanation: 'The message is larger than the receiving server accepts.' },
  { status: '3.1', failureCode: 4001, explanation: 'The receiving mail system is out of storage.' },
  { status: '3.2', failureCode: 4001, explanation: 'The receiving mail system is not accepting messages now.' },
  { status: '4.7', failureCode: 4004, explanation: 'The message expired before it could be delivered.' },
  { status: '4.*', failureCode: 4999, explanation: 'A network or routing problem at the receiving side prevented delivery.' },
  { status: '5.*', failureCode: 4002, explanation: 'The receiving server reported an SMTP protocol error.' },
  // RFC 6531: a UTF-8 address or header needs SMTPUTF8, which the receiving server does not offer
  // (Postline says it in the server's place when it cannot downgrade, transaction-plan.ts).
  {
    status: '6.7',
    failureCode: 4002,
    explanation: 'The receiving server does not accept internationalised (UTF-8) addresses or headers, and the message could not be downgraded.',
  },
  { status: '6.*', failureCode: 4002, explanation: 'The receiving server could not accept the message format.' },
  // RFC 7372 authentication results: 7.20-7.22 DKIM, 7.23-7.24 SPF, 7.25 reverse DNS, 7.26 several.
  ...['7.20', '7.21', '7.22', '7.23', '7.24', '7.25', '7.26'].map((status) => ({
    status,
    failureCode: 1010,
    explanation: "The message failed the receiving server's sender authentication checks.",
  })),
  { status: '7.*', failureCode: 1999, explanation: 'The receiving server refused the message for policy reasons.' },
]);

function statusFallback(status: string): StatusFallback | undefined {
  const [, subject, detail] = status.split('.');
  return STATUS_FALLBACKS.find((f) => f.status === `${subject}.${detail}`) ?? STATUS_FALLBACKS.find((f) => f.status === `${subject}.*`);
}

/** A 4xx/5xx code at the very start of the text ("554 5.7.1 ..."), else null. */
function leadingReplyCode(text: string): number | null {
  const m = /^\s*([45][0-5]\d)(?=[ -]|$)/.exec(text);
  return m ? Number(m[1]) : null;
}

/**
 * One line for the rules: continuation lines lose their "550-5.1.1 " prefix (so a phrase wrapped
 * across lines still matches), whitespace collapses. The first line keeps code and status.
 * Traffic shaping reads its slow-down patterns against the same text (delivery/shaping/).
 */
export function normalizeReply(text: string): string {
  return text
    .split(/\r?\n/)
    .map((line, i) => (i === 0 ? line : line.replace(/^\s*\d{3}(?:[ -]|$)(?:[245]\.\d{1,3}\.\d{1,3}(?=\s|$))?/, '')))
    .join(' ')
    .replace(/\s+/g, ' ')
    .trim();
}
