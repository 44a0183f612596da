import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { newId } from '../../src/core/ids.js';
import { decodeUlid, encodeUlid, signToken, TrackingTokens, verifyToken, type TrackingToken } from '../../src/tracking/token.js';

const SECRET = 'a-test-secret-of-32-bytes-length';
const OTHER = 'another-secret-32-bytes-long-xyz';
const ID = '01HZX3K7Q8V4N2M6P9R5T0W1YA';
const tokens = new TrackingTokens(SECRET);
const B64URL = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz-_';

describe('tracking tokens', () => {
  it('round-trips each kind, short and URL-safe', () => {
    const cases: [TrackingToken, number][] = [
      [{ kind: 'open', recipientId: ID }, 44],
      [{ kind: 'unsubscribe', recipientId: ID }, 44],
      [{ kind: 'click', recipientId: ID, linkIndex: 0 }, 46],
      [{ kind: 'click', recipientId: ID, linkIndex: 127 }, 46],
      [{ kind: 'click', recipientId: ID, linkIndex: 128 }, 47],
      [{ kind: 'click', recipientId: ID, linkIndex: 16_383 }, 47],
    ];
    for (const [t, length] of cases) {
      const s = tokens.sign(t);
      expect(s).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(s.length).toBe(length);
      expect(tokens.verify(s)).toEqual(t);
    }
  });

  it('gives each recipient and each link its own token, and returns ids in canonical upper case', () => {
    const a = newId(),
      b = newId();
    expect(tokens.sign({ kind: 'open', recipientId: a })).not.toBe(tokens.sign({ kind: 'open', recipientId: b }));
    expect(tokens.sign({ kind: 'click', recipientId: a, linkIndex: 1 })).not.toBe(tokens.sign({ kind: 'click', recipientId: a, linkIndex: 2 }));
    expect(tokens.verify(tokens.sign({ kind: 'open', recipientId: a.toLowerCase() }))).toEqual({ kind: 'open', recipientId: a });
  });

  it('refuses every single-character change, in every position, to every other character', () => {
    for (const t of [tokens.sign({ kind: 'open', recipientId: ID }), tokens.sign({ kind: 'click', recipientId: ID, linkIndex: 300 })]) {
      let tried = 0;
      for (let i = 0; i < t.length; i++) {
        for (const ch of B64URL) {
          if (ch === t[i]) continue;
          expect(tokens.verify(t.slice(0, i) + ch + t.slice(i + 1)), `position ${i} -> ${ch}`).toBeNull();
          tried++;
        }
      }
      expect(tried).toBe(t.length * 63);
    }
  });

  it('refuses truncated, extended and non-base64url tokens', () => {
    const t = tokens.sign({ kind: 'click', recipientId: ID, linkIndex: 5 });
    for (let n = 0; n < t.length; n++) expect(tokens.verify(t.slice(0, n))).toBeNull();
    expect(tokens.verify(t + 'A')).toBeNull();
    expect(tokens.verify(t + '=')).toBeNull();
    expect(tokens.verify(t.replace(/.$/, '+'))).toBeNull();
    expect(tokens.verify(`${t}${t}`)).toBeNull();
    expect(tokens.verify('')).toBeNull();
    expect(tokens.verify(undefined as unknown as string)).toBeNull();
  });

  it('refuses a change to any byte of any part: kind, recipient, link index, MAC', () => {
    const t = tokens.sign({ kind: 'click', recipientId: ID, linkIndex: 200 });
    const raw = Buffer.from(t, 'base64url');
    expect(raw.length).toBe(1 + 16 + 2 + 16);
    for (let i = 0; i < raw.length; i++) {
      for (const bit of [0x01, 0x80]) {
        const copy = Buffer.from(raw);
        copy[i]! ^= bit;
        expect(tokens.verify(copy.toString('base64url')), `byte ${i} ^ ${bit}`).toBeNull();
      }
    }
  });

  it('a token of one kind is never valid as another', () => {
    const open = tokens.sign({ kind: 'open', recipientId: ID });
    const raw = Buffer.from(open, 'base64url');
    for (const kindByte of [0x10, 0x12, 0x13, 0x21, 0x01]) {
      const copy = Buffer.from(raw);
      copy[0] = kindByte;
      expect(tokens.verify(copy.toString('base64url'))).toBeNull();
    }
    expect(tokens.verify(open)!.kind).toBe('open');
    expect(tokens.verify(tokens.sign({ kind: 'unsubscribe', recipientId: ID }))!.kind).toBe('unsubscribe');
  });

  it('refuses a correctly signed but non-canonical link index (one value, one token)', () => {
    const key = createHmac('sha256', SECRET).update('postline tracking token v1').digest();
    const sign = (body: Buffer) => Buffer.concat([body, createHmac('sha256', key).update(body).digest().subarray(0, 16)]).toString('base64url');
    const id = decodeUlid(ID)!;
    // Sanity: this is how a real token is made, so the refusals below are about the index alone.
    expect(tokens.verify(sign(Buffer.concat([Buffer.from([0x10]), id, Buffer.from([5])])))).toEqual({ kind: 'click', recipientId: ID, linkIndex: 5 });
    expect(tokens.verify(sign(Buffer.concat([Buffer.from([0x10]), id, Buffer.from([0x85, 0x00])])))).toBeNull();
    expect(tokens.verify(sign(Buffer.concat([Buffer.from([0x10]), id, Buffer.from([0x85, 0x81, 0x01])])))).toBeNull();
    expect(tokens.verify(sign(Buffer.concat([Buffer.from([0x11]), id, Buffer.from([5])])))).toBeNull(); // an open with an index
    expect(tokens.verify(sign(Buffer.concat([Buffer.from([0x10]), id])))).toBeNull(); // a click without one
  });

  it('refuses tokens signed with another secret, and accepts old secrets listed for rotation', () => {
    const old = new TrackingTokens(OTHER).sign({ kind: 'open', recipientId: ID });
    expect(tokens.verify(old)).toBeNull();
    expect(verifyToken(old, SECRET)).toBeNull();
    const rotated = new TrackingTokens([SECRET, OTHER]);
    expect(rotated.verify(old)).toEqual({ kind: 'open', recipientId: ID });
    // New tokens are signed with the first secret only.
    expect(new TrackingTokens(OTHER).verify(rotated.sign({ kind: 'open', recipientId: ID }))).toBeNull();
    expect(verifyToken(signToken({ kind: 'open', recipientId: ID }, Buffer.from(SECRET)), SECRET)).toEqual({ kind: 'open', recipientId: ID });
  });

  it('refuses weak secrets, non-ULID recipient ids and out-of-range link indexes', () => {
    expect(() => new TrackingTokens('short')).toThrow(/16 bytes/);
    expect(() => new TrackingTokens([])).toThrow();
    expect(() => tokens.sign({ kind: 'open', recipientId: 'not-a-ulid' })).toThrow();
    expect(() => tokens.sign({ kind: 'open', recipientId: '81HZX3K7Q8V4N2M6P9R5T0W1YA' })).toThrow(); // > 128 bits
    expect(() => tokens.sign({ kind: 'open', recipientId: '01HZX3K7Q8V4N2M6P9R5T0W1YU' })).toThrow(); // U is not Crockford
    expect(() => tokens.sign({ kind: 'click', recipientId: ID, linkIndex: -1 })).toThrow();
    expect(() => tokens.sign({ kind: 'click', recipientId: ID, linkIndex: 16_384 })).toThrow();
    expect(() => tokens.sign({ kind: 'click', recipientId: ID, linkIndex: 1.5 })).toThrow();
  });

  it('encodes ULIDs to 16 bytes and back', () => {
    for (let i = 0; i < 200; i++) {
      const id = newId();
      expect(encodeUlid(decodeUlid(id)!)).toBe(id);
    }
    expect(encodeUlid(Buffer.alloc(16))).toBe('0'.repeat(26));
    expect(encodeUlid(Buffer.alloc(16, 0xff))).toBe('7' + 'Z'.repeat(25));
  });
});
