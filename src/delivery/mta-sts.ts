import { request } from 'node:https';
import type { LookupFunction } from 'node:net';
import { rootCertificates } from 'node:tls';
import { isNoRecord, txtTexts, type DnsLookup } from '../dns/lookup.js';
import type { TlsReportRecorder } from './tls-report/session-result.js';

/**
 * MTA-STS (RFC 8461): a receiving domain publishes, over HTTPS, which MX hosts may take its mail
 * and whether senders must reach them over verified TLS. This module finds a domain's policy (a
 * TXT record that says one exists and its id, then the policy file), keeps it for its max_age,
 * and says which hosts it allows. Applying it to a connection is tls-policy.ts's and
 * smtp-client.ts's business.
 */

export interface StsPolicy {
  mode: 'enforce' | 'testing' | 'none';
  /** The allowed MX host patterns ("mail.example.com", "*.example.net"), lower case. */
  mx: string[];
  maxAgeSec: number;
  /** The policy's lines as fetched (TLS-RPT's policy-string). */
  lines: string[];
}

/** What the lookup of a domain's policy came to. */
/** Why a policy announced by its TXT record could not be used (RFC 8460 result types). */
type StsFailure = 'sts-policy-fetch-error' | 'sts-policy-invalid' | 'sts-webpki-invalid';

export type StsLookup =
  | { kind: 'policy'; policy: StsPolicy; id: string }
  | { kind: 'none' }
  /** A TXT record says there is a policy, but it could not be fetched or read: delivery goes on without it, and the failure is reported (TLS-RPT). */
  | { kind: 'failed'; result: StsFailure; detail: string };

/** RFC 8461 §3.2: max_age at most 31,557,600 s (a year). */
const MAX_AGE_LIMIT_SEC = 31_557_600;
/** RFC 8461 §3.3 asks for a limit on the policy body; 64 KiB is far beyond any real policy. */
const MAX_POLICY_BYTES = 64 * 1024;
/** RFC 8461 §3.3: a short timeout, so a slow policy host does not hold mail (it is fetched off the delivery path's hot loop, once per max_age). */
const FETCH_TIMEOUT_MS = 10_000;
/**
 * How long the TXT record is trusted before it is asked again. RFC 8461 §5.1 wants it checked per
 * delivery; a recipient domain's thousands of recipients would then cost thousands of queries.
 */
const TXT_RECHECK_MS = 5 * 60_000;
/** Domains whose policy state is kept at once; the least recently fetched goes first. */
const CACHE_ENTRIES = 100_000;

/**
 * The `_mta-sts` TXT record (RFC 8461 §3.1): of the records that start with "v=STSv1", exactly one
 * must exist and carry an id of 1-32 letters and digits. Null otherwise (no policy announced).
 */
export function parseStsRecord(texts: readonly string[]): { id: string } | null {
  const candidates = texts.filter((t) => /^v=STSv1\s*(;|$)/.test(t));
  if (candidates.length !== 1) return null;
  const fields = new Map<string, string>();
  for (const part of candidates[0]!.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) fields.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  const id = fields.get('id');
  return id !== undefined && /^[A-Za-z0-9]{1,32}$/.test(id) ? { id } : null;
}

/** The policy file (RFC 8461 §3.2): `key: value` lines; unknown keys are ignored. Throws with the reason when it is not a valid policy. */
export function parseStsPolicy(text: string): StsPolicy {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '');
  let version: string | undefined;
  let mode: string | undefined;
  let maxAge: string | undefined;
  const mx: string[] = [];
  for (const line of lines) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim();
    const value = line.slice(colon + 1).trim();
    if (key === 'version') version = value;
    else if (key === 'mode') mode = value;
    else if (key === 'max_age') maxAge = value;
    else if (key === 'mx') mx.push(value.toLowerCase().replace(/\.$/, ''));
  }
  if (version !== 'STSv1') throw new Error(`version must be STSv1 (found ${JSON.stringify(version ?? null)})`);
  if (mode !== 'enforce' && mode !== 'testing' && mode !== 'none')
    throw new Error(`mode must be enforce, testing or none (found ${JSON.stringify(mode ?? null)})`);
  if (maxAge === undefined || !/^\d{1,10}$/.test(maxAge) || Number(maxAge) > MAX_AGE_LIMIT_SEC)
    throw new Error(`max_age must be a whole number of seconds up to ${MAX_AGE_LIMIT_SEC} (found ${JSON.stringify(maxAge ?? null)})`);
  if (mode !== 'none' && mx.length === 0) throw new Error('a policy in enforce or testing mode must list at least one mx');
  for (const p of mx) if (!/^(\*\.)?[a-z0-9_-]+(\.[a-z0-9_-]+)+$/.test(p)) throw new Error(`mx ${JSON.stringify(p)} is not a host name or a *. pattern`);
  return { mode, mx, maxAgeSec: Number(maxAge), lines };
}

