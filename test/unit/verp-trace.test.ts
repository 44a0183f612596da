import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { tracedLocalPart, VERP_TAG_CHARS, verpTag, VerpKeyring } from '../../src/core/verp.js';
import { traceCandidates, traceRecipientId, verifyTrace, type TraceCandidate } from '../../src/bounce/trace.js';
import { newId } from '../../src/core/ids.js';

const KEY = Buffer.from('k'.repeat(32));
const OLD_KEY = Buffer.from('o'.repeat(32));
const ID = '01M7W2Y7M07PX5VPA00K793S0K';
const OTHER = '01M7W6CAZF33ZGCFNEFHWNRRX0';

/** The tag worked out another way: the HMAC's bits as a string, cut in fives, read as Crockford digits. */
function tagByBits(key: Buffer, id: string): string {
  const mac = createHmac('sha256', key).update(`postline-verp-v1:${id.toUpperCase()}`).digest();
  const bits = [...mac].map((b) => b.toString(2).padStart(8, '0')).join('');
  let out = '';
  for (let i = 0; i < VERP_TAG_CHARS; i++) out += '0123456789abcdefghjkmnpqrstvwxyz'[parseInt(bits.slice(i * 5, i * 5 + 5), 2)];
  return out;
}

describe('VERP tag (pure)', () => {
  it('is the first 65 bits of HMAC-SHA256 over the upper-case id, lower-case Crockford base32', () => {
    const tag = verpTag(KEY, ID);
    expect(tag).toMatch(/^[0-9a-hjkmnp-tv-z]{13}$/);
    expect(tag).toBe(tagByBits(KEY, ID));
    for (let i = 0; i < 50; i++) {
      const id = newId();
      expect(verpTag(KEY, id)).toBe(tagByBits(KEY, id));
    }
    // The id's case does not matter (receivers lower-case addresses).
    expect(verpTag(KEY, ID.toLowerCase())).toBe(tag);
  });

  it('differs between ids and between keys', () => {
    expect(verpTag(KEY, ID)).not.toBe(verpTag(KEY, OTHER));
    expect(verpTag(KEY, ID)).not.toBe(verpTag(OLD_KEY, ID));
  });

  it('verifies in any case, with the current or the previous key, and refuses anything else', () => {
    const ring = new VerpKeyring([KEY, OLD_KEY]);
    expect(ring.tag(ID)).toBe(verpTag(KEY, ID));
    expect(ring.verify(ID, ring.tag(ID))).toBe(true);
    expect(ring.verify(ID.toLowerCase(), ring.tag(ID).toUpperCase())).toBe(true);
    expect(ring.verify(ID, verpTag(OLD_KEY, ID))).toBe(true); // mail tagged before a rotation
    expect(ring.verify(ID, verpTag(Buffer.from('x'.repeat(32)), ID))).toBe(false);
    expect(ring.verify(OTHER, ring.tag(ID))).toBe(false); // a neighbour's tag is not ours
    expect(ring.verify(ID, ring.tag(ID).slice(0, -1))).toBe(false);
    expect(ring.verify(ID, `${ring.tag(ID)}0`)).toBe(false);
    expect(ring.verify(ID, '')).toBe(false);
    expect(new VerpKeyring([OLD_KEY]).verify(ID, verpTag(KEY, ID))).toBe(false);
  });

  it('refuses an empty keyring or a short key', () => {
    expect(() => new VerpKeyring([])).toThrow(/at least one key/);
    expect(() => new VerpKeyring([Buffer.alloc(8)])).toThrow(/16 bytes/);
  });

  it('writes <id>-<tag> in lower case', () => {
    expect(tracedLocalPart(ID, 'ABC')).toBe(`${ID.toLowerCase()}-abc`);
  });
});

