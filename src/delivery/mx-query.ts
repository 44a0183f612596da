import { DnsQueryError, negativeTtl, parseServer, queryDns, type DnsReply } from '../dns/packet-query.js';

/**
 * MX lookups that return the answer's TTL, so delivery can cache an MX set exactly as long as the
 * domain's owner says (RFC 1035 §3.2.1), and whether the resolver validated it with DNSSEC (DANE
 * applies only to a secure MX set, RFC 7672 §2.2.1). Node's resolver (c-ares) gives neither, so
 * this asks the configured recursive resolvers directly (dns/packet-query.ts).
 */

export { parseServer };
/** The error of a failed MX lookup (timeout, SERVFAIL, REFUSED), with Node's code. */
export const MxQueryError = DnsQueryError;

export type MxAnswer =
  | { kind: 'records'; records: { exchange: string; priority: number }[]; ttlSec: number; authenticated?: boolean }
  /** NXDOMAIN, or the name exists without MX records (NODATA); ttlSec from the SOA's minimum when given. */
  | { kind: 'none'; code: 'ENOTFOUND' | 'ENODATA'; ttlSec: number | null };

/**
 * Asks each server in turn (next one on timeout or SERVFAIL/REFUSED) for the domain's MX records.
 * `tries` rounds over the list; each query waits `timeoutMs`.
 */
export async function queryMx(domain: string, servers: readonly string[], opts: { timeoutMs?: number; tries?: number } = {}): Promise<MxAnswer> {
  return interpret(await queryDns(domain, 'MX', servers, opts));
}

function interpret(reply: DnsReply): MxAnswer {
  if (reply.rcode === 'NXDOMAIN') return { kind: 'none', code: 'ENOTFOUND', ttlSec: negativeTtl(reply) };
  const mx = reply.answers.filter((a) => a.type === 'MX');
  if (mx.length === 0) return { kind: 'none', code: 'ENODATA', ttlSec: negativeTtl(reply) };
  return {
    kind: 'records',
    records: mx.map((a) => ({ exchange: (a.data as { exchange: string }).exchange, priority: (a.data as { preference: number }).preference })),
    ttlSec: Math.min(...mx.map((a) => a.ttl ?? 0)),
    authenticated: reply.authenticated,
  };
}
