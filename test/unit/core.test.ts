import { describe, expect, it } from 'vitest';
import { isValidEmailAddress, domainOf } from '../../src/core/address.js';
import { generateApiKey, parseApiKey, secretMatches, API_KEY_LENGTH } from '../../src/core/api-key.js';
import { newId } from '../../src/core/ids.js';
import { AuthThrottle } from '../../src/accept/auth-throttle.js';

describe('email addresses', () => {
  it.each(['a@example.com', 'first.last+tag@sub.example.co.uk', '"quoted name"@example.com', 'jörg@bücher.de', 'x@[192.0.2.1]'])('accepts %s', (a) => {
    expect(isValidEmailAddress(a)).toBe(true);
  });
  it.each([
    '',
    'plain',
    'a@',
    '@example.com',
    'a b@example.com',
    'a,b@example.com',
    'a;b@example.com',
    'a@@example.com',
    'a@localhost',
    'a..b@example.com',
    '.a@example.com',
    'a@-example.com',
    'a@example..com',
    `${'x'.repeat(65)}@example.com`,
    'a@example.com\r\nBcc: b@example.com',
  ])('refuses %j', (a) => {
    expect(isValidEmailAddress(a)).toBe(false);
  });
  it('takes the domain lower-cased', () => expect(domainOf('A@Example.COM')).toBe('example.com'));
});

describe('API keys', () => {
  it('are 61 characters in the SocketLabs layout and verify only with their own secret', () => {
    const k = generateApiKey();
    expect(k.key).toHaveLength(API_KEY_LENGTH);
    expect(k.key).toMatch(/^[A-Za-z0-9]{20}\.[A-Za-z0-9]{40}$/);
    const parsed = parseApiKey(k.key)!;
    expect(parsed.publicId).toBe(k.publicId);
    expect(secretMatches(parsed.secret, k.secretHash)).toBe(true);
    expect(
      secretMatches(
        parsed.secret.replace(/.$/, (c) => (c === 'a' ? 'b' : 'a')),
        k.secretHash,
      ),
    ).toBe(false);
    expect(k.secretHash).not.toContain(parsed.secret);
  });
  it('refuses other shapes', () => {
    for (const bad of ['legacyKey123', `${'A'.repeat(20)}-${'B'.repeat(40)}`, `${'A'.repeat(19)}.${'B'.repeat(41)}`, `${'A'.repeat(20)}.${'B'.repeat(39)}!`]) {
      expect(parseApiKey(bad)).toBeNull();
    }
  });
});

describe('ids', () => {
  it('are 26 characters, unique and sorted by creation even within one millisecond', () => {
    const ids = Array.from({ length: 5000 }, () => newId(1_700_000_000_000));
    expect(new Set(ids).size).toBe(5000);
    expect([...ids].sort()).toEqual(ids);
    expect(ids[0]).toMatch(/^[0-9A-HJKMNP-TV-Z]{26}$/);
    expect(newId(1_800_000_000_000) > ids[4999]!).toBe(true);
  });
});

describe('auth-failure throttle', () => {
  it('blocks a client after the limit within the window and forgets after it', () => {
    const t = new AuthThrottle(3, 1000);
    for (let i = 0; i < 3; i++) {
      expect(t.isBlocked('c', 100)).toBe(false);
      t.recordFailure('c', 100);
    }
    expect(t.isBlocked('c', 200)).toBe(true);
    expect(t.isBlocked('other', 200)).toBe(false);
    expect(t.isBlocked('c', 1200)).toBe(false);
  });
  it('refuses a zero limit', () => expect(() => new AuthThrottle(0, 1000)).toThrow());
});

describe('per-destination rate limiter', () => {
  it('allows a burst of one second, then gives each caller the next slot of its key', async () => {
    const { RateLimiter } = await import('../../src/delivery/rate-limiter.js');
    let now = 0;
    const r = new RateLimiter(5, () => now);
    expect([1, 2, 3, 4, 5].map(() => r.reserve('a'))).toEqual([0, 0, 0, 0, 0]);
    expect(r.reserve('a')).toBe(200);
    expect(r.reserve('a')).toBe(400);
    expect(r.reserve('b')).toBe(0);
    now = 400;
    // The slots at 200 and 400 are taken by the callers waiting for them.
    expect(r.reserve('a')).toBe(200);
    now = 10_000;
    // Idle again: a fresh burst of one second's worth, not more.
    expect([1, 2, 3, 4, 5, 6].map(() => r.reserve('a'))).toEqual([0, 0, 0, 0, 0, 200]);
    expect(() => new RateLimiter(0)).toThrow();
    expect(() => new RateLimiter(Number.NaN)).toThrow();
  });

  it("puts each waiter to sleep once, until its own slot: no waiter wakes for another's token", async () => {
    const { RateLimiter } = await import('../../src/delivery/rate-limiter.js');
    const sleeps: number[] = [];
    const r = new RateLimiter(
      10,
      () => 0,
      async (ms) => {
        sleeps.push(ms);
      },
    );
    await Promise.all(Array.from({ length: 100 }, () => r.take('busy.example')));
    // 10 go at once (the burst); the other 90 sleep once each, 100 ms apart.
    expect(sleeps).toEqual(Array.from({ length: 90 }, (_, i) => (i + 1) * 100));
  });
});
