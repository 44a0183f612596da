/**
 * What one SMTP transaction sends, decided from the message and the next hop's EHLO keywords, as
 * a pure function: the MAIL FROM parameters (SIZE, BODY=8BITMIME, SMTPUTF8) and the envelope
 * addresses, downgraded where the next hop lacks SMTPUTF8 and the message allows it, or the
 * refusal that fails the recipient without sending anything.
 *
 * - 8-bit content (RFC 6152): BODY=8BITMIME where offered. Where it is not, the message goes as
 *   it is: the next hop is known only after the message was DKIM-signed, so converting a part to
 *   quoted-printable would break Postline's signature and any the customer made; the receivers
 *   that lack 8BITMIME today take 8-bit bytes anyway.
 * - SMTPUTF8 (RFC 6531): asked for where the next hop offers it and an envelope address or the
 *   header section is UTF-8. Where it is not offered, an internationalised domain goes as its
 *   A-label (punycode), which needs no extension; a UTF-8 local part cannot be downgraded and the
 *   recipient fails with 5.6.7. UTF-8 header fields alone go as they are, like legacy 8-bit text
 *   (Postfix does the same for mail whose client did not ask for SMTPUTF8): rewriting them would
 *   break the DKIM signatures, and refusing would bounce mail that such receivers take today.
 */
import { isAscii, isUtf8 } from 'node:buffer';
import { domainToASCII } from 'node:url';

/** The EHLO keywords of the next hop that change what is sent. */
export interface NextHop {
  size: boolean;
  eightBitMime: boolean;
  smtpUtf8: boolean;
}

export type TransactionPlan = { ok: true; from: string; to: string; mailParams: string[] } | { ok: false; code: number; reply: string };

/** RFC 6531 section 3.5's reply for an address that needs SMTPUTF8 where it is not available. */
const NOT_PERMITTED = '5.6.7';
const CRLF_CRLF = Buffer.from('\r\n\r\n');

const nonAscii = (s: string): boolean => /[^\x00-\x7f]/.test(s);

/** The header section (up to the empty line) is UTF-8 with at least one non-ASCII byte (RFC 6532). */
export function hasUtf8Headers(message: Buffer): boolean {
  const end = message.indexOf(CRLF_CRLF);
  const headers = end === -1 ? message : message.subarray(0, end + 2);
  // Non-ASCII bytes that are not UTF-8 are legacy 8-bit text, not internationalised headers:
  // SMTPUTF8 would not describe them, and they go as they came, like an 8-bit body.
  return !isAscii(headers) && isUtf8(headers);
}

/** An address for a next hop without SMTPUTF8: the domain as A-labels; null when the local part is not ASCII or the domain cannot convert. */
export function asciiAddress(address: string): string | null {
  if (!nonAscii(address)) return address;
  const at = address.lastIndexOf('@');
  const local = address.slice(0, at);
  if (at <= 0 || nonAscii(local)) return null;
  const domain = domainToASCII(address.slice(at + 1));
  return domain === '' ? null : `${local}@${domain}`;
}

export function planTransaction(envelope: { from: string; to: string }, message: Buffer, hop: NextHop): TransactionPlan {
  const params: string[] = [];
  if (hop.size) params.push(`SIZE=${message.length}`);
  if (hop.eightBitMime && !isAscii(message)) params.push('BODY=8BITMIME');
  const utf8Envelope = nonAscii(envelope.from) || nonAscii(envelope.to);
  if (!utf8Envelope && !hasUtf8Headers(message)) return { ok: true, ...envelope, mailParams: params };
  if (hop.smtpUtf8) return { ok: true, ...envelope, mailParams: [...params, 'SMTPUTF8'] };

  const refuse = (why: string): TransactionPlan => ({
    ok: false,
    code: 553,
    reply: `${NOT_PERMITTED} ${why}: the receiving server does not offer SMTPUTF8 (RFC 6531)`,
  });
  const to = asciiAddress(envelope.to);
  if (to === null) return refuse(`Non-ASCII address <${envelope.to}> not permitted`);
  const from = asciiAddress(envelope.from);
  if (from === null) return refuse(`Non-ASCII sender address <${envelope.from}> not permitted`);
  return { ok: true, from, to, mailParams: params };
}
