import { X509Certificate, createHash } from 'node:crypto';
import { checkServerIdentity, type DetailedPeerCertificate, type TLSSocket } from 'node:tls';
import type { TlsResultType } from './tls-report/session-result.js';

/**
 * The checks a TLS policy makes of an MX host's certificate once the handshake is done (the
 * handshake itself accepts anything, so an opportunistic session still encrypts, and a failed
 * check can be reported with its RFC 8460 result type instead of a bare socket error).
 */

/** A TLSA record (RFC 6698 §2.1): usage, selector, matching type and the association data. */
export interface TlsaRecord {
  usage: number;
  selector: number;
  matchingType: number;
  data: Buffer;
}

export type TlsCheck = { ok: true } | { ok: false; result: Exclude<TlsResultType, 'success'>; detail: string };

/** Node's verification errors that mean the chain is out of date rather than untrusted. */
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'ERROR_IN_CERT_NOT_AFTER_FIELD', 'ERROR_IN_CERT_NOT_BEFORE_FIELD']);

/**
 * WebPKI (RFC 8461 §4.2, MTA-STS): the chain ends at a trusted root (Node's, plus the operator's
 * CA file) and the certificate names the MX host.
 */
export function verifyPkix(socket: TLSSocket, host: string): TlsCheck {
  if (!socket.authorized) {
    const code = String(socket.authorizationError ?? 'unknown');
    // Node folds a name mismatch into authorizationError too; tell it apart for the report.
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return { ok: false, result: 'certificate-host-mismatch', detail: `the certificate does not name ${host}` };
    return { ok: false, result: EXPIRED.has(code) ? 'certificate-expired' : 'certificate-not-trusted', detail: `certificate of ${host}: ${code}` };
  }
  const mismatch = checkServerIdentity(host, socket.getPeerCertificate());
  if (mismatch) return { ok: false, result: 'certificate-host-mismatch', detail: mismatch.message };
  return { ok: true };
}

/** The TLSA usages SMTP uses (RFC 7672 §3.1): DANE-TA(2) and DANE-EE(3). PKIX-TA/EE (0, 1) are unusable there. */
export const usableTlsa = (r: TlsaRecord): boolean => (r.usage === 2 || r.usage === 3) && (r.selector === 0 || r.selector === 1) && r.matchingType <= 2;

/**
 * DANE (RFC 7672 §3): the leaf matches a DANE-EE record (no name or date check, §3.1.1), or a
 * certificate the server sent above the leaf matches a DANE-TA record, the chain from the leaf up
 * to it holds, is in date, and the leaf names the MX host (§3.2.2).
 */
export function verifyDane(socket: TLSSocket, host: string, records: readonly TlsaRecord[]): TlsCheck {
  const usable = records.filter(usableTlsa);
  const chain = peerChain(socket.getPeerCertificate(true));
  if (chain.length === 0) return { ok: false, result: 'validation-failure', detail: `${host} sent no certificate` };
  const leaf = chain[0]!;
  if (usable.some((r) => r.usage === 3 && matches(r, leaf))) return { ok: true };
  const taRecords = usable.filter((r) => r.usage === 2);
  for (let i = 1; i < chain.length && taRecords.length > 0; i++) {
    if (!taRecords.some((r) => matches(r, chain[i]!))) continue;
    for (let j = 0; j < i; j++) {
      if (!chain[j]!.checkIssued(chain[j + 1]!) || !chain[j]!.verify(chain[j + 1]!.publicKey)) {
        return { ok: false, result: 'validation-failure', detail: `the chain of ${host} does not lead to its DANE-TA certificate` };
      }
    }
    const now = Date.now();
    for (const c of chain.slice(0, i + 1)) {
      if (Date.parse(c.validTo) < now || Date.parse(c.validFrom) > now)
        return { ok: false, result: 'certificate-expired', detail: `a certificate of ${host} is out of date` };
    }
    if (!leaf.checkHost(host)) return { ok: false, result: 'certificate-host-mismatch', detail: `the certificate does not name ${host}` };
    return { ok: true };
  }
  return { ok: false, result: 'validation-failure', detail: `no TLSA record of ${host} matches its certificate chain` };
}

function matches(r: TlsaRecord, cert: X509Certificate): boolean {
  const selected = r.selector === 0 ? cert.raw : cert.publicKey.export({ type: 'spki', format: 'der' });
  const digest =
    r.matchingType === 0
      ? selected
      : createHash(r.matchingType === 1 ? 'sha256' : 'sha512')
          .update(selected)
          .digest();
  return digest.equals(r.data);
}

/** The certificates the server sent, leaf first (Node links them through issuerCertificate; a root links to itself). */
function peerChain(peer: DetailedPeerCertificate): X509Certificate[] {
  const out: X509Certificate[] = [];
  const seen = new Set<string>();
  let c: DetailedPeerCertificate | undefined = peer;
  while (c?.raw && !seen.has(c.fingerprint256)) {
    seen.add(c.fingerprint256);
    out.push(new X509Certificate(c.raw));
    c = c.issuerCertificate;
  }
  return out;
}
