/**
 * What a SocketLabs FailureCode means, in words a person reading a bounce can act on. The codes
 * are SocketLabs' table (the wire-format reference, §7); the classifier (bounce/bounce-rules.ts)
 * picks them, and this table explains them wherever a failure is shown (message detail).
 */

const FAILURE_CODES: Readonly<Record<number, string>> = Object.freeze({
  1001: 'Blocked: the recipient or their provider reported earlier mail as spam.',
  1002: 'Blocked: the sending IP address or domain is on a public blocklist.',
  1003: "Blocked: the receiving provider's own reputation filter refused the sender.",
  1004: 'Blocked: the content of the message was refused.',
  1005: 'Blocked: a link (URL) in the message was refused.',
  1006: 'Blocked: too much mail or too many connections from the sender.',
  1007: 'Blocked: a security check failed (for example a virus was found).',
  1008: 'Blocked: the receiving server took the sender for an open relay.',
  1009: 'Blocked: the receiving server suspected address harvesting.',
  1010: 'Blocked: the sender failed authentication (SPF, DKIM or DMARC).',
  1011: 'Blocked: the recipient answers with a challenge the sender must complete.',
  1999: 'Blocked or refused for another reason about the message or its sender.',
  2001: 'The address does not exist: the receiving server does not know this user.',
  2002: 'The domain of the address does not exist or does not accept mail.',
  2003: 'The address is not a valid email address.',
  2004: 'The account is closed or no longer valid.',
  2999: 'The address failed permanently for another reason.',
  3001: "The recipient's mailbox is full.",
  3002: "The recipient's account is inactive or disabled.",
  3003: 'The receiving server kept asking to try later (greylisting).',
  3999: 'The recipient failed temporarily for another reason.',
  4001: 'The receiving server was too busy.',
  4002: 'The conversation with the receiving server failed (a protocol error or a time-out).',
  4003: 'The receiving server could not be reached (a network error).',
  4004: 'The message expired: it could not be delivered before its lifetime ran out.',
  4006: 'The receiving server does not accept mail for this domain (relaying denied).',
  4999: 'Communication with the receiving server failed for another reason.',
  5001: 'An automatic reply (out of office or similar), not a failure of delivery.',
  5999: 'An informational reply, not a failure of delivery.',
  9999: 'Not sent: the address is on the suppression list (or the reason is unknown).',
});

/** The FailureCode families (the first digit), for codes outside the table. */
const FAMILIES: Readonly<Record<string, string>> = Object.freeze({
  '1': 'Blocked: the receiving side refused the message or its sender.',
  '2': 'The address failed permanently.',
  '3': 'The recipient failed temporarily.',
  '4': 'Communication with the receiving server failed.',
  '5': 'An informational reply, not a failure of delivery.',
});

/** A sentence saying what `code` means; null when there is no code. A code outside the table is explained by its family. */
export function describeFailureCode(code: number | null | undefined): string | null {
  if (code === null || code === undefined) return null;
  const exact = FAILURE_CODES[code];
  if (exact !== undefined) return exact;
  const family = code >= 1000 && code <= 5999 ? FAMILIES[String(code)[0]!] : undefined;
  return family ?? 'A failure code Postline has no description for.';
}
