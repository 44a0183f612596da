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

export interface DnsLookupOptions {
  timeoutMs?: number;
  tries?: number;
}

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

/**
 * `resolve` with answers kept for `ttlMs` (default 60 s, bounded to `maxEntries`): what a local
 * caching resolver would give, for the SPF, DKIM and DMARC lookups of inbound mail, where one
 * sender's messages ask the same few names again and again. Node's resolver keeps nothing, and the
 * TTLs of TXT answers are not exposed, so one short fixed lifetime is used (below the TTLs these
 * records are published with). A missing name or record is kept as well; a failed lookup
 * (timeout, SERVFAIL) is not, so it is asked again.
 */
export function cachedResolve(resolve: DnsLookup['resolve'], opts: { ttlMs?: number; maxEntries?: number; now?: () => number } = {}): DnsLookup['resolve'] {
  const ttlMs = opts.ttlMs ?? 60_000;
  const maxEntries = opts.maxEntries ?? 10_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { until: number; answer: Promise<unknown> }>();
  return (name, rrtype) => {
    const key = `${rrtype} ${name.toLowerCase()}`;
    const hit = cache.get(key);
    if (hit && hit.until > now()) return hit.answer;
    if (hit) cache.delete(key);
    const answer = resolve(name, rrtype);
    if (cache.size >= maxEntries) cache.delete(cache.keys().next().value!);
    cache.set(key, { until: now() + ttlMs, answer });
    answer.catch((err: unknown) => {
      if (!isNoRecord(err)) cache.delete(key);
    });
    return answer;
  };
}
