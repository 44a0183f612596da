import { cacheLifetimeMs, type LookupOutcome } from '../dns/cache-policy.js';
import { negativeTtl, queryDns, type DnsReply } from '../dns/packet-query.js';
import type { TlsaRecord } from './tls-verify.js';

/**
 * DANE for SMTP (RFC 7672): the TLSA records of an MX host (`_25._tcp.<host>`), believed only when
 * the resolver says it validated them (the AD bit). That is as trustworthy as the path to the
 * resolver: run a validating resolver on the same machine (docs/mail-engine.md, "TLS policy").
 */
export type TlsaLookup =
  /** Validated records: DANE applies to this host. */
  | { kind: 'records'; records: TlsaRecord[] }
  /** No TLSA records (validated denial), or an answer that was not validated: no DANE for this host. */
  | { kind: 'none' }
  /** The lookup failed (SERVFAIL, timeout). In a signed zone that may be an attack: the host is not used (RFC 7672 §2.2). */
  | { kind: 'error'; detail: string };

const CACHE_ENTRIES = 50_000;

export class TlsaResolver {
  private readonly cache = new Map<string, { until: number; value: TlsaLookup }>();
  private readonly inFlight = new Map<string, Promise<TlsaLookup>>();

  constructor(
    /** The resolvers asked (ip or ip:port); they must validate DNSSEC for DANE to apply. */
    private readonly servers: () => readonly string[],
    private readonly now: () => number = Date.now,
  ) {}

  lookup(host: string, port: number): Promise<TlsaLookup> {
    const name = `_${port}._tcp.${host.toLowerCase().replace(/\.$/, '')}`;
    const hit = this.cache.get(name);
    if (hit && hit.until > this.now()) return Promise.resolve(hit.value);
    let pending = this.inFlight.get(name);
    if (!pending) {
      pending = this.ask(name).finally(() => this.inFlight.delete(name));
      this.inFlight.set(name, pending);
    }
    return pending;
  }

  private async ask(name: string): Promise<TlsaLookup> {
    let value: TlsaLookup;
    let outcome: LookupOutcome;
    try {
      const reply = await queryDns(name, 'TLSA', this.servers());
      ({ value, outcome } = interpret(reply));
    } catch (err) {
      value = { kind: 'error', detail: `TLSA lookup for ${name} failed: ${(err as Error).message}` };
      outcome = { kind: 'failure' };
    }
    this.cache.delete(name);
    this.cache.set(name, { until: this.now() + cacheLifetimeMs(outcome), value });
    if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
    return value;
  }
}

function interpret(reply: DnsReply): { value: TlsaLookup; outcome: LookupOutcome } {
  const tlsa = reply.answers.filter((a) => a.type === 'TLSA');
  if (!reply.authenticated || tlsa.length === 0) {
    return { value: { kind: 'none' }, outcome: tlsa.length === 0 ? { kind: 'negative', ttlSec: negativeTtl(reply) } : { kind: 'answer', ttlSec: null } };
  }
  const records = tlsa.map((a) => {
    const d = a.data as { usage: number; selector: number; matchingType: number; certificate: Buffer };
    return { usage: d.usage, selector: d.selector, matchingType: d.matchingType, data: Buffer.from(d.certificate) };
  });
  return { value: { kind: 'records', records }, outcome: { kind: 'answer', ttlSec: Math.min(...tlsa.map((a) => a.ttl ?? 0)) } };
}

/** A TLSA record in presentation form ("3 1 1 ab12…"), as TLS-RPT's policy-string lists them. */
export const tlsaText = (r: TlsaRecord): string => `${r.usage} ${r.selector} ${r.matchingType} ${r.data.toString('hex')}`;
