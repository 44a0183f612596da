import { createHmac, timingSafeEqual } from 'node:crypto';

/**
 * Signed tracking tokens: what an open pixel, a tracked link or an unsubscribe link carries.
 *
 * A token names a recipient and what the link does (and, for a click, which link of the message),
 * never a URL: the click route looks the destination up among the links stored for that
 * recipient's message, so a token can only ever lead where the sender's own message led.
 *
 * Layout, then base64url without padding:
 *   byte 0       version (high nibble, 1) | kind (low nibble: 0 click, 1 open, 2 unsubscribe,
 *                the numbers of SocketLabs' TrackingType)
 *   bytes 1..16  the recipient id (a 26-character ULID is exactly 128 bits)
 *   click only   the link index, unsigned LEB128 (1 byte below 128, 2 below 16,384)
 *   last 16      HMAC-SHA256 over everything before it, truncated to 128 bits
 * An open or unsubscribe token is 44 characters, a click token 46 or 47.
 */

export type TokenKind = 'click' | 'open' | 'unsubscribe';

export type TrackingToken = { kind: 'open' | 'unsubscribe'; recipientId: string } | { kind: 'click'; recipientId: string; linkIndex: number };

/** A secret as kept in settings: text (UTF-8) or raw bytes. */
export type TrackingSecret = string | Uint8Array;

/** A shorter secret could be guessed offline from one token; 16 bytes is HMAC's own floor (RFC 2104). */
export const MIN_SECRET_BYTES = 16;
/** 128 bits: forging a token means guessing this, online, one request per guess. */
const MAC_BYTES = 16;
const ID_BYTES = 16;
const VERSION = 1;
/** Two LEB128 bytes; the rewriter tracks at most MAX_TRACKED_LINKS links, far below this. */
export const MAX_LINK_INDEX = 16_383;
/** Longest token we even try to decode (47 is the longest we issue): junk is refused unparsed. */
const MAX_TOKEN_CHARS = 64;
/** Keys are derived per purpose, so a secret shared with another feature never signs tokens directly. */
const KEY_CONTEXT = 'postline tracking token v1';

const KIND_CODE: Record<TokenKind, number> = { click: 0, open: 1, unsubscribe: 2 };
const KIND_BY_CODE: readonly TokenKind[] = ['click', 'open', 'unsubscribe'];

const CROCKFORD = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';
const CROCKFORD_VALUE = new Int8Array(128).fill(-1);
for (let i = 0; i < CROCKFORD.length; i++) {
  CROCKFORD_VALUE[CROCKFORD.charCodeAt(i)] = i;
  CROCKFORD_VALUE[CROCKFORD.toLowerCase().charCodeAt(i)] = i; // ids are lower-cased in Return-Paths
}
const BASE64URL = /^[A-Za-z0-9_-]+$/;

/** Signs with the first secret and accepts any of them: list the new one first while rotating. */
export class TrackingTokens {
  private readonly keys: readonly Buffer[];

  constructor(secrets: TrackingSecret | readonly TrackingSecret[]) {
    const list = typeof secrets === 'string' || secrets instanceof Uint8Array ? [secrets] : secrets;
    if (list.length === 0) throw new Error('tracking tokens need at least one secret');
    this.keys = list.map((s) => {
      const bytes = typeof s === 'string' ? Buffer.from(s, 'utf8') : Buffer.from(s);
      if (bytes.length < MIN_SECRET_BYTES) throw new Error(`a tracking secret needs at least ${MIN_SECRET_BYTES} bytes`);
      return createHmac('sha256', bytes).update(KEY_CONTEXT).digest();
    });
  }

  sign(t: TrackingToken): string {
    const id = decodeUlid(t.recipientId);
    if (!id) throw new Error(`not a recipient id: ${JSON.stringify(t.recipientId)}`);
    let index: number[] = [];
    if (t.kind === 'click') {
      if (!Number.isInteger(t.linkIndex) || t.linkIndex < 0 || t.linkIndex > MAX_LINK_INDEX) {
        throw new Error(`link index out of range: ${t.linkIndex}`);
      }
      index = t.linkIndex < 128 ? [t.linkIndex] : [(t.linkIndex & 0x7f) | 0x80, t.linkIndex >> 7];
    } else if (t.kind !== 'open' && t.kind !== 'unsubscribe') {
      throw new Error(`unknown token kind: ${String((t as { kind: unknown }).kind)}`);
    }
    const body = Buffer.concat([Buffer.from([(VERSION << 4) | KIND_CODE[t.kind]]), id, Buffer.from(index)]);
    return Buffer.concat([body, mac(this.keys[0]!, body)]).toString('base64url');
  }

