import { dnsRecordsFor, type DkimKey } from '../compose/dkim.js';
import type { ServerDkimKey } from '../store/store.js';
import type { ExpectedRecord } from '../core/sending-domain-types.js';

/**
 * The label of the return-path CNAME: `pl-bounces.<domain>` pointing at the bounce host lets a
 * domain owner move bounce handling under their own name later without touching their SPF.
 */
export const RETURN_PATH_LABEL = 'pl-bounces';

/** Where the records point: the SPF mechanism (a:<hostname> or include:<spfInclude>) and the bounce host. */
export interface RecordSettings {
  hostname: string;
  bounceHost: string;
  spfInclude?: string;
}

/** The SPF mechanism that authorises Postline, as it appears in the record. */
export const spfMechanism = (s: RecordSettings): string => (s.spfInclude ? `include:${s.spfInclude}` : `a:${s.hostname}`);

const STATE_PURPOSE: Record<string, string> = {
  active: 'signs mail now',
  pending: 'the next key (rotation): publish it now; it starts signing once a verification sees it',
  retiring: 'the previous key: keep it published until the overlap ends, so mail it signed still verifies',
};

/**
 * What a domain owner publishes for the domain, given the keys to publish (pending, active and
 * retiring ones: see rotation.ts): a DKIM TXT per selector, SPF, DMARC and the return-path CNAME.
 * DKIM of active keys and SPF are required for the domain to count as verified; DMARC and the
 * return-path are recommended (docs/sending-domains.md says why).
 */
export function expectedRecords(domain: string, keys: readonly ServerDkimKey[], s: RecordSettings): ExpectedRecord[] {
  const asDkim: DkimKey[] = keys.map((k) => ({ domain, selector: k.selector, algorithm: k.algorithm, privateKeyPem: '', publicKeyBase64: k.publicKey }));
  const base = dnsRecordsFor(asDkim.length > 0 ? asDkim : [], { hostname: s.hostname, spfInclude: s.spfInclude });
  const out: ExpectedRecord[] = [];
  for (const k of keys) {
    const r = base.find((x) => x.name === `${k.selector}._domainkey.${domain}`.toLowerCase())!;
    out.push({
      kind: 'dkim',
      type: 'TXT',
      name: r.name,
      expected: r.value,
      chunks: r.chunks,
      selector: k.selector,
      required: k.state === 'active',
      purpose: `${r.purpose}: ${STATE_PURPOSE[k.state] ?? k.state}`,
    });
  }
  const spf = base.find((x) => x.name === domain);
  const dmarc = base.find((x) => x.name === `_dmarc.${domain}`);
  const spfValue = spf?.value ?? `v=spf1 ${spfMechanism(s)} ~all`;
  out.push({
    kind: 'spf',
    type: 'TXT',
    name: domain,
    expected: spfValue,
    chunks: spf?.chunks ?? [spfValue],
    required: true,
    purpose: spf?.purpose ?? 'SPF: authorises Postline to send for the domain',
  });
  const dmarcValue = dmarc?.value ?? `v=DMARC1; p=none; rua=mailto:dmarc@${domain}`;
  out.push({
    kind: 'dmarc',
    type: 'TXT',
    name: `_dmarc.${domain}`,
    expected: dmarcValue,
    chunks: dmarc?.chunks ?? [dmarcValue],
    required: false,
    purpose: `${dmarc?.purpose ?? 'DMARC'} (recommended; any valid p= counts)`,
  });
  out.push({
    kind: 'return-path',
    type: 'CNAME',
    name: `${RETURN_PATH_LABEL}.${domain}`,
    expected: s.bounceHost,
    required: false,
    purpose: 'return-path: points bounces for the domain at Postline (recommended)',
  });
  return out;
}
