/**
 * Email address syntax accepted for envelope and header addresses. Stricter than the SocketLabs
 * client libraries' check (one `@`, no space/comma/semicolon, at most 320 characters) so that what
 * we accept is deliverable by SMTP: RFC 5321 length limits, a dot-atom or quoted local part, and a
 * domain of valid labels (Unicode allowed for internationalised domains and SMTPUTF8 local parts).
 */
const LOCAL_DOT_ATOM = /^[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+(\.[\p{L}\p{N}!#$%&'*+/=?^_`{|}~-]+)*$/u;
const LOCAL_QUOTED = /^"([\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const DOMAIN_LABEL = /^[\p{L}\p{N}]([\p{L}\p{N}-]{0,61}[\p{L}\p{N}])?$/u;
const ADDRESS_LITERAL = /^\[(\d{1,3}\.){3}\d{1,3}\]$/;

export const MAX_ADDRESS_LENGTH = 320;

export function isValidEmailAddress(address: string): boolean {
  if (address.length === 0 || address.length > MAX_ADDRESS_LENGTH) return false;
  const at = address.lastIndexOf('@');
  if (at <= 0 || at === address.length - 1) return false;
  const local = address.slice(0, at);
  const domain = address.slice(at + 1);
  if (local.length > 64 || domain.length > 253) return false;
  if (!LOCAL_DOT_ATOM.test(local) && !LOCAL_QUOTED.test(local)) return false;
  if (ADDRESS_LITERAL.test(domain)) return true;
  const labels = domain.split('.');
  if (labels.length < 2) return false;
  return labels.every((l) => DOMAIN_LABEL.test(l));
}

/** The domain part, lower-cased: what delivery groups by and reporting filters on. */
export function domainOf(address: string): string {
  return address.slice(address.lastIndexOf('@') + 1).toLowerCase();
}