  /** The token's content, or null for anything this service did not issue unchanged. */
  verify(token: string): TrackingToken | null {
    if (typeof token !== 'string' || token.length > MAX_TOKEN_CHARS || !BASE64URL.test(token)) return null;
    const raw = Buffer.from(token, 'base64url');
    // Base64 has spare bits in its last character: only the one canonical spelling is accepted,
    // so a token has exactly one valid form and any changed character fails.
    if (raw.toString('base64url') !== token) return null;
    if (raw.length < 1 + ID_BYTES + MAC_BYTES) return null;
    const head = raw[0]!;
    const kind = KIND_BY_CODE[head & 0x0f];
    if (head >> 4 !== VERSION || !kind) return null;
    const bodyLength = raw.length - MAC_BYTES;
    let linkIndex = -1;
    if (kind === 'click') {
      const first = raw[1 + ID_BYTES];
      if (first === undefined) return null;
      if (first < 0x80) {
        if (bodyLength !== 1 + ID_BYTES + 1) return null;
        linkIndex = first;
      } else {
        const second = raw[2 + ID_BYTES]!;
        // A second byte of 0 would be a longer spelling of a one-byte index; a third byte is never issued.
        if (bodyLength !== 1 + ID_BYTES + 2 || second === 0 || second >= 0x80) return null;
        linkIndex = (first & 0x7f) | (second << 7);
      }
    } else if (bodyLength !== 1 + ID_BYTES) {
      return null;
    }
    const body = raw.subarray(0, bodyLength);
    const given = raw.subarray(bodyLength);
    if (!this.keys.some((k) => timingSafeEqual(mac(k, body), given))) return null;
    const recipientId = encodeUlid(raw.subarray(1, 1 + ID_BYTES));
    return kind === 'click' ? { kind, recipientId, linkIndex } : { kind, recipientId };
  }
}

export function signToken(t: TrackingToken, secret: TrackingSecret): string {
  return new TrackingTokens(secret).sign(t);
}

export function verifyToken(token: string, secrets: TrackingSecret | readonly TrackingSecret[]): TrackingToken | null {
  return new TrackingTokens(secrets).verify(token);
}

function mac(key: Buffer, body: Buffer): Buffer {
  return createHmac('sha256', key).update(body).digest().subarray(0, MAC_BYTES);
}

/** 26 Crockford base32 characters -> 16 bytes; null unless it is a ULID (first digit 0-7). */
export function decodeUlid(id: string): Buffer | null {
  if (typeof id !== 'string' || id.length !== 26) return null;
  const out = Buffer.alloc(ID_BYTES);
  let acc = 0,
    bits = 0,
    o = 0;
  for (let i = 0; i < 26; i++) {
    const c = id.charCodeAt(i);
    const v = c < 128 ? CROCKFORD_VALUE[c]! : -1;
    if (v < 0) return null;
    // The first digit carries 3 bits (26 x 5 = 130 bits for a 128-bit value).
    const width = i === 0 ? 3 : 5;
    if (i === 0 && v > 7) return null;
    acc = (acc << width) | v;
    bits += width;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
      acc &= (1 << bits) - 1;
    }
  }
  return out;
}

/** 16 bytes -> the canonical (upper-case) 26-character ULID. */
export function encodeUlid(bytes: Uint8Array): string {
  let out = '';
  let acc = 0,
    bits = 0,
    i = 0;
  let width = 3;
  while (out.length < 26) {
    while (bits < width) {
      acc = (acc << 8) | bytes[i++]!;
      bits += 8;
    }
    bits -= width;
    out += CROCKFORD[(acc >> bits) & ((1 << width) - 1)];
    acc &= (1 << bits) - 1;
    width = 5;
  }
  return out;
}
