import { describe, expect, it } from 'vitest';
import { generateSecret, secretKey, sign, signAsync, signatureFor, verify, SECRET_PREFIX } from '../../src/net/standard-signature.js';

/**
 * The Standard Webhooks reference libraries' test vector: standard-webhooks/standard-webhooks,
 * libraries/javascript/src/webhook.test.ts, test "sign function works" (the same values appear in
 * the Python, Go and other libraries' tests).
 */
const VECTOR = {
  secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
  id: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
  timestamp: 1614265330,
  body: '{"test": 2432232314}',
  signature: 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=',
};

describe('Standard Webhooks signatures', () => {
  it('matches the published test vector', () => {
    expect(signatureFor(VECTOR.secret, VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(signatureFor(VECTOR.secret, VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body))).toBe(VECTOR.signature);
    // The prefix is optional, as in the reference libraries.
    expect(signatureFor(VECTOR.secret.slice(SECRET_PREFIX.length), VECTOR.id, VECTOR.timestamp, VECTOR.body)).toBe(VECTOR.signature);
    expect(sign(VECTOR.id, VECTOR.timestamp, VECTOR.body, [VECTOR.secret])).toEqual({
      'webhook-id': VECTOR.id,
      'webhook-timestamp': '1614265330',
      'webhook-signature': VECTOR.signature,
    });
    expect(
      verify(
        { 'webhook-id': VECTOR.id, 'webhook-timestamp': '1614265330', 'webhook-signature': VECTOR.signature },
        VECTOR.body,
        [VECTOR.secret],
        300,
        VECTOR.timestamp,
      ),
    ).toEqual({ ok: true });
  });

  it('generates whsec_ + base64 of 32 random bytes, different each time', () => {
    const a = generateSecret();
    expect(a).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(secretKey(a)).toHaveLength(32);
    expect(generateSecret()).not.toBe(a);
  });

  const secret = generateSecret();
  const body = '{"Type":"Delivered","Address":"x@example.com"}';
  const now = 1_700_000_000;
  const headers = sign('01HZZEVENT', now, body, [secret]);

  it('round-trips, with headers in any case', () => {
    expect(verify(headers, body, [secret], 300, now)).toEqual({ ok: true });
    const upper = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toUpperCase(), v]));
    expect(verify(upper, Buffer.from(body), [secret], 300, now)).toEqual({ ok: true });
  });

  it('fails when the body, id, timestamp or secret changes', () => {
    expect(verify(headers, body.replace('x@', 'y@'), [secret], 300, now)).toEqual({ ok: false, error: 'no signature matches' });
    expect(verify(headers, body + ' ', [secret], 300, now)).toMatchObject({ ok: false });
    expect(verify({ ...headers, 'webhook-id': '01HZZEVENU' }, body, [secret], 300, now)).toMatchObject({ ok: false });
    expect(verify({ ...headers, 'webhook-timestamp': String(now + 1) }, body, [secret], 300, now)).toEqual({ ok: false, error: 'no signature matches' });
    expect(verify(headers, body, [generateSecret()], 300, now)).toEqual({ ok: false, error: 'no signature matches' });
  });

  it('rotation: one entry per secret; either old or new secret verifies', () => {
    const next = generateSecret();
    const both = sign('01HZZEVENT', now, body, [next, secret]);
    const entries = both['webhook-signature'].split(' ');
    expect(entries).toHaveLength(2);
    expect(entries.every((e) => /^v1,[A-Za-z0-9+/]{43}=$/.test(e))).toBe(true);
    expect(verify(both, body, [secret], 300, now)).toEqual({ ok: true });
    expect(verify(both, body, [next], 300, now)).toEqual({ ok: true });
    expect(verify(both, body, [generateSecret()], 300, now)).toMatchObject({ ok: false });
  });

  it('skips entries of other versions and malformed entries', () => {
    const valid = headers['webhook-signature'];
    const mixed = `v1a,${valid.slice(3)} v2,${valid.slice(3)} v1,dawfeoifkpqwoekfpqoekf v1, garbage ${valid}`;
    expect(verify({ ...headers, 'webhook-signature': mixed }, body, [secret], 300, now)).toEqual({ ok: true });
    expect(verify({ ...headers, 'webhook-signature': `v1a,${valid.slice(3)}` }, body, [secret], 300, now)).toMatchObject({ ok: false });
    expect(verify({ ...headers, 'webhook-signature': valid.slice(0, 8) }, body, [secret], 300, now)).toMatchObject({ ok: false });
  });

  it('enforces the timestamp tolerance both ways', () => {
    expect(verify(headers, body, [secret], 300, now + 300)).toEqual({ ok: true });
    expect(verify(headers, body, [secret], 300, now + 301)).toEqual({ ok: false, error: 'webhook-timestamp is more than 300 s from now' });
    expect(verify(headers, body, [secret], 300, now - 301)).toMatchObject({ ok: false });
    expect(verify(headers, body, [secret], 600, now + 301)).toEqual({ ok: true });
  });

  it('refuses missing or malformed headers', () => {
    for (const name of ['webhook-id', 'webhook-timestamp', 'webhook-signature'] as const) {
      const { [name]: _gone, ...rest } = headers;
      expect(verify(rest, body, [secret], 300, now)).toEqual({ ok: false, error: 'missing webhook-id, webhook-timestamp or webhook-signature header' });
    }
    expect(verify({ ...headers, 'webhook-timestamp': 'hello' }, body, [secret], 300, now)).toEqual({
      ok: false,
      error: 'webhook-timestamp is not an integer number of seconds',
    });
    expect(verify({ ...headers, 'webhook-timestamp': '1.7e9' }, body, [secret], 300, now)).toMatchObject({ ok: false });
  });

  it('refuses to sign with no secret, a bad secret, an id with a dot or a fractional timestamp', () => {
    expect(() => sign('id', now, body, [])).toThrow(/at least one/);
    expect(() => sign('id', now, body, ['whsec_not base64!'])).toThrow(/base64/);
    expect(() => sign('id', now, body, ['whsec_' + Buffer.alloc(16).toString('base64')])).toThrow(/24-64 bytes, got 16/);
    expect(() => sign('a.b', now, body, [secret])).toThrow(/no '\.'/);
    expect(() => sign('id', now + 0.5, body, [secret])).toThrow(/whole seconds/);
  });

  it('signAsync (sliced, for large bodies) gives exactly the headers sign() gives, for the reference vector and a 3 MB body', async () => {
    expect(await signAsync(VECTOR.id, VECTOR.timestamp, Buffer.from(VECTOR.body), [VECTOR.secret])).toEqual(
      sign(VECTOR.id, VECTOR.timestamp, VECTOR.body, [VECTOR.secret]),
    );
    const body = Buffer.alloc(3 * 1024 * 1024 + 7, 'a');
    const secrets = [generateSecret(), generateSecret()];
    const headers = await signAsync('msg_big', 1_700_000_000, body, secrets);
    expect(headers).toEqual(sign('msg_big', 1_700_000_000, body, secrets));
    await expect(signAsync('bad.id', 1, body, secrets)).rejects.toThrow(/contain no '\.'/);
  });
});
