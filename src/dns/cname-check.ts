/**
 * The CNAME question of both kinds of domain verification (a sending domain's return-path record,
 * domains/verify.ts; a custom bounce or tracking domain, custom-domains/records.ts): does `name`
 * point at `expected`? Host names compare without case or a trailing dot.
 */
import { isNoRecord, type DnsLookup } from './lookup.js';

export type CnameAnswer =
  /** `found`: the targets as DNS gave them. */
  | { status: 'verified' | 'mismatch'; found: string[] }
  /** No such name, or a name without a CNAME (`noSuchName` tells which). */
  | { status: 'missing'; found: []; noSuchName: boolean }
  /** The lookup failed (timeout, SERVFAIL, refused): the answer is unknown, not negative. */
  | { status: 'error'; found: []; error: string };

export const bareHost = (name: string): string => name.trim().toLowerCase().replace(/\.$/, '');

export async function checkCnameTarget(dns: DnsLookup, name: string, expected: string): Promise<CnameAnswer> {
  let targets: string[];
  try {
    targets = await dns.resolveCname(name);
  } catch (err) {
    if (isNoRecord(err)) return { status: 'missing', found: [], noSuchName: true };
    return { status: 'error', found: [], error: String((err as { code?: string }).code ?? (err as Error).message) };
  }
  if (targets.length === 0) return { status: 'missing', found: [], noSuchName: false };
  return { status: targets.some((t) => bareHost(t) === bareHost(expected)) ? 'verified' : 'mismatch', found: targets };
}