/** RFC 8461 §4.1: an exact name, or "*." matching exactly one leftmost label. */
export function mxAllowed(host: string, patterns: readonly string[]): boolean {
  const h = host.toLowerCase().replace(/\.$/, '');
  return patterns.some((p) => (p.startsWith('*.') ? h.endsWith(p.slice(1)) && !h.slice(0, -(p.length - 1)).includes('.') && h.length > p.length - 1 : h === p));
}

export interface MtaStsOptions {
  dns: Pick<DnsLookup, 'resolveTxt'>;
  /** Finds the policy host's address (dns/connect-lookup.ts); undefined: the system's. */
  lookup?: LookupFunction;
  /** Certificate authorities trusted besides Node's roots (POSTLINE_OUTBOUND_CA_FILE). */
  extraCa?: string | null;
  /** The policy host's HTTPS port: 443 (RFC 8461 §3.3); tests serve it elsewhere. */
  port?: number;
  now?: () => number;
  /** Told of a policy that could not be fetched or read (TLS-RPT's sts-policy-* results). */
  report?: TlsReportRecorder | null;
}

interface Cached {
  policy: { policy: StsPolicy; id: string; expiresAt: number } | null;
  /** Until then the TXT record is not asked again. */
  checkedUntil: number;
  /** The last lookup's answer while checkedUntil holds. */
  last: StsLookup;
}

/** Domains' MTA-STS policies, fetched once per id and kept for their max_age (RFC 8461 §5). */
export class MtaStsPolicies {
  private readonly cache = new Map<string, Cached>();
  private readonly inFlight = new Map<string, Promise<StsLookup>>();
  private readonly now: () => number;
  private readonly ca: string[] | undefined;
  /** Policy files fetched (tests read it). */
  fetches = 0;

  constructor(private readonly opts: MtaStsOptions) {
    this.now = opts.now ?? Date.now;
    this.ca = opts.extraCa ? [...rootCertificates, opts.extraCa] : undefined;
  }

