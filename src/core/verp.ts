/**
 * The trace tag: a keyed MAC over a recipient id that Postline writes beside the id in the
 * Return-Path (b+<id>-<tag>@<bounce domain>) and the Message-ID (<id>-<tag>@<hostname>), like
 * BATV and SRS do. Anyone can read or guess an id; only a holder of the installation's key can
 * make its tag, so a report that comes back with a valid tag really concerns mail we sent to that
 * recipient. Pure: the keys are given (bounce/verp-keys.ts loads them from the store).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';

const CROCKFORD = '0123456789abcdefghjkmnpqrstvwxyz';
/**
 * Characters of a tag: 13 base32 characters are 65 bits of HMAC-SHA256. A forger without the key
 * has one chance in 2^65 per try; the Return-Path local part stays at 42 characters (RFC 5321
 * allows 64), and the lower-case alphabet survives receivers that lower-case addresses.
 */
export const VERP_TAG_CHARS = 13;
/** Domain separation: the key signs nothing else, but the purpose is part of the MAC input anyway. */
const PURPOSE = 'postline-verp-v1:';

/**
 * Keys newest first: the first makes tags, every one verifies them, so after a rotation mail sent
 * with the previous key still traces while its bounces come back.
 */
export class VerpKeyring {
  private readonly keys: readonly Buffer[];

  constructor(keys: readonly Buffer[]) {
    if (keys.length === 0) throw new Error('a VERP keyring needs at least one key');
    for (const k of keys) if (k.length < 16) throw new Error('a VERP key must be at least 16 bytes');
    this.keys = keys.slice();
  }

  /** The tag of a recipient id (case-insensitive id; lower-case tag). */
  tag(recipientId: string): string {
    return verpTag(this.keys[0]!, recipientId);
  }

  /** True when `tag` (any case) is the tag of `recipientId` under one of the keys. */
  verify(recipientId: string, tag: string): boolean {
    const given = Buffer.from(tag.toLowerCase());
    let ok = false;
    // Every key is tried (no early exit), so the time taken does not say which one matched.
    for (const key of this.keys) {
      const want = Buffer.from(verpTag(key, recipientId));
      if (want.length === given.length && timingSafeEqual(want, given)) ok = true;
    }
    return ok;
  }
}

/** HMAC-SHA256(key, purpose + upper-case id), its first 65 bits in lower-case Crockford base32. */
export function verpTag(key: Buffer, recipientId: string): string {
  const mac = createHmac('sha256', key)
    .update(PURPOSE + recipientId.toUpperCase())
    .digest();
  let out = '';
  for (let i = 0; i < VERP_TAG_CHARS; i++) {
    const bit = i * 5;
    // Two bytes always cover the five bits starting at `bit`.
    const pair = (mac[bit >> 3]! << 8) | mac[(bit >> 3) + 1]!;
    out += CROCKFORD[(pair >> (11 - (bit & 7))) & 31];
  }
  return out;
}

/** <id>-<tag>, lower case: the local part of the Message-ID, and of the Return-Path after "b+". */
export function tracedLocalPart(recipientId: string, tag: string): string {
  return `${recipientId.toLowerCase()}-${tag.toLowerCase()}`;
}
