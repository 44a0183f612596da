/**
 * Live DNS verification of a sending domain: each expected record (records.ts) is looked up now
 * and given one status (types.ts RecordStatus). No store here; service.ts records the results.
 */
import { checkCnameTarget } from '../dns/cname-check.js';
import { isNoRecord, txtTexts, type DnsLookup } from '../dns/lookup.js';
import type { ExpectedRecord, RecordCheck, RecordStatus } from '../core/sending-domain-types.js';
import { spfMechanism, type RecordSettings } from './records.js';

type Outcome = { status: RecordStatus; found: string[]; reason?: string };

const failed = (err: unknown): Outcome =>
  isNoRecord(err)
    ? { status: 'missing', found: [], reason: 'no such record' }
    : { status: 'error', found: [], reason: `DNS lookup failed (${(err as { code?: string }).code ?? (err as Error).message}); try again` };

/** DKIM-style tag list (`k=v; k=v`) into a map; whitespace inside values is dropped (RFC 6376 §3.2). */
export function parseTags(text: string): Map<string, string> {
  const tags = new Map<string, string>();
  for (const part of text.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    tags.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).replace(/\s+/g, ''));
  }
  return tags;
}

async function txt(dns: DnsLookup, name: string): Promise<{ texts: string[] } | { outcome: Outcome }> {
  try {
    return { texts: txtTexts(await dns.resolveTxt(name)) };
  } catch (err) {
    return { outcome: failed(err) };
  }
}

async function checkDkim(dns: DnsLookup, r: ExpectedRecord): Promise<Outcome> {
  const got = await txt(dns, r.name);
  if ('outcome' in got) return got.outcome;
  const want = parseTags(r.expected).get('p');
  const keys = got.texts.filter((t) => /^\s*v\s*=\s*DKIM1\b/i.test(t) || parseTags(t).has('p'));
  if (keys.length === 0) return { status: got.texts.length === 0 ? 'missing' : 'mismatch', found: got.texts, reason: 'no DKIM key record at this name' };
  if (keys.some((t) => parseTags(t).get('p') === want)) return { status: 'verified', found: got.texts };
  return { status: 'mismatch', found: got.texts, reason: 'the published p= is not this key' };
}

const isSpf = (t: string): boolean => /^v=spf1(\s|$)/i.test(t.trim());

async function checkSpf(dns: DnsLookup, r: ExpectedRecord, s: RecordSettings): Promise<Outcome> {
  const got = await txt(dns, r.name);
  if ('outcome' in got) return got.outcome;
  const spf = got.texts.filter(isSpf);
  if (spf.length === 0) return { status: 'missing', found: got.texts, reason: 'no v=spf1 record on the domain' };
  if (spf.length > 1) {
    return {
      status: 'mismatch',
      found: spf,
      reason: `${spf.length} v=spf1 records: only one is allowed (RFC 7208 §3.2, receivers answer permerror); merge them into one`,
    };
  }
  const mechanism = spfMechanism(s).toLowerCase();
  const terms = spf[0]!
    .trim()
    .toLowerCase()
    .split(/\s+/)
    .map((t) => t.replace(/^[+]/, ''));
  if (terms.includes(mechanism)) return { status: 'verified', found: spf };
  return { status: 'mismatch', found: spf, reason: `the SPF record does not contain ${mechanism}` };
}

async function checkDmarc(dns: DnsLookup, r: ExpectedRecord): Promise<Outcome> {
  const got = await txt(dns, r.name);
  if ('outcome' in got) return got.outcome;
  const dmarc = got.texts.filter((t) => /^v\s*=\s*DMARC1\s*(;|$)/i.test(t.trim()));
  if (dmarc.length === 0) return { status: 'missing', found: got.texts, reason: 'no v=DMARC1 record' };
  if (dmarc.length > 1) return { status: 'mismatch', found: dmarc, reason: `${dmarc.length} v=DMARC1 records: receivers ignore them all (RFC 7489 §6.6.3)` };
  const p = parseTags(dmarc[0]!).get('p')?.toLowerCase();
  if (p === 'none' || p === 'quarantine' || p === 'reject') return { status: 'verified', found: dmarc };
  return { status: 'mismatch', found: dmarc, reason: 'the DMARC record has no valid p= (none, quarantine or reject)' };
}

async function checkCname(dns: DnsLookup, r: ExpectedRecord): Promise<Outcome> {
  const a = await checkCnameTarget(dns, r.name, r.expected);
  switch (a.status) {
    case 'verified':
      return { status: 'verified', found: a.found };
    case 'mismatch':
      return { status: 'mismatch', found: a.found, reason: `the CNAME points at ${a.found.join(', ')}, not ${r.expected}` };
    case 'missing':
      return { status: 'missing', found: [], reason: a.noSuchName ? 'no such record' : 'no CNAME at this name' };
    case 'error':
      return { status: 'error', found: [], reason: `DNS lookup failed (${a.error}); try again` };
  }
}

/** Looks every record up now (in parallel) and answers one check per record, in the records' order. */
export async function checkRecords(dns: DnsLookup, records: readonly ExpectedRecord[], s: RecordSettings): Promise<RecordCheck[]> {
  return Promise.all(
    records.map(async (r) => {
      const o =
        r.kind === 'dkim'
          ? await checkDkim(dns, r)
          : r.kind === 'spf'
            ? await checkSpf(dns, r, s)
            : r.kind === 'dmarc'
              ? await checkDmarc(dns, r)
              : await checkCname(dns, r);
      const check: RecordCheck = {
        kind: r.kind,
        type: r.type,
        name: r.name,
        expected: r.expected,
        purpose: r.purpose,
        required: r.required,
        status: o.status,
        found: o.found,
        ...(r.selector ? { selector: r.selector } : {}),
        ...(o.reason !== undefined && o.status !== 'verified' ? { reason: o.reason } : {}),
      };
      return check;
    }),
  );
}

/**
 * When the domain counts as verified after these checks (null: not verified). Verified when every
 * required record verifies. A definite answer (missing, mismatch) of a required record un-verifies;
 * a failed lookup says nothing, so it keeps what was known (a DNS outage must not stop a server's mail).
 */
export function decideVerifiedAt(previous: number | null, checks: readonly RecordCheck[], now: number): number | null {
  const required = checks.filter((c) => c.required);
  if (required.length > 0 && required.every((c) => c.status === 'verified')) return previous ?? now;
  if (required.some((c) => c.status === 'missing' || c.status === 'mismatch')) return null;
  return previous;
}
