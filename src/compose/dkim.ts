/**
 * DKIM for outbound mail (RFC 6376, Ed25519 per RFC 8463): key generation, the DNS records a
 * domain owner publishes, signing, and domain-name validation. No database, no I/O.
 *
 * Signing is done here with node:crypto rather than through mailauth's dkimSign: mailauth only
 * takes a PEM and re-parses it for every message, and under OpenSSL 3 parsing a PEM costs
 * ~0.5 ms (RSA and Ed25519 alike) — 60% on top of an RSA-2048 signature and ~10x an Ed25519 one.
 * Here each key is parsed once and cached. The relaxed canonicalization below is small and is
 * checked in test/unit/dkim.test.ts against mailauth's independent verifier and body hash.
 */
import { createHash, createPrivateKey, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

export type DkimAlgorithm = 'rsa-sha256' | 'ed25519-sha256';

export interface DkimKey {
  domain: string;
  selector: string;
  algorithm: DkimAlgorithm;
  privateKeyPem: string;
  /** The p= value: base64 SubjectPublicKeyInfo DER for RSA, the raw 32-byte key for Ed25519 (RFC 8463). */
  publicKeyBase64: string;
}

export interface DnsRecord {
  type: 'TXT' | 'CNAME' | 'MX';
  /** Fully qualified, without the trailing dot. */
  name: string;
  value: string;
  purpose: string;
  /** TXT only: `value` split into strings of at most 255 characters, the most one DNS
   *  character-string holds. Publish them as one record of several quoted strings
   *  (`"chunk1" "chunk2"`); resolvers concatenate them without separator. Always present on
   *  TXT records (a single element when the value is short) so callers need no special case. */
  chunks?: string[];
}

const RSA_BITS = 2048;
/** RFC 8301: verifiers must refuse RSA keys under 1024 bits, so signing with one is pointless. */
const MIN_RSA_BITS_TO_SIGN = 1024;
const TXT_STRING_MAX = 255;
const SELECTOR = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

/**
 * Header fields signed when present, in h= order. Beyond what receivers look at (From, Subject,
 * ...), List-Unsubscribe and List-Unsubscribe-Post must be covered for Gmail/Yahoo one-click
 * unsubscribe (RFC 8058), and Feedback-ID for Gmail's postmaster feedback loop.
 */
export const SIGNED_HEADERS: readonly string[] = [
  'from',
  'sender',
  'reply-to',
  'to',
  'cc',
  'subject',
  'date',
  'message-id',
  'in-reply-to',
  'references',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
  'list-id',
  'list-unsubscribe',
  'list-unsubscribe-post',
  'feedback-id',
];

export function generateDkimKey(domain: string, selector: string, algorithm: DkimAlgorithm = 'rsa-sha256'): DkimKey {
  const d = normalizeDomain(domain);
  if (!SELECTOR.test(selector)) throw new Error(`Invalid DKIM selector "${selector}": use letters, digits, hyphens and dots`);
  if (algorithm !== 'rsa-sha256' && algorithm !== 'ed25519-sha256') throw new Error(`Unsupported DKIM algorithm "${String(algorithm)}"`);
  const { privateKey, publicKey } =
    algorithm === 'rsa-sha256' ? generateKeyPairSync('rsa', { modulusLength: RSA_BITS, publicExponent: 0x10001 }) : generateKeyPairSync('ed25519');
  return {
    domain: d,
    selector: selector.toLowerCase(),
    algorithm,
    privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicKeyBase64: publicKeyValue(publicKey),
  };
}

/** The p= value for a public key: see DkimKey.publicKeyBase64. */
export function publicKeyValue(publicKey: KeyObject): string {
  if (publicKey.asymmetricKeyType === 'ed25519') {
    const x = publicKey.export({ format: 'jwk' }).x;
    if (!x) throw new Error('Ed25519 public key without a value');
    return Buffer.from(x, 'base64url').toString('base64');
  }
  return publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
}

/** Monthly selectors in UTC, so rotating a key never needs a new naming scheme. */
export function defaultSelector(now: Date, algorithm: DkimAlgorithm): string {
  const yyyymm = `${now.getUTCFullYear()}${String(now.getUTCMonth() + 1).padStart(2, '0')}`;
  return `pl${yyyymm}${algorithm === 'ed25519-sha256' ? 'e' : ''}`;
}

/**
 * Records per domain, in the order the keys' domains first appear: that domain's DKIM keys (in
 * the order given), then the SPF and DMARC suggestions. SPF is one record per domain: the purpose
 * says to merge with an existing one rather than add a second (two SPF records is a permerror).
 */
export function dnsRecordsFor(keys: DkimKey[], opts: { hostname: string; spfInclude?: string }): DnsRecord[] {
  const byDomain = new Map<string, DkimKey[]>();
  const seen = new Set<string>();
  for (const k of keys) {
    const name = `${k.selector}._domainkey.${k.domain}`.toLowerCase();
    if (seen.has(name)) throw new Error(`Two DKIM keys share the selector ${name}`);
    seen.add(name);
    const list = byDomain.get(k.domain.toLowerCase()) ?? [];
    list.push(k);
    byDomain.set(k.domain.toLowerCase(), list);
  }
  const out: DnsRecord[] = [];
  for (const [domain, list] of byDomain) {
    for (const k of list) {
      const kind = k.algorithm === 'ed25519-sha256' ? 'ed25519' : 'rsa';
      out.push(
        txt(
          `${k.selector}._domainkey.${domain}`.toLowerCase(),
          `v=DKIM1; k=${kind}; p=${k.publicKeyBase64}`,
          `DKIM public key (${k.algorithm}, selector ${k.selector})`,
        ),
      );
    }
    const spf = opts.spfInclude ? `v=spf1 include:${opts.spfInclude} ~all` : `v=spf1 a:${opts.hostname} ~all`;
    out.push(
      txt(
        domain,
        spf,
        'SPF: authorises Postline to send for the domain; if the domain already has a v=spf1 record, add the mechanism to it instead (only one SPF record is allowed)',
      ),
    );
    out.push(
      txt(
        `_dmarc.${domain}`,
        `v=DMARC1; p=none; rua=mailto:dmarc@${domain}`,
        'DMARC: monitoring only (p=none) with aggregate reports; tighten to quarantine/reject once reports show all mail aligned',
      ),
    );
  }
  return out;
}

function txt(name: string, value: string, purpose: string): DnsRecord {
  const chunks: string[] = [];
  for (let i = 0; i < value.length; i += TXT_STRING_MAX) chunks.push(value.slice(i, i + TXT_STRING_MAX));
  return { type: 'TXT', name, value, purpose, chunks };
}

// ---- signing ------------------------------------------------------------------------------

interface ParsedKey {
  key: KeyObject;
  rsa: boolean;
}
/** Parsed keys by algorithm+PEM. Bounded (LRU) because keys rotate and tenants come and go. */
const keyCache = new Map<string, ParsedKey>();
const KEY_CACHE_MAX = 1000;

function parsedKey(k: DkimKey): ParsedKey {
  const id = `${k.algorithm}\n${k.privateKeyPem}`;
  const hit = keyCache.get(id);
  if (hit) {
    keyCache.delete(id);
    keyCache.set(id, hit);
    return hit;
  }
  let key: KeyObject;
  try {
    key = createPrivateKey(k.privateKeyPem);
  } catch (err) {
    throw new Error(`DKIM key ${k.selector}._domainkey.${k.domain}: unreadable private key (${(err as Error).message})`);
  }
  const rsa = k.algorithm === 'rsa-sha256';
  const want = rsa ? 'rsa' : 'ed25519';
  if (key.asymmetricKeyType !== want) {
    throw new Error(`DKIM key ${k.selector}._domainkey.${k.domain}: ${k.algorithm} needs an ${want} key, got ${key.asymmetricKeyType}`);
  }
  const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
  if (rsa && bits < MIN_RSA_BITS_TO_SIGN) {
    throw new Error(`DKIM key ${k.selector}._domainkey.${k.domain}: RSA key of ${bits} bits is too short (receivers refuse < 1024)`);
  }
  const entry = { key, rsa };
  keyCache.set(id, entry);
  if (keyCache.size > KEY_CACHE_MAX) keyCache.delete(keyCache.keys().next().value as string);
  return entry;
}

/**
 * Signs with every key, RSA signatures first then Ed25519, and returns the message with the
 * DKIM-Signature fields prepended (RSA topmost, for verifiers that only look at the first one).
 * Bare LF line ends are converted to CRLF first — that is what goes on the wire and what
 * receivers canonicalize — so the returned message may differ from the input in line ends only.
 * Each present header in SIGNED_HEADERS is listed in h= once more than it occurs ("oversigning",
 * RFC 6376 §8.15) so a relay cannot add a second From/Subject/... without breaking the signature.
 * Throws if a key is unusable or the message has no From field. Never uses l= (RFC 6376 §8.2).
 */
export async function signMessage(message: Buffer | string, keys: DkimKey[]): Promise<Buffer> {
  let raw = typeof message === 'string' ? Buffer.from(message, 'utf8') : message;
  // latin1 maps bytes 1:1 to chars, so 8-bit (SMTPUTF8, 8BITMIME) content survives untouched.
  let text = raw.toString('latin1');
  if (/(?<!\r)\n/.test(text)) {
    text = text.replace(/\r?\n/g, '\r\n');
    raw = Buffer.from(text, 'latin1');
  }
  if (keys.length === 0) return raw;

  const sep = text.indexOf('\r\n\r\n');
  const headerEnd = sep >= 0 ? sep : text.endsWith('\r\n') ? text.length - 2 : text.length;
  const fields = parseFields(text.slice(0, headerEnd));
  const body = sep >= 0 ? text.slice(sep + 4) : '';

  const { names, canonical } = signedFields(fields);
  if (!names.includes('from')) throw new Error('Cannot DKIM-sign a message without a From header');
  const bh = relaxedBodyHash(body);
  const t = Math.floor(Date.now() / 1000);

  const rank = (k: DkimKey): number => (k.algorithm === 'rsa-sha256' ? 0 : 1);
  const ordered = [...keys].sort((a, b) => rank(a) - rank(b)); // stable: given order within a kind
  const headers: string[] = [];
  for (const k of ordered) {
    // d= and s= go into the header verbatim: refuse anything that could add tags or lines.
    if (!SELECTOR.test(k.domain) || !SELECTOR.test(k.selector)) {
      throw new Error(`DKIM key has a malformed domain or selector: ${JSON.stringify([k.domain, k.selector])}`);
    }
    const { key, rsa } = parsedKey(k);
    const unsigned = signatureField(k, t, names, bh);
    const data = Buffer.from(canonical + relaxedField(unsigned), 'latin1');
    // RFC 8463: Ed25519 signs the SHA-256 of the canonicalized header, not the header itself.
    const sig = rsa ? sign('sha256', data, key) : sign(null, createHash('sha256').update(data).digest(), key);
    headers.push(unsigned + foldBase64(sig.toString('base64'), lastLineLength(unsigned)) + '\r\n');
  }
  return Buffer.concat([Buffer.from(headers.join(''), 'latin1'), raw]);
}

interface Field {
  name: string;
  raw: string;
}

/** Header block (without the blank line) into fields, keeping each field's folding as is. */
function parseFields(block: string): Field[] {
  const fields: Field[] = [];
  for (const line of block.split('\r\n')) {
    const last = fields[fields.length - 1];
    if ((line.startsWith(' ') || line.startsWith('\t')) && last) {
      last.raw += '\r\n' + line;
      continue;
    }
    const colon = line.indexOf(':');
    fields.push({
      name:
        colon > 0
          ? line
              .slice(0, colon)
              .replace(/[ \t]+$/, '')
              .toLowerCase()
          : '',
      raw: line,
    });
  }
  return fields;
}

/** h= list and the canonicalized fields it covers. Several instances of a name are signed from
 *  the bottom up (RFC 6376 §5.4.2); the extra, unmatched name is the oversigning entry. */
function signedFields(fields: Field[]): { names: string[]; canonical: string } {
  const names: string[] = [];
  let canonical = '';
  for (const name of SIGNED_HEADERS) {
    const found = fields.filter((f) => f.name === name);
    if (found.length === 0) continue;
    for (let i = found.length - 1; i >= 0; i--) {
      names.push(name);
      canonical += relaxedField(found[i]!.raw) + '\r\n';
    }
    names.push(name);
  }
  return { names, canonical };
}

/** RFC 6376 §3.4.2 relaxed header canonicalization (without the trailing CRLF). */
function relaxedField(raw: string): string {
  const colon = raw.indexOf(':');
  const name = raw
    .slice(0, colon)
    .replace(/[ \t]+$/, '')
    .toLowerCase();
  const value = raw
    .slice(colon + 1)
    .replace(/\r\n/g, '')
    .replace(/[ \t]+/g, ' ')
    .replace(/^ | $/g, '');
  return `${name}:${value}`;
}

/** RFC 6376 §3.4.4 relaxed body canonicalization, hashed with SHA-256, base64 (the bh= value). */
function relaxedBodyHash(body: string): string {
  // Only rewrite runs that are not already a single space: replacing every space was 6x slower.
  const s = body.replace(/[ \t]+\r\n/g, '\r\n').replace(/\t[ \t]*| [ \t]+/g, ' ');
  // Drop trailing empty lines (and trailing WSP of an unterminated last line); a loop rather
  // than a /(\r\n)*$/ regex, which backtracks badly on long runs of blank lines.
  let end = s.length;
  for (;;) {
    if (end >= 2 && s.charCodeAt(end - 1) === 10 && s.charCodeAt(end - 2) === 13) end -= 2;
    else if (end >= 1 && s.charCodeAt(end - 1) === 32) end -= 1;
    else break;
  }
  const h = createHash('sha256').update(s.slice(0, end), 'latin1');
  if (end > 0) h.update('\r\n');
  return h.digest('base64');
}

/** The DKIM-Signature field up to and including "b=", folded at about 76 columns. */
function signatureField(k: DkimKey, t: number, names: string[], bh: string): string {
  const tags = [`v=1;`, `a=${k.algorithm};`, 'c=relaxed/relaxed;', `d=${k.domain};`, `s=${k.selector};`, `t=${t};`];
  let out = 'DKIM-Signature:';
  let col = out.length;
  const put = (atom: string, space: boolean): void => {
    if (col + atom.length + (space ? 1 : 0) > 76) {
      out += '\r\n\t' + atom;
      col = 1 + atom.length;
    } else {
      out += (space ? ' ' : '') + atom;
      col += atom.length + (space ? 1 : 0);
    }
  };
  for (const tag of tags) put(tag, true);
  // h= may fold at its colons (FWS is allowed around them); verifiers strip it.
  for (const [i, n] of names.entries()) put((i === 0 ? 'h=' : ':') + n + (i === names.length - 1 ? ';' : ''), i === 0);
  put(`bh=${bh};`, true);
  put('b=', true);
  return out;
}

function lastLineLength(s: string): number {
  return s.length - (s.lastIndexOf('\n') + 1);
}

/** b= value folded to the same width; FWS inside b= is ignored by verifiers. */
function foldBase64(b64: string, col: number): string {
  const first = Math.max(0, 76 - col);
  let out = b64.slice(0, first);
  for (let i = first; i < b64.length; i += 72) out += '\r\n\t' + b64.slice(i, i + 72);
  return out;
}

// ---- domain names -------------------------------------------------------------------------

const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function normalizeDomain(input: string): string {
  const bad = (why: string): Error => new Error(`Invalid domain "${input}": ${why}`);
  let s = input.trim();
  if (s.endsWith('.')) s = s.slice(0, -1); // accept the fully qualified form
  if (s === '') throw bad('it is empty');
  if (isIP(s) || isIP(s.replace(/^\[|\]$/g, ''))) throw bad('IP addresses cannot be sending domains');
  // domainToASCII follows the WHATWG URL host parser, which would turn "a%2eb" into "a.b" and
  // cut "a/b.com" to "a": refuse every ASCII character a hostname cannot hold before calling it.
  if (/[\x00-\x2c\x2f\x3a-\x40\x5b-\x60\x7b-\x7f]/.test(s)) {
    throw bad('only letters, digits, hyphens and dots are allowed');
  }
  const ascii = domainToASCII(s);
  if (ascii === '') throw bad('it is not a valid (internationalised) domain name');
  // The URL parser reads e.g. "0x7f.1" as an IPv4 address.
  if (isIP(ascii)) throw bad('IP addresses cannot be sending domains');
  if (ascii.length > 253) throw bad(`it is ${ascii.length} characters long; at most 253 are allowed`);
  const labels = ascii.split('.');
  if (labels.length < 2) throw bad('a single label is not a public domain name (e.g. use example.com, not example)');
  for (const label of labels) {
    if (label === '') throw bad('it has an empty label (two dots in a row, or a leading dot)');
    if (label.length > 63) throw bad(`label "${label}" is longer than 63 characters`);
    if (!LABEL.test(label)) throw bad(`label "${label}" must be letters, digits and hyphens, not starting or ending with a hyphen`);
  }
  if (/^[0-9]+$/.test(labels[labels.length - 1]!)) throw bad('the top-level domain cannot be all digits');
  return ascii;
}
