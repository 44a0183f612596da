import { readFileSync } from 'node:fs';
import { Resolver } from 'node:dns';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { lookupThrough } from '../dns/connect-lookup.js';
import { TlsaResolver } from './dane.js';
import { MtaStsPolicies } from './mta-sts.js';
import type { MxDns } from './mx.js';
import { TlsPolicy } from './tls-policy.js';
import type { TlsReportRecorder } from './tls-report/session-result.js';

export interface OutboundTlsConfig {
  relayHost: string | null;
  dnsServers: readonly string[];
  mtaSts: boolean;
  dane: boolean;
  outboundCaFile: string | null;
}

export interface OutboundTls {
  /** Node's roots plus the operator's CA file; null without one (Node's roots). */
  ca: string[] | null;
  /** MX and policy hosts found through POSTLINE_DNS_SERVERS when set. */
  lookup: LookupFunction | undefined;
  /** Null through a smart host (its TLS is the relay settings'), or with both policies switched off. */
  policy: TlsPolicy | null;
}

/**
 * What outbound TLS needs, from the configuration: trust roots, the address lookup, and the
 * receiving domains' policies (MTA-STS needs TXT lookups, DANE validated TLSA answers; a DNS that
 * cannot give them, as tests' MX stubs, leaves that policy out). Throws when the CA file cannot be
 * read, so a bad setup stops the start.
 */
export function outboundTls(
  cfg: OutboundTlsConfig,
  dns: MxDns,
  opts: { now: () => number; mtaStsPort?: number; report?: TlsReportRecorder | null; realDns: boolean },
): OutboundTls {
  let extraCa: string | null = null;
  if (cfg.outboundCaFile !== null) {
    try {
      extraCa = readFileSync(cfg.outboundCaFile, 'utf8');
    } catch (err) {
      throw new Error(`POSTLINE_OUTBOUND_CA_FILE: cannot read ${cfg.outboundCaFile}: ${(err as Error).message}`);
    }
  }
  const lookup = lookupThrough(cfg.dnsServers);
  if (cfg.relayHost !== null) return { ca: null, lookup, policy: null };
  const resolveTxt = dns.resolveTxt?.bind(dns);
  const mtaSts =
    cfg.mtaSts && resolveTxt
      ? new MtaStsPolicies({ dns: { resolveTxt }, lookup, extraCa, port: opts.mtaStsPort, now: opts.now, report: opts.report ?? null })
      : null;
  const servers = cfg.dnsServers.length > 0 ? [...cfg.dnsServers] : new Resolver().getServers();
  const tlsa = cfg.dane && opts.realDns ? new TlsaResolver(() => servers, opts.now) : null;
  return {
    ca: extraCa ? [...rootCertificates, extraCa] : null,
    lookup,
    policy: mtaSts || tlsa ? new TlsPolicy({ mtaSts, tlsa, report: opts.report ?? null }) : null,
  };
}
