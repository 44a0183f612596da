import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Standard Webhooks signatures (https://www.standardwebhooks.com, spec/standard-webhooks.md,
 * symmetric scheme): HMAC-SHA256 over `${id}.${timestamp}.${body}` with the secret's decoded bytes,
 * sent as `webhook-signature: v1,<base64>`, one entry per active secret so a rotation never drops
 * a webhook. SocketLabs receivers ignore these headers and keep checking SecretKey in the body.
 */

export const SECRET_PREFIX = 'whsec_';
/** Bytes of a generated secret: the spec asks at least 24 (192 bits); 32 is SHA-256's own strength. */
const GENERATED_SECRET_BYTES = 32;
/** The spec's bounds on a symmetric secret. */
const MIN_SECRET_BYTES = 24;
const MAX_SECRET_BYTES = 64;
/** How far a webhook-timestamp may be from the receiver's clock (the reference libraries' 5 minutes). */
export const DEFAULT_TOLERANCE_SEC = 300;
const SIGNATURE_VERSION = 'v1';
const HMAC_SHA256_BYTES = 32;

/** A type, not an interface, so it passes wherever a plain header record is expected. */
export type SignatureHeaders = {
  'webhook-id': string;
  'webhook-timestamp': string;
  'webhook-signature': string;
};

/** Node's IncomingHttpHeaders and plain objects both fit; names are matched case-insensitively. */
export type HeaderBag = Readonly<Record<string, string | readonly string[] | undefined>>;

export type VerifyResult = { ok: true } | { ok: false; error: string };

/** A new secret: `whsec_` + base64 of 32 random bytes. */
export function generateSecret(): string {
  return SECRET_PREFIX + randomBytes(GENERATED_SECRET_BYTES).toString('base64');
}

/**
 * The HMAC key of a secret. The prefix is optional (the reference libraries accept both); the
 * rest must be canonical base64 of 24–64 bytes, so a truncated or mistyped secret is an error here
 * rather than a key that silently never matches.
 */
export function secretKey(secret: string): Buffer {
  const encoded = secret.startsWith(SECRET_PREFIX) ? secret.slice(SECRET_PREFIX.length) : secret;
  const key = Buffer.from(encoded, 'base64');
  if (key.toString('base64') !== encoded) throw new Error('webhook secret is not valid base64 (expected whsec_ followed by base64)');
  if (key.length < MIN_SECRET_BYTES || key.length > MAX_SECRET_BYTES) {
    throw new Error(`webhook secret must decode to ${MIN_SECRET_BYTES}-${MAX_SECRET_BYTES} bytes, got ${key.length}`);
  }
  return key;
}

function hmac(key: Buffer, id: string, timestamp: number, body: string | Buffer): Buffer {
  return createHmac('sha256', key).update(`${id}.${timestamp}.`).update(body).digest();
}

/** What sign() and signAsync() refuse: no secret, an id that is empty or holds a '.', a timestamp that is not whole seconds. */
function checkSignArguments(id: string, timestamp: number, secrets: readonly string[]): void {
  if (secrets.length === 0) throw new Error('at least one webhook secret is needed to sign');
  if (id === '' || id.includes('.')) throw new Error(`webhook id must be non-empty and contain no '.': ${JSON.stringify(id)}`);
  if (!Number.isSafeInteger(timestamp) || timestamp < 0) throw new Error(`webhook timestamp must be whole seconds, got ${timestamp}`);
}

/** Bytes hashed between yields to the event loop by signAsync: about 2 ms of SHA-256. */
const HASH_SLICE_BYTES = 1024 * 1024;

async function hmacSliced(key: Buffer, id: string, timestamp: number, body: Buffer): Promise<Buffer> {
  const h = createHmac('sha256', key).update(`${id}.${timestamp}.`);
  for (let at = 0; at < body.length; at += HASH_SLICE_BYTES) {
    h.update(body.subarray(at, at + HASH_SLICE_BYTES));
    if (at + HASH_SLICE_BYTES < body.length) await new Promise<void>((r) => setImmediate(r));
  }
  return h.digest();
}

/**
 * sign() for bodies of any size (inbound posts reach 70 MB of JSON): the HMAC is computed a slice
 * at a time, yielding between slices, so hashing a large body never holds the event loop (one
 * 33 MB body took 50 ms in one go). Same headers as sign().
 */
export async function signAsync(id: string, timestamp: number, body: Buffer, secrets: readonly string[]): Promise<SignatureHeaders> {
  checkSignArguments(id, timestamp, secrets);
  const sigs: string[] = [];
  for (const s of secrets) sigs.push(`${SIGNATURE_VERSION},${(await hmacSliced(secretKey(s), id, timestamp, body)).toString('base64')}`);
  return { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': sigs.join(' ') };
}

/** One `v1,<base64>` entry. */
export function signatureFor(secret: string, id: string, timestamp: number, body: string | Buffer): string {
  return `${SIGNATURE_VERSION},${hmac(secretKey(secret), id, timestamp, body).toString('base64')}`;
}

/**
 * The three headers for one attempt. `id` is the event's stable id (the same on every retry, so
 * receivers can deduplicate); `timestamp` is the attempt's time in whole seconds. Neither may
 * contain a '.', which would make the signed string ambiguous.
 */
export function sign(id: string, timestamp: number, body: string | Buffer, secrets: readonly string[]): SignatureHeaders {
  checkSignArguments(id, timestamp, secrets);
  return {
    'webhook-id': id,
    'webhook-timestamp': String(timestamp),
    'webhook-signature': secrets.map((s) => signatureFor(s, id, timestamp, body)).join(' '),
  };
}

function header(headers: HeaderBag, name: string): string | undefined {
  for (const [k, v] of Object.entries(headers)) {
    if (k.toLowerCase() !== name) continue;
    return typeof v === 'string' ? v : v?.join(' ');
  }
  return undefined;
}

/**
 * Checks a received webhook: the timestamp within `toleranceSec` of `nowSec`, and one `v1`
 * signature in the header matching one of `secrets` (constant-time). `body` must be the raw bytes
 * received, not re-serialised JSON. A malformed secret throws: it is a configuration error, not a
 * bad request.
 */
export function verify(
  headers: HeaderBag,
  body: string | Buffer,
  secrets: readonly string[],
  toleranceSec = DEFAULT_TOLERANCE_SEC,
  nowSec = Math.floor(Date.now() / 1000),
): VerifyResult {
  const id = header(headers, 'webhook-id');
  const ts = header(headers, 'webhook-timestamp');
  const sigs = header(headers, 'webhook-signature');
  if (!id || !ts || !sigs) return { ok: false, error: 'missing webhook-id, webhook-timestamp or webhook-signature header' };
  if (!/^\d{1,15}$/.test(ts)) return { ok: false, error: 'webhook-timestamp is not an integer number of seconds' };
  const timestamp = Number(ts);
  if (Math.abs(nowSec - timestamp) > toleranceSec) return { ok: false, error: `webhook-timestamp is more than ${toleranceSec} s from now` };
  const candidates = sigs.split(' ').flatMap((entry) => {
    const comma = entry.indexOf(',');
    if (comma < 0 || entry.slice(0, comma) !== SIGNATURE_VERSION) return [];
    const raw = Buffer.from(entry.slice(comma + 1), 'base64');
    return raw.length === HMAC_SHA256_BYTES ? [raw] : [];
  });
  for (const secret of secrets) {
    const expected = hmac(secretKey(secret), id, timestamp, body);
    if (candidates.some((c) => timingSafeEqual(c, expected))) return { ok: true };
  }
  return { ok: false, error: 'no signature matches' };
}
