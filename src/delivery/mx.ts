import { domainToASCII } from 'node:url';
import { Resolver } from 'node:dns/promises';
import { queryMx, type MxAnswer } from './mx-query.js';
import { ANSWER_DEFAULT_MS, ANSWER_TTL_MAX_MS, ANSWER_TTL_MIN_MS, FAILURE_TTL_MS, cacheLifetimeMs, type LookupOutcome } from '../dns/cache-policy.js';
import type { RelaySecurity } from './smtp-client.js';
import type { HostTls } from './tls-policy.js';

/** One SMTP server to try, in order. */
export interface MxHost {
  host: string;
  port: number;
  /** Set for a smart host: reached over verified TLS, with credentials when given (smtp-client.ts). */
  relay?: RelaySecurity;
  /** Set by the receiving domain's TLS policy (tls-policy.ts): DANE or MTA-STS; absent means opportunistic TLS. */
  tls?: HostTls;
}

export type Destination =
  /** `dnssec`: the MX set came with the resolver's AD bit (validated), so DANE may apply to its hosts (RFC 7672 §2.2.1). */
  | { kind: 'hosts'; hosts: MxHost[]; dnssec?: boolean }
  /**
   * RFC 7505 null MX ("MX 0 .") or a domain that does not exist: no delivery is possible.
   * `definitive`: the domain itself says it takes no mail (null MX). A domain that merely was not
   * found is not definitive: a broken or split-horizon resolver answers NXDOMAIN for good domains
   * too, and suppressing on that would list every address it was asked about.
   */
  | { kind: 'undeliverable'; reason: string; failureCode: number; definitive: boolean }
  /** DNS did not answer usefully now; try again later. */
  | { kind: 'dns_error'; reason: string };

/** The DNS lookups delivery needs; tests give a stub (the far end's DNS is faked, nothing else). */
export interface MxDns {
  resolveMx(domain: string): Promise<{ exchange: string; priority: number }[]>;
  /** MX records with their TTL (the system DNS has it; test stubs may leave it out, then MX_CACHE_MS applies). */
  resolveMxWithTtl?(domain: string): Promise<MxAnswer>;
  resolve4(domain: string): Promise<string[]>;
  resolve6(domain: string): Promise<string[]>;
  /** TXT records (MTA-STS's `_mta-sts` record); a DNS without it leaves MTA-STS out. */
  resolveTxt?(name: string): Promise<string[][]>;
}

/** How long an answer without a TTL (address fallback, DNS stubs) is kept. */
export const MX_CACHE_MS = ANSWER_DEFAULT_MS;
/** MX answers are kept for their TTL within these bounds (dns/cache-policy.ts says why). */
export const MX_TTL_MIN_MS = ANSWER_TTL_MIN_MS;
export const MX_TTL_MAX_MS = ANSWER_TTL_MAX_MS;
/** Failed lookups (timeout, SERVFAIL, REFUSED) are kept this long (dns/cache-policy.ts). */
export const MX_NEGATIVE_CACHE_MS = FAILURE_TTL_MS;
/** Domains whose destination is kept at once: the oldest goes first beyond this (about 10 MB). */
export const MX_CACHE_ENTRIES = 50_000;

