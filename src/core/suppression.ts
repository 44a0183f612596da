/**
 * Suppression lists: the addresses a server no longer sends to. Pure domain rules shared by the
 * store (accept time, delivery outcomes), the management API and the CLI.
 */

/** Why an address is suppressed: the names SocketLabs' control panel shows. */
export const SUPPRESSION_REASONS = ['Failure', 'Bounce', 'Unsubscribe', 'Complaint', 'CustomerRequest'] as const;
export type SuppressionReason = (typeof SUPPRESSION_REASONS)[number];

export interface Suppression {
  serverId: number;
  /** Lower-cased: one entry per mailbox whatever case senders write it in. */
  address: string;
  reason: SuppressionReason;
  /** What caused it, e.g. "FailureCode 2001: 550 5.1.1 User unknown"; null when nothing is known. */
  detail: string | null;
  createdAt: number;
  updatedAt: number;
}

export interface NewSuppression {
  address: string;
  reason: SuppressionReason;
  detail?: string | null;
}

/**
 * Details longer than this are cut: a bounce reply can be kilobytes long, and the first line or
 * two say what happened.
 */
export const MAX_SUPPRESSION_DETAIL_CHARS = 1_000;

/**
 * The form addresses are stored and compared in. Local parts are case-sensitive on paper
 * (RFC 5321 §2.4), but no mailbox provider treats them so, and a list that held "Bob@x" and
 * "bob@x" apart would let a suppressed address through by its capitalisation.
 */
export function suppressionKey(address: string): string {
  return address.toLowerCase();
}

export function clipDetail(detail: string | null | undefined): string | null {
  if (detail === null || detail === undefined) return null;
  return detail.length > MAX_SUPPRESSION_DETAIL_CHARS ? detail.slice(0, MAX_SUPPRESSION_DETAIL_CHARS) : detail;
}

/** SocketLabs' FailureType 2: not attempted because the address is on the suppression list (§7). */
export const FAILURE_TYPE_SUPPRESSED = 2;
/** The FailureCode SocketLabs reports with FailureType 2 (§7). */
export const FAILURE_CODE_SUPPRESSED = 9999;

/**
 * 2xxx FailureCodes say the address itself is bad (unknown user, bad domain, closed account);
 * 1xxx are blocks of this message or sender, 3xxx/4xxx temporary. Only a permanent address
 * failure suppresses: suppressing on a content or IP block would stop mail to good addresses.
 */
export function isAddressFailure(failureCode: number | null): boolean {
  return failureCode !== null && failureCode >= 2000 && failureCode <= 2999;
}

/** The suppression a permanent delivery failure adds, or null when it adds none. */
export function bounceSuppression(permanent: boolean, failureCode: number | null, reply: string): { reason: SuppressionReason; detail: string } | null {
  if (!permanent || !isAddressFailure(failureCode)) return null;
  return { reason: 'Bounce', detail: clipDetail(`FailureCode ${failureCode}: ${reply}`)! };
}

/** The Failed event a recipient gets when it is accepted but suppressed (never queued for delivery). */
export function suppressedFailure(address: string, reason: SuppressionReason): { reply: string; data: Record<string, unknown> } {
  const reply = `Suppressed: ${address} is on this server's suppression list (${reason}); not sent`;
  return {
    reply,
    data: {
      FailureType: FAILURE_TYPE_SUPPRESSED,
      FailureCode: FAILURE_CODE_SUPPRESSED,
      Reason: reply,
      BounceStatus: null,
      DiagnosticCode: null,
      RemoteMta: null,
      SuppressionReason: reason,
      Explanation: "The recipient is on the server's suppression list, so the message was not sent.",
    },
  };
}
