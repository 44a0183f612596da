/**
 * The DNS records a custom domain needs, and the live check of them. Both kinds are one CNAME from
 * the custom domain to a host of Postline's:
 *  - bounce: to the bounce host (POSTLINE_BOUNCE_DOMAIN, default the hostname), so the custom
 *    domain's MX (bounces reach the MX listener) and SPF (Return-Path alignment) are Postline's;
 *  - tracking: to the tracking host (POSTLINE_TRACKING_CNAME_TARGET, default the host of the public
 *    URL), which serves the click, open and unsubscribe routes.
 */
import { publicUrlOf, type Config } from '../config/load.js';
import { bareHost, checkCnameTarget } from '../dns/cname-check.js';
import type { DnsLookup } from '../dns/lookup.js';
import type { CustomDomainKind, RecordCheck } from '../core/custom-domain.js';

export type CustomDomainTargets = Readonly<Record<CustomDomainKind, string>>;

export function customDomainTargets(cfg: Config): CustomDomainTargets {
  return {
    bounce: bareHost(cfg.bounceDomain ?? cfg.hostname),
    tracking: bareHost(cfg.trackingCnameTarget ?? new URL(publicUrlOf(cfg)).hostname),
  };
}

/** The records to publish for a domain, as a check that has not run yet would report them. */
export function expectedRecords(kind: CustomDomainKind, domain: string, targets: CustomDomainTargets): Pick<RecordCheck, 'type' | 'name' | 'expected'>[] {
  return [{ type: 'CNAME', name: domain, expected: targets[kind] }];
}

/**
 * Looks each record up now. A CNAME to the expected host is verified, to another host mismatch; no
 * CNAME at all (no such name, or a name without a CNAME) is missing; any other failure (timeout,
 * SERVFAIL, refused) is error: the answer is unknown, not negative.
 */
export async function checkRecords(dns: DnsLookup, kind: CustomDomainKind, domain: string, targets: CustomDomainTargets): Promise<RecordCheck[]> {
  return Promise.all(
    expectedRecords(kind, domain, targets).map(async (r): Promise<RecordCheck> => {
      const a = await checkCnameTarget(dns, r.name, r.expected);
      if (a.status === 'error') return { ...r, status: 'error', found: [], error: a.error };
      return { ...r, status: a.status, found: a.found.map(bareHost) };
    }),
  );
}

/** What a check means for the domain: true every record verified, false one is missing or wrong, null unknown (a lookup failed). */
export function verdictOf(records: readonly RecordCheck[]): boolean | null {
  if (records.some((r) => r.status === 'missing' || r.status === 'mismatch')) return false;
  if (records.some((r) => r.status === 'error')) return null;
  return true;
}

/**
 * The records as the API shows them: what to publish, with the last check's status for each —
 * or `unchecked` before the first check, or when the expected value has changed since (the
 * operator moved the target host).
 */
export function recordsView(kind: CustomDomainKind, domain: string, lastCheck: readonly RecordCheck[] | null, targets: CustomDomainTargets) {
  return expectedRecords(kind, domain, targets).map((r) => {
    const seen = lastCheck?.find((c) => c.type === r.type && c.name === r.name && c.expected === r.expected);
    return { ...r, status: seen?.status ?? ('unchecked' as const), found: seen?.found ?? [] };
  });
}