export function systemDns(servers: readonly string[]): MxDns {
  const r = new Resolver({ timeout: 5_000, tries: 2 });
  if (servers.length > 0) r.setServers([...servers]);
  return {
    resolveMx: (d) => r.resolveMx(d),
    resolve4: (d) => r.resolve4(d),
    resolve6: (d) => r.resolve6(d),
    resolveTxt: (name) => r.resolveTxt(name),
    resolveMxWithTtl: (d) => queryMx(d, r.getServers()),
  };
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * Where mail for a domain goes: MX hosts by priority (ties shuffled, RFC 5321 §5.1), else the
 * domain's own A/AAAA ("implicit MX"), never for a null MX. A relay host, when configured,
 * replaces all of this.
 *
 * Every result is cached per domain, for as long as dns/cache-policy.ts says: answers for their
 * TTL, NXDOMAIN/NODATA for the SOA's negative TTL, resolver failures briefly. Concurrent
 * resolutions of one domain share one lookup, so the recipients of a domain that the worker holds
 * at once cost one query, and all get its answer (or failure) together.
 */
export class MxResolver {
  private readonly cache = new Map<string, { until: number; value: Destination }>();
  private readonly inFlight = new Map<string, Promise<Destination>>();
  /** Lookups started (each shared by every caller that asked while it ran); tests read it. */
  lookups = 0;

  constructor(
    private readonly dns: MxDns,
    private readonly port: number,
    private readonly relayHost: MxHost | null,
    private readonly now: () => number = Date.now,
  ) {}

  resolve(domain: string): Promise<Destination> {
    if (this.relayHost) return Promise.resolve({ kind: 'hosts', hosts: [this.relayHost] });
    const key = domain.toLowerCase();
    const hit = this.cache.get(key);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.value);
    let pending = this.inFlight.get(key);
    if (!pending) {
      this.lookups++;
      pending = this.lookupAndKeep(key).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async lookupAndKeep(domain: string): Promise<Destination> {
    let found: { value: Destination; outcome: LookupOutcome };
    try {
      // DNS holds internationalised domains as A-labels (punycode); a UTF-8 name is found nowhere.
      found = await this.lookup(/[^\x00-\x7f]/.test(domain) ? domainToASCII(domain) || domain : domain);
    } catch (err) {
      // Nothing below should throw; if it does, it is a failed lookup like any other.
      found = { value: { kind: 'dns_error', reason: `MX lookup for ${domain} failed: ${(err as Error).message}` }, outcome: { kind: 'failure' } };
    }
    this.cache.delete(domain); // re-inserted last: the oldest entries are dropped first
    this.cache.set(domain, { until: this.now() + cacheLifetimeMs(found.outcome), value: found.value });
    if (this.cache.size > MX_CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return found.value;
  }

  /** The destination, and what the lookup came to for caching. */
  private async lookup(domain: string): Promise<{ value: Destination; outcome: LookupOutcome }> {
    let mx: { exchange: string; priority: number }[];
    let outcome: LookupOutcome = { kind: 'answer', ttlSec: null };
    let dnssec = false;
    try {
      if (this.dns.resolveMxWithTtl) {
        const answer = await this.dns.resolveMxWithTtl(domain);
        mx = answer.kind === 'records' ? answer.records : [];
        dnssec = answer.kind === 'records' && answer.authenticated === true;
        outcome = answer.kind === 'records' ? { kind: 'answer', ttlSec: answer.ttlSec } : { kind: 'negative', ttlSec: answer.ttlSec };
      } else {
        mx = await this.dns.resolveMx(domain);
      }
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!NOT_FOUND.has(code))
        return { value: { kind: 'dns_error', reason: `MX lookup for ${domain} failed: ${code || (err as Error).message}` }, outcome: { kind: 'failure' } };
      mx = [];
      outcome = { kind: 'negative', ttlSec: null };
    }
    return this.destination(domain, mx, outcome, dnssec);
  }

  private async destination(
    domain: string,
    mx: { exchange: string; priority: number }[],
    mxOutcome: LookupOutcome,
    dnssec: boolean,
  ): Promise<{ value: Destination; outcome: LookupOutcome }> {
    if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) {
      return {
        value: { kind: 'undeliverable', reason: `${domain} publishes a null MX (RFC 7505): it accepts no mail`, failureCode: 2002, definitive: true },
        outcome: mxOutcome,
      };
    }
    if (mx.length > 0) {
      const sorted = [...mx].sort((a, b) => a.priority - b.priority || Math.random() - 0.5);
      const hosts = sorted.map((m) => ({ host: m.exchange.replace(/\.$/, ''), port: this.port }));
      return { value: { kind: 'hosts', hosts, ...(dnssec ? { dnssec } : {}) }, outcome: mxOutcome };
    }
    // No MX: the domain's own address records are the implicit MX (RFC 5321 §5.1).
    const [v4, v6] = await Promise.allSettled([this.dns.resolve4(domain), this.dns.resolve6(domain)]);
    const addrs = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (addrs.length > 0)
      return { value: { kind: 'hosts', hosts: addrs.map((host) => ({ host, port: this.port })) }, outcome: { kind: 'answer', ttlSec: null } };
    const codes = [v4, v6].map((r) => (r.status === 'rejected' ? ((r.reason as { code?: string }).code ?? '') : 'ENODATA'));
    if (codes.every((c) => NOT_FOUND.has(c))) {
      return {
        value: { kind: 'undeliverable', reason: `${domain} has no MX and no address records`, failureCode: 2002, definitive: false },
        outcome: mxOutcome,
      };
    }
    return { value: { kind: 'dns_error', reason: `address lookup for ${domain} failed: ${codes.join(', ')}` }, outcome: { kind: 'failure' } };
  }
}
