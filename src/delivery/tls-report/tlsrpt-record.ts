import { isNoRecord, txtTexts, type DnsLookup } from '../../dns/lookup.js';

/**
 * A domain's TLS-RPT record (RFC 8460 §3): the TXT record at `_smtp._tls.<domain>` naming where
 * its reports go, e.g. `v=TLSRPTv1; rua=mailto:tls@example.com,https://reports.example.com/tls`.
 */

export type TlsRptRua = { kind: 'mailto'; uri: string; address: string } | { kind: 'https'; uri: string; url: URL };

export type TlsRptRecord =
  /** `ignored`: rua URIs that cannot be used (another scheme, a malformed address), for the log. */
  | { kind: 'record'; rua: TlsRptRua[]; ignored: string[] }
  /** The domain does not take reports: no record, several, or none that can be used (`reason` says which). */
  | { kind: 'none'; reason: string };

/** Records begin with this (case-sensitive, RFC 8460's %s"v=TLSRPTv1"), then a field delimiter. */
const VERSION = /^v=TLSRPTv1[ \t]*;/;
const FIELD_DELIM = /[ \t]*;[ \t]*/;
/** tlsrpt-ext-name "=" value; `rua` has this shape too. */
const FIELD = /^([A-Za-z0-9][A-Za-z0-9_.-]{0,31})=(.*)$/s;

/**
 * Picks and parses the TLS-RPT record among a name's TXT records (each joined from its
 * character-strings). Records that do not begin with "v=TLSRPTv1;" are discarded; if not exactly
 * one remains, the domain is taken not to implement TLS-RPT. Unknown fields are ignored; of the
 * rua URIs, mailto: and https: are the two RFC 8460 defines and the only ones used.
 *
 * Fields are split at ";" the way DMARC records are: a rua URI with a literal ";" in it cannot be
 * written in this record (RFC 8460 already requires "," and "!" in URIs to be percent-encoded).
 */
export function parseTlsRptRecords(txts: readonly string[]): TlsRptRecord {
  const records = txts.filter((t) => VERSION.test(t));
  if (records.length === 0) return { kind: 'none', reason: 'no record begins with v=TLSRPTv1;' };
  if (records.length > 1) return { kind: 'none', reason: `${records.length} records begin with v=TLSRPTv1;` };
  const fields = records[0]!.replace(VERSION, '').trim().split(FIELD_DELIM);
  let rua: string | null = null;
  for (const field of fields) {
    if (field === '') continue; // a trailing delimiter (allowed), or an empty field (harmless)
    const m = FIELD.exec(field);
    if (!m) return { kind: 'none', reason: `malformed field ${JSON.stringify(field.slice(0, 100))}` };
    if (m[1] !== 'rua') continue; // an extension this sender does not know: ignored (§3)
    if (rua !== null) return { kind: 'none', reason: 'more than one rua field' };
    rua = m[2]!;
  }
  if (rua === null || rua.trim() === '') return { kind: 'none', reason: 'no rua field' };
  const usable: TlsRptRua[] = [];
  const ignored: string[] = [];
  for (const uri of rua.trim().split(/[ \t]*,[ \t]*/)) {
    const r = parseRua(uri);
    if (r) usable.push(r);
    else ignored.push(uri);
  }
  if (usable.length === 0) return { kind: 'none', reason: `no usable rua URI (${ignored.map((u) => JSON.stringify(u.slice(0, 100))).join(', ')})` };
  return { kind: 'record', rua: usable, ignored };
}

/** A mailto: with one plausible address (its query, e.g. ?subject=, is not used), or an https: URL; null otherwise. */
function parseRua(uri: string): TlsRptRua | null {
  if (/^mailto:/i.test(uri)) {
    let address: string;
    try {
      address = decodeURIComponent(uri.slice('mailto:'.length).split('?')[0]!);
    } catch {
      return null;
    }
    return /^[^@\s<>,"]+@[^@\s<>,"]+$/.test(address) ? { kind: 'mailto', uri, address } : null;
  }
  if (/^https:/i.test(uri)) {
    try {
      const url = new URL(uri);
      return url.protocol === 'https:' && url.hostname !== '' ? { kind: 'https', uri, url } : null;
    } catch {
      return null;
    }
  }
  return null;
}

/** The record of `domain`, or the failed lookup (a timeout or SERVFAIL: the question is asked again later). */
export async function lookupTlsRptRecord(dns: Pick<DnsLookup, 'resolveTxt'>, domain: string): Promise<TlsRptRecord | { kind: 'failed'; error: string }> {
  try {
    return parseTlsRptRecords(txtTexts(await dns.resolveTxt(`_smtp._tls.${domain}`)));
  } catch (err) {
    if (isNoRecord(err)) return { kind: 'none', reason: 'no TXT record at _smtp._tls' };
    return { kind: 'failed', error: (err as NodeJS.ErrnoException).code ?? (err as Error).message };
  }
}
