/**
 * Custom domains of a server: a bounce domain (the domain of its Return-Path, so bounces come back
 * under the customer's name and SPF/DMARC alignment can use it) and a tracking domain (the host of
 * its click, open and unsubscribe links). Both are CNAMEs the customer publishes to Postline's own
 * host (records.ts); the names, kinds and the shapes stored with them live here.
 */

export const CUSTOM_DOMAIN_KINDS = ['bounce', 'tracking'] as const;
export type CustomDomainKind = (typeof CUSTOM_DOMAIN_KINDS)[number];

/** What one DNS check found for one record. `error`: the lookup failed (timeout, SERVFAIL), nothing is known. */
export type RecordStatus = 'verified' | 'missing' | 'mismatch' | 'error';

/** One record a customer publishes, and what the last check found for it. */
export interface RecordCheck {
  type: 'CNAME';
  /** The name to publish (the custom domain itself). */
  name: string;
  /** The value it must have. */
  expected: string;
  status: RecordStatus;
  /** The values the check found (lower-case, no trailing dot). */
  found: string[];
  /** Why the lookup failed (status error). */
  error?: string;
}

/** The longest domain name (RFC 1035 §2.3.4, without the trailing dot). */
export const MAX_DOMAIN_LENGTH = 253;

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

/**
 * The domain lower-cased, without a trailing dot, or null when it is not a host name of at least two
 * labels (letters, digits, hyphens; the last label not all digits, so an IP address is refused).
 */
export function normalizeDomain(raw: string): string | null {
  const d = raw.trim().toLowerCase().replace(/\.$/, '');
  if (d.length === 0 || d.length > MAX_DOMAIN_LENGTH) return null;
  const labels = d.split('.');
  if (labels.length < 2 || !labels.every((l) => LABEL.test(l))) return null;
  return /^\d+$/.test(labels[labels.length - 1]!) ? null : d;
}

/** The tracking origin a tracking domain gives its server (servers.tracking_domain). */
export function trackingOriginOf(domain: string, https: boolean): string {
  return `${https ? 'https' : 'http'}://${domain}`;
}
