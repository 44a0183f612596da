import { domainToASCII } from 'node:url';
import { Resolver } from 'node:dns/promises';
import { queryMx, type MxAnswer } from './mx-query.js';

/** One SMTP server to try, in order. */
export interface MxHost { host: string; port: number }

export type Destination =
  | { kind: 'hosts'; hosts: MxHost[] }
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
}

/** How long an answer without a TTL (address fallback, DNS stubs) is kept. */
export const MX_CACHE_MS = 5 * 60_000;
/** MX answers are kept for their TTL within these bounds: a TTL of 0 would mean a query per recipient. */
export const MX_TTL_MIN_MS = 10_000;
export const MX_TTL_MAX_MS = 24 * 3_600_000;
/** Failed lookups are cached briefly so a burst of mail to a broken domain does not hammer DNS. */
export const MX_NEGATIVE_CACHE_MS = 30_000;

export function systemDns(servers: readonly string[]): MxDns {
  const r = new Resolver({ timeout: 5_000, tries: 2 });
  if (servers.length > 0) r.setServers([...servers]);
  return {
    resolveMx: (d) => r.resolveMx(d),
    resolve4: (d) => r.resolve4(d),
    resolve6: (d) => r.resolve6(d),
    resolveMxWithTtl: (d) => queryMx(d, r.getServers()),
  };
}

const NOT_FOUND = new Set(['ENOTFOUND', 'ENODATA', 'NXDOMAIN']);

/**
 * Where mail for a domain goes: MX hosts by priority (ties shuffled, RFC 5321 §5.1), else the
 * domain's own A/AAAA ("implicit MX"), never for a null MX. A relay host, when configured,
 * replaces all of this.
 */
export class MxResolver {
  private readonly cache = new Map<string, { until: number; value: Destination }>();

  constructor(private readonly dns: MxDns, private readonly port: number, private readonly relayHost: MxHost | null, private readonly now: () => number = Date.now) {}

  async resolve(domain: string): Promise<Destination> {
    if (this.relayHost) return { kind: 'hosts', hosts: [this.relayHost] };
    const hit = this.cache.get(domain);
    if (hit && hit.until > this.now()) return hit.value;
    // DNS holds internationalised domains as A-labels (punycode); a UTF-8 name is found nowhere.
    const { value, ttlMs } = await this.lookup(/[^\x00-\x7f]/.test(domain) ? domainToASCII(domain) || domain : domain);
    const keep = value.kind === 'hosts' ? ttlMs ?? MX_CACHE_MS : MX_NEGATIVE_CACHE_MS;
    this.cache.set(domain, { until: this.now() + keep, value });
    if (this.cache.size > 50_000) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }

  /** The destination, and how long the MX answer may be kept (null: no TTL known). */
  private async lookup(domain: string): Promise<{ value: Destination; ttlMs: number | null }> {
    let mx: { exchange: string; priority: number }[];
    let ttlMs: number | null = null;
    try {
      if (this.dns.resolveMxWithTtl) {
        const answer = await this.dns.resolveMxWithTtl(domain);
        mx = answer.kind === 'records' ? answer.records : [];
        if (answer.kind === 'records') ttlMs = Math.min(MX_TTL_MAX_MS, Math.max(MX_TTL_MIN_MS, answer.ttlSec * 1000));
      } else {
        mx = await this.dns.resolveMx(domain);
      }
    } catch (err) {
      const code = (err as { code?: string }).code ?? '';
      if (!NOT_FOUND.has(code)) return { value: { kind: 'dns_error', reason: `MX lookup for ${domain} failed: ${code || (err as Error).message}` }, ttlMs };
      mx = [];
    }
    return { value: await this.destination(domain, mx), ttlMs };
  }

  private async destination(domain: string, mx: { exchange: string; priority: number }[]): Promise<Destination> {
    if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) {
      return { kind: 'undeliverable', reason: `${domain} publishes a null MX (RFC 7505): it accepts no mail`, failureCode: 2002, definitive: true };
    }
    if (mx.length > 0) {
      const sorted = [...mx].sort((a, b) => a.priority - b.priority || Math.random() - 0.5);
      return { kind: 'hosts', hosts: sorted.map((m) => ({ host: m.exchange.replace(/\.$/, ''), port: this.port })) };
    }
    // No MX: the domain's own address records are the implicit MX (RFC 5321 §5.1).
    const [v4, v6] = await Promise.allSettled([this.dns.resolve4(domain), this.dns.resolve6(domain)]);
    const addrs = [...(v4.status === 'fulfilled' ? v4.value : []), ...(v6.status === 'fulfilled' ? v6.value : [])];
    if (addrs.length > 0) return { kind: 'hosts', hosts: addrs.map((host) => ({ host, port: this.port })) };
    const codes = [v4, v6].map((r) => (r.status === 'rejected' ? (r.reason as { code?: string }).code ?? '' : 'ENODATA'));
    if (codes.every((c) => NOT_FOUND.has(c))) {
      return { kind: 'undeliverable', reason: `${domain} has no MX and no address records`, failureCode: 2002, definitive: false };
    }
    return { kind: 'dns_error', reason: `address lookup for ${domain} failed: ${codes.join(', ')}` };
  }
}

export function parseHostPort(value: string): MxHost {
  const i = value.lastIndexOf(':');
  return { host: value.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(value.slice(i + 1)) };
}
