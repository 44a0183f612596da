/**
 * A reported recipient's status and diagnostic -> permanence, FailureCode and explanation, through
 * the same classifier the delivery worker uses for synchronous SMTP replies (classify.ts),
 * so an address fails the same way whether the refusal came during the session or by mail later.
 */
import { classifySmtpReply, parseEnhancedStatus } from './classify.js';
import type { DsnAction } from './types.js';

export interface RecipientEvidence {
  action: DsnAction;
  /** RFC 3463 status, e.g. "5.1.1", or null. */
  status: string | null;
  /** The reply or diagnostic text without its type ("550 5.1.1 User unknown"), or null. */
  diagnostic: string | null;
}

export interface RecipientVerdict {
  permanent: boolean;
  failureCode: number | null;
  explanation: string;
}

const NOT_A_FAILURE: Record<Exclude<DsnAction, 'failed' | 'delayed'>, string> = {
  delivered: 'The message was delivered to the recipient.',
  relayed: 'The message was relayed to a system that does not send delivery reports.',
  expanded: 'The message was delivered and forwarded to the members of a list or alias.',
};

export function classifyRecipient(evidence: RecipientEvidence): RecipientVerdict {
  const { action, status } = evidence;
  if (action !== 'failed' && action !== 'delayed') {
    return { permanent: false, failureCode: null, explanation: NOT_A_FAILURE[action] };
  }
  const diagnostic = evidence.diagnostic?.trim() ?? '';
  // The classifier reads permanence from the reply code. A diagnostic that is not an SMTP reply
  // (X-Postfix text, "5.1.0 - Unknown address error", a bare Status) has none, so the Status class
  // stands in for it, and failing that the action: a report that says "failed" without any code
  // is a final refusal, one that says "delayed" is not.
  const code = leadingReplyCode(diagnostic) ?? codeOfStatusClass(status) ?? (action === 'failed' ? 550 : 450);
  // With no status in the text, put the Status field in front so the status fallbacks can use it
  // ("smtp; 550 Requested action not taken" with Status 5.1.1 is an unknown user).
  const text = status !== null && parseEnhancedStatus(diagnostic) === null ? `${status} ${diagnostic}`.trim() : diagnostic;
  const verdict = classifySmtpReply({ code, text });
  return { permanent: permanence(action, status, verdict.failureCode, verdict.permanent), failureCode: verdict.failureCode, explanation: verdict.explanation };
}

/**
 * Whether the reported failure is final. A delayed recipient is still being retried by the
 * reporting server. Otherwise the Status class is the reporting server's own word, whatever reply
 * code it quoted ("554 4.4.7 Message expired" is temporary, "550 5.7.1 ... try again later" is
 * final), except that a full mailbox stays temporary as on the delivery path (the address is
 * fine). Without a Status, an expiry or an unreachable server (4004, 4003) is temporary: the
 * server gave up on the message, not on the address; anything else follows the classifier.
 */
function permanence(action: DsnAction, status: string | null, failureCode: number, classifierPermanent: boolean): boolean {
  if (action === 'delayed' || status?.startsWith('4.')) return false;
  if (status?.startsWith('5.')) return failureCode !== MAILBOX_FULL;
  if (failureCode === EXPIRED || failureCode === UNREACHABLE) return false;
  return classifierPermanent;
}

const MAILBOX_FULL = 3001;
const UNREACHABLE = 4003;
const EXPIRED = 4004;

/** "550 5.1.1 ...", "550-5.1.1 ...", "554: delivery error" -> the code; else null. */
export function leadingReplyCode(text: string): number | null {
  const m = /^\s*([245][0-5]\d)(?=[ :-]|$)/.exec(text);
  return m ? Number(m[1]) : null;
}

function codeOfStatusClass(status: string | null): number | null {
  if (status?.startsWith('5.')) return 550;
  if (status?.startsWith('4.')) return 450;
  return null;
}
