import { Resolver } from 'node:dns/promises';

/**
 * The DNS questions Postline asks besides MX for delivery (delivery/mx-query.ts): TXT and CNAME
 * for domain verification (DKIM, SPF, DMARC, return-path, bounce and tracking CNAMEs), and the
 * generic `resolve(name, rrtype)` that mailauth takes as its resolver for SPF, DKIM, DMARC and
 * ARC checks of inbound mail. One interface so tests can point every one of them at a DNS
 * server on loopback (test/helpers/dns-server.ts) through POSTLINE_DNS_SERVERS.
 *
 * Errors keep Node's codes: ENOTFOUND (no such name), ENODATA (the name has no record of that
 * type), ETIMEOUT, ESERVFAIL, ECONNREFUSED.
 */
export interface DnsLookup {
  /** TXT records, each as its character-strings (join them for the record's text). */
  resolveTxt(name: string): Promise<string[][]>;
  resolveCname(name: string): Promise<string[]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  /** mailauth's resolver signature (that of dns.promises.resolve). */
  resolve(name: string, rrtype: string): Promise<unknown>;
}

export interface DnsLookupOptions { timeoutMs?: number; tries?: number }

/**
 * A lookup through `servers` (`1.2.3.4`, `1.2.3.4:5353`, `[::1]:53`), or the system's resolvers
 * when the list is empty (POSTLINE_DNS_SERVERS unset).
 */
export function dnsLookup(servers: readonly string[], opts: DnsLookupOptions = {}): DnsLookup {
  const r = new Resolver({ timeout: opts.timeoutMs ?? 5_000, tries: opts.tries ?? 2 });
  if (servers.length > 0) r.setServers([...servers]);
  return {
    resolveTxt: (name) => r.resolveTxt(name),
    resolveCname: (name) => r.resolveCname(name),
    resolveMx: (name) => r.resolveMx(name),
    resolve: (name, rrtype) => r.resolve(name, rrtype as 'TXT'),
  };
}

/** The text of each TXT record: its character-strings joined (RFC 7208 §3.3). */
export const txtTexts = (records: string[][]): string[] => records.map((chunks) => chunks.join(''));

/** True for the answers that mean "there is no such record", as opposed to a failed lookup. */
export const isNoRecord = (err: unknown): boolean => {
  const code = (err as { code?: string }).code;
  return code === 'ENOTFOUND' || code === 'ENODATA';
};
