import type { TlsReportRecorder } from './tls-report/session-result.js';
import type { MxHost } from './mx.js';
import { mxAllowed, type MtaStsPolicies } from './mta-sts.js';
import { tlsaText, type TlsaResolver } from './dane.js';
import type { TlsaRecord } from './tls-verify.js';

/**
 * The receiving domain's TLS policy applied to its MX hosts before delivery: which hosts may be
 * used and what each connection must prove (RFC 7672 DANE, RFC 8461 MTA-STS). Without a policy a
 * host gets opportunistic STARTTLS, as before.
 *
 * DANE comes first where it applies (a DNSSEC-validated MX set and validated TLSA records for the
 * host), as RFC 8461 §2 lets a sender that does DANE do; the domain's MTA-STS policy governs its
 * other hosts.
 */

/** What TLS-RPT needs to know of the policy a session ran under (tls-report/session-result.ts). */
export interface TlsPolicyContext {
  policyDomain: string;
  policyType: 'sts' | 'tlsa';
  policyString: string[];
  mxHost: string[];
}

/** The TLS a connection to one MX host must have (set on MxHost.tls; smtp-client.ts applies it). */
export type HostTls =
  /** enforce: STARTTLS required, certificate verified (WebPKI, the MX name); testing: opportunistic, the check only reported. */
  | { kind: 'mta-sts'; enforce: boolean; context: TlsPolicyContext }
  /** STARTTLS required; the certificate must match one of `tlsa` (DANE-TA/EE), or, with none usable, only encryption is required. */
  | { kind: 'dane'; tlsa: TlsaRecord[]; context: TlsPolicyContext };

export type PolicyApplied = { kind: 'hosts'; hosts: MxHost[] } | { kind: 'defer'; reason: string };

export interface TlsPolicyOptions {
  mtaSts: MtaStsPolicies | null;
  tlsa: TlsaResolver | null;
  report?: TlsReportRecorder | null;
}

export class TlsPolicy {
  constructor(private readonly opts: TlsPolicyOptions) {}

  /** The hosts of `domain` that may be used, each with the TLS it needs; a deferral when the policy leaves none. */
  async apply(domain: string, hosts: readonly MxHost[], dnssec: boolean): Promise<PolicyApplied> {
    const policyDomain = domain.toLowerCase();
    const tlsa = this.opts.tlsa && dnssec ? await Promise.all(hosts.map((h) => this.opts.tlsa!.lookup(h.host, h.port))) : null;
    const needsSts = !tlsa || tlsa.some((t) => t.kind !== 'records');
    const sts = needsSts && this.opts.mtaSts ? await this.opts.mtaSts.policyFor(policyDomain) : { kind: 'none' as const };
    const out: MxHost[] = [];
    const refused: string[] = [];
    hosts.forEach((h, i) => {
      const t = tlsa?.[i];
      if (t?.kind === 'error') {
        refused.push(`${h.host}: ${t.detail}`);
        return;
      }
      if (t?.kind === 'records') {
        const context: TlsPolicyContext = { policyDomain, policyType: 'tlsa', policyString: t.records.map(tlsaText), mxHost: [] };
        out.push({ ...h, tls: { kind: 'dane', tlsa: t.records, context } });
        return;
      }
      if (sts.kind !== 'policy' || sts.policy.mode === 'none') {
        out.push(h);
        return;
      }
      const context: TlsPolicyContext = { policyDomain, policyType: 'sts', policyString: sts.policy.lines, mxHost: sts.policy.mx };
      const enforce = sts.policy.mode === 'enforce';
      if (!mxAllowed(h.host, sts.policy.mx)) {
        if (enforce) {
          refused.push(`${h.host} is not an mx of the MTA-STS policy (${sts.policy.mx.join(', ')})`);
          return;
        }
        this.opts.report?.record({ ...this.reportOf(context, h), result: 'validation-failure', detail: `${h.host} is not an mx of the policy` });
      }
      out.push({ ...h, tls: { kind: 'mta-sts', enforce, context } });
    });
    if (out.length === 0) return { kind: 'defer', reason: `TLS policy of ${policyDomain} allows none of its MX hosts: ${refused.join('; ')}` };
    return { kind: 'hosts', hosts: out };
  }

  private reportOf(c: TlsPolicyContext, h: MxHost) {
    return { ...c, receivingMxHostname: h.host, receivingIp: null, sendingMtaIp: null };
  }
}