  policyFor(domain: string): Promise<StsLookup> {
    const key = domain.toLowerCase();
    const hit = this.cache.get(key);
    if (hit && hit.checkedUntil > this.now() && (hit.policy === null || hit.policy.expiresAt > this.now())) return Promise.resolve(hit.last);
    let pending = this.inFlight.get(key);
    if (!pending) {
      pending = this.refresh(key, hit).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async refresh(domain: string, hit: Cached | undefined): Promise<StsLookup> {
    const now = this.now();
    // A policy still within its max_age holds whatever DNS says now (RFC 8461 §5.1): an attacker
    // who removes or blocks the TXT record must not turn enforcement off.
    const valid = hit?.policy && hit.policy.expiresAt > now ? hit.policy : null;
    const keep = (last: StsLookup, policy: Cached['policy']): StsLookup => {
      this.cache.delete(domain);
      this.cache.set(domain, { policy, checkedUntil: now + TXT_RECHECK_MS, last });
      if (this.cache.size > CACHE_ENTRIES) this.cache.delete(this.cache.keys().next().value!);
      return last;
    };
    const cachedAnswer = (): StsLookup => (valid ? { kind: 'policy', policy: valid.policy, id: valid.id } : { kind: 'none' });
    let record: { id: string } | null;
    try {
      record = parseStsRecord(txtTexts(await this.opts.dns.resolveTxt(`_mta-sts.${domain}`)));
    } catch (err) {
      if (!isNoRecord(err)) {
        // The resolver failed: keep what we have, and ask again soon rather than in five minutes.
        const last = cachedAnswer();
        this.cache.set(domain, { policy: valid, checkedUntil: now + 30_000, last });
        return last;
      }
      record = null;
    }
    if (!record || (valid && valid.id === record.id)) return keep(cachedAnswer(), valid);
    this.fetches++;
    let policy: StsPolicy;
    try {
      policy = parseStsPolicy(await this.fetch(domain));
    } catch (err) {
      // A fetch failure says which it is; a policy that does not parse is invalid.
      const e = err as Error & { stsResult?: StsFailure };
      const failed: StsLookup = { kind: 'failed', result: e.stsResult ?? 'sts-policy-invalid', detail: e.message };
      this.opts.report?.record({
        policyDomain: domain,
        policyType: 'sts',
        policyString: [],
        mxHost: [],
        receivingMxHostname: null,
        receivingIp: null,
        sendingMtaIp: null,
        result: failed.result,
        detail: failed.detail,
      });
      // A new policy that cannot be had leaves the old one in force (RFC 8461 §5.1).
      return keep(valid ? cachedAnswer() : failed, valid);
    }
    const fresh = { policy, id: record.id, expiresAt: now + policy.maxAgeSec * 1000 };
    return keep({ kind: 'policy', policy, id: record.id }, fresh);
  }

  /** GET https://mta-sts.<domain>/.well-known/mta-sts.txt (RFC 8461 §3.3): verified TLS, no redirects, 200 with text/plain only. */
  private fetch(domain: string): Promise<string> {
    const host = `mta-sts.${domain}`;
    const fail = (message: string, stsResult: StsFailure = 'sts-policy-fetch-error') => Object.assign(new Error(`${host}: ${message}`), { stsResult });
    return new Promise((resolve, reject) => {
      const req = request(
        {
          host,
          port: this.opts.port ?? 443,
          path: '/.well-known/mta-sts.txt',
          method: 'GET',
          servername: host,
          rejectUnauthorized: true,
          agent: false,
          headers: { 'user-agent': 'Postline MTA-STS' },
          ...(this.ca ? { ca: this.ca } : {}),
          ...(this.opts.lookup ? { lookup: this.opts.lookup } : {}),
        },
        (res) => {
          const type = String(res.headers['content-type'] ?? '');
          if (res.statusCode !== 200) {
            res.resume();
            return reject(
              fail(`answered HTTP ${res.statusCode}${res.statusCode && res.statusCode >= 300 && res.statusCode < 400 ? ' (redirects are not followed)' : ''}`),
            );
          }
          if (!/^text\/plain\b/i.test(type)) {
            res.resume();
            return reject(fail(`served the policy as ${type || 'no content type'}, not text/plain`, 'sts-policy-invalid'));
          }
          const chunks: Buffer[] = [];
          let size = 0;
          res.on('data', (c: Buffer) => {
            size += c.length;
            if (size > MAX_POLICY_BYTES) {
              req.destroy();
              reject(fail(`policy larger than ${MAX_POLICY_BYTES} bytes`, 'sts-policy-invalid'));
            } else chunks.push(c);
          });
          res.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
          res.on('error', (e) => reject(fail(e.message)));
        },
      );
      req.setTimeout(FETCH_TIMEOUT_MS, () => req.destroy(fail(`no answer within ${FETCH_TIMEOUT_MS} ms`)));
      req.on('error', (e: Error & { code?: string; stsResult?: string }) => {
        if (e.stsResult !== undefined) return reject(e);
        // A certificate that does not verify is its own report type (RFC 8460 §4.3.2.1).
        const webpki = /CERT|SELF_SIGNED|UNABLE_TO_VERIFY|ALTNAME/.test(e.code ?? '');
        reject(fail(e.message, webpki ? 'sts-webpki-invalid' : 'sts-policy-fetch-error'));
      });
      req.end();
    });
  }
}