/** The milliseconds of an id's first 10 characters. */
const newIdTime = (id: string): number => [...id.slice(0, 10)].reduce((n, c) => n * 32 + '0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c), 0);

describe('recipient ids are not derivable from a neighbour', () => {
  it('ids of one millisecond are ordered but the steps between them are random', () => {
    const ids = Array.from({ length: 1000 }, () => newId(1_700_000_000_000));
    expect([...ids].sort()).toEqual(ids);
    const value = (id: string) => [...id.slice(10)].reduce((n, c) => n * 32n + BigInt('0123456789ABCDEFGHJKMNPQRSTVWXYZ'.indexOf(c)), 0n);
    const steps = ids.slice(1).map((id, i) => value(id) - value(ids[i]!));
    // The old monotonic ULID stepped by exactly one; now every step is a fresh 64-bit number.
    expect(steps.every((d) => d > 1n && d <= 1n << 64n)).toBe(true);
    expect(new Set(steps.map(String)).size).toBe(steps.length);
    // 15 in 16 steps are above 2^60; 850 of 999 leaves a margin of more than ten standard deviations.
    expect(steps.filter((d) => d > 1n << 60n).length).toBeGreaterThan(850);
  });

  it('moves to the next millisecond rather than overflow, and never goes back in time', () => {
    const t = 4_000_000_000_000; // later than any clock reading so far in this file: no clamp to an earlier call
    const timeOf = (id: string) => newIdTime(id);
    let last = newId(t);
    expect(timeOf(last)).toBe(t);
    let ordered = true;
    // 200,000 steps of 2^63 on average pass 2^80, the size of the random part, at least once.
    for (let i = 0; i < 200_000; i++) {
      const id = newId(t);
      if (!(id > last)) ordered = false;
      last = id;
    }
    expect(ordered).toBe(true);
    expect(timeOf(last)).toBeGreaterThan(t);
    expect(newId(t - 100) > last).toBe(true);
  });
});

describe('trace policy (pure)', () => {
  const ring = new VerpKeyring([KEY]);
  const verify = (id: string, tag: string) => ring.verify(id, tag);
  const tagged = (id: string) => tracedLocalPart(id, ring.tag(id));

  it('reads ids and tags from the envelope, Return-Path, X-Original-Return-Path, Original-Mail-From and Message-ID, strongest first', () => {
    const c = traceCandidates({
      rcptTo: `B+${tagged(ID).toUpperCase()}@Bounces.Example`,
      originalHeaders: [
        { name: 'Message-ID', value: `<${tagged(OTHER)}@mta1.postline.example>` },
        { name: 'Return-Path', value: `<b+${OTHER.toLowerCase()}@bounces.example>` },
        { name: 'X-Original-Return-Path', value: '<news@elsewhere.example>' },
      ],
      originalMailFrom: `b+${OTHER.toLowerCase()}-zz@bounces.example`,
    });
    expect(c).toEqual([
      { source: 'rcpt-to', id: ID, tag: ring.tag(ID) },
      { source: 'return-path', id: OTHER, tag: null },
      { source: 'original-mail-from', id: OTHER, tag: 'zz' },
      { source: 'message-id', id: OTHER, tag: ring.tag(OTHER) },
    ]);
    expect(traceRecipientId({ originalHeaders: [{ name: 'Message-ID', value: `<${tagged(OTHER)}@h.example>` }] })).toBe(OTHER);
  });

  const cand = (source: TraceCandidate['source'], id: string, tag: string | null): TraceCandidate => ({ source, id, tag });

  it('proves the strongest candidate whose tag verifies', () => {
    expect(verifyTrace([cand('rcpt-to', ID, ring.tag(ID))], verify)).toEqual({ ok: true, recipientId: ID, via: 'rcpt-to' });
    // A forged envelope does not hide a genuine quoted original, and vice versa.
    expect(verifyTrace([cand('rcpt-to', OTHER, 'bad'), cand('message-id', ID, ring.tag(ID))], verify)).toEqual({
      ok: true,
      recipientId: ID,
      via: 'message-id',
    });
    expect(verifyTrace([cand('rcpt-to', ID, ring.tag(ID)), cand('return-path', OTHER, ring.tag(OTHER))], verify)).toEqual({
      ok: true,
      recipientId: ID,
      via: 'rcpt-to',
    });
  });

  it('an id without a tag proves nothing, wherever it is: untagged', () => {
    for (const source of ['rcpt-to', 'return-path', 'x-original-return-path', 'original-mail-from', 'message-id'] as const) {
      expect(verifyTrace([cand(source, ID, null)], verify)).toEqual({ ok: false, reason: 'untagged', claimedId: ID, via: source });
    }
  });

  it("a tag that does not verify (a neighbour's, a made-up one) is a bad tag, even beside untagged ids", () => {
    expect(verifyTrace([cand('rcpt-to', OTHER, ring.tag(ID))], verify)).toEqual({ ok: false, reason: 'bad-tag', claimedId: OTHER, via: 'rcpt-to' });
    expect(verifyTrace([cand('rcpt-to', ID, null), cand('message-id', OTHER, '0123456789abc')], verify)).toEqual({
      ok: false,
      reason: 'bad-tag',
      claimedId: OTHER,
      via: 'message-id',
    });
  });

  it('no candidate: untraced', () => {
    expect(verifyTrace([], verify)).toEqual({ ok: false, reason: 'untraced', claimedId: null, via: null });
  });
});
