import { describe, expect, it } from 'vitest';
import { MAX_RECIPIENTS_PER_MESSAGE } from '../../src/core/limits.js';
import {
  decideAuth,
  decideMailFrom,
  decideMessageSize,
  decideRcpt,
  parseIpAddress,
  parseServerIdUsername,
  parseTrustedNetworks,
  trustedServerFor,
} from '../../src/smtp/session-policy.js';

describe('trusted networks', () => {
  const nets = parseTrustedNetworks(['127.0.0.0/8=10001', '::1/128=10001', '10.1.0.0/16=10002', '10.1.2.0/24=10003', '2001:db8::/32=10004', '0.0.0.0/0=10009']);

  it('parses CIDR=serverId entries of both families', () => {
    expect(nets.map((n) => [n.family, n.prefix, n.serverId])).toEqual([
      [4, 8, 10001],
      [6, 128, 10001],
      [4, 16, 10002],
      [4, 24, 10003],
      [6, 32, 10004],
      [4, 0, 10009],
    ]);
    expect(Array.from(nets[4]!.bytes.subarray(0, 4))).toEqual([0x20, 0x01, 0x0d, 0xb8]);
  });

  it('matches IPv4, IPv6 and IPv4-mapped IPv6 addresses; the longest prefix wins', () => {
    expect(trustedServerFor('127.0.0.1', nets)).toBe(10001);
    expect(trustedServerFor('127.255.1.2', nets)).toBe(10001);
    expect(trustedServerFor('::ffff:127.0.0.1', nets)).toBe(10001);
    expect(trustedServerFor('::FFFF:7f00:1', nets)).toBe(10001);
    expect(trustedServerFor('::1', nets)).toBe(10001);
    expect(trustedServerFor('0:0:0:0:0:0:0:1', nets)).toBe(10001);
    expect(trustedServerFor('10.1.9.9', nets)).toBe(10002);
    expect(trustedServerFor('10.1.2.3', nets)).toBe(10003);
    expect(trustedServerFor('::ffff:10.1.2.3', nets)).toBe(10003);
    expect(trustedServerFor('2001:db8:ffff::5', nets)).toBe(10004);
    expect(trustedServerFor('8.8.8.8', nets)).toBe(10009); // 0.0.0.0/0 as the catch-all
    expect(trustedServerFor('2001:db9::1', nets)).toBeNull();
    expect(trustedServerFor('::2', nets)).toBeNull();
    expect(trustedServerFor('not-an-ip', nets)).toBeNull();
  });

  it('trusts nobody by default', () => {
    expect(trustedServerFor('127.0.0.1', parseTrustedNetworks([]))).toBeNull();
  });

  it('matches prefixes that do not end on a byte boundary', () => {
    const n = parseTrustedNetworks(['192.168.4.0/22=7', 'fe80::/10=8']);
    expect(trustedServerFor('192.168.7.255', n)).toBe(7);
    expect(trustedServerFor('192.168.8.0', n)).toBeNull();
    expect(trustedServerFor('febf::1', n)).toBe(8);
    expect(trustedServerFor('fec0::1', n)).toBeNull();
  });

  it('refuses doubtful entries with an error naming the entry', () => {
    expect(() => parseTrustedNetworks(['127.0.0.1'])).toThrow('trusted network "127.0.0.1" is not CIDR=serverId (e.g. 127.0.0.0/8=10001)');
    expect(() => parseTrustedNetworks(['127.0.0.0/8'])).toThrow('is not CIDR=serverId');
    expect(() => parseTrustedNetworks(['127.0.0.0/8=abc'])).toThrow('is not CIDR=serverId');
    expect(() => parseTrustedNetworks(['300.0.0.0/8=1'])).toThrow('trusted network "300.0.0.0/8=1": "300.0.0.0" is not an IPv4 or IPv6 address');
    expect(() => parseTrustedNetworks(['1:2:3/64=1'])).toThrow('"1:2:3" is not an IPv4 or IPv6 address');
    expect(() => parseTrustedNetworks(['10.0.0.0/33=1'])).toThrow('prefix /33 is longer than 32 bits');
    expect(() => parseTrustedNetworks(['::/129=1'])).toThrow('prefix /129 is longer than 128 bits');
    expect(() => parseTrustedNetworks(['10.1.2.3/16=1'])).toThrow('trusted network "10.1.2.3/16=1" has host bits set; the network is 10.1.0.0/16');
    expect(() => parseTrustedNetworks(['fe80::1/64=1'])).toThrow('has host bits set; the network is fe80::/64');
    expect(() => parseTrustedNetworks(['2001:db8:0:1::1/48=1'])).toThrow('the network is 2001:db8::/48');
    expect(() => parseTrustedNetworks(['1:0:0:1::1/64=1'])).toThrow('the network is 1:0:0:1::/64');
    expect(() => parseTrustedNetworks(['10.0.0.0/8=0'])).toThrow('"0" is not a ServerId');
    expect(() => parseTrustedNetworks(['10.0.0.0/8=1', '10.0.0.0/8=2'])).toThrow('the same network is already listed as "10.0.0.0/8=1"');
  });

  it('reads addresses, mapped IPv4 as IPv4', () => {
    expect(parseIpAddress('::ffff:1.2.3.4')).toEqual({ family: 4, bytes: new Uint8Array([1, 2, 3, 4]) });
    expect(parseIpAddress('fe80::1%eth0')?.family).toBe(6);
    expect(parseIpAddress('1.2.3')).toBeNull();
  });
});

describe('session decisions', () => {
  const auth = { serverId: 10001, via: 'auth' as const };

  it('AUTH needs TLS unless insecure AUTH is allowed', () => {
    expect(decideAuth({ secure: true, allowInsecureAuth: false })).toEqual({ ok: true });
    expect(decideAuth({ secure: false, allowInsecureAuth: true })).toEqual({ ok: true });
    expect(decideAuth({ secure: false, allowInsecureAuth: false })).toEqual({
      ok: false,
      code: 538,
      message: '5.7.11 Encryption required: issue STARTTLS before AUTH',
    });
  });

  it('MAIL FROM: the null sender or a valid address', () => {
    expect(decideMailFrom('')).toEqual({ ok: true });
    expect(decideMailFrom('a@example.com')).toEqual({ ok: true });
    expect(decideMailFrom('a@localhost')).toEqual({ ok: false, code: 501, message: '5.1.7 Bad sender address syntax' });
  });

  it('RCPT: authentication first, then syntax, then the recipient limit', () => {
    const rcpt = (over: Partial<Parameters<typeof decideRcpt>[0]>) =>
      decideRcpt({ principal: auth, address: 'r@example.net', recipientCount: 0, alreadyListed: false, ...over });
    expect(rcpt({})).toEqual({ ok: true });
    expect(rcpt({ principal: { serverId: 10002, via: 'trusted' } })).toEqual({ ok: true });
    expect(rcpt({ principal: null })).toEqual({ ok: false, code: 530, message: '5.7.0 Authentication required' });
    expect(rcpt({ principal: null, address: 'bad' })).toMatchObject({ code: 530 }); // strangers learn nothing more
    expect(rcpt({ address: 'bad@' })).toEqual({ ok: false, code: 501, message: '5.1.3 Bad recipient address syntax' });
    expect(rcpt({ recipientCount: MAX_RECIPIENTS_PER_MESSAGE - 1 })).toEqual({ ok: true });
    expect(rcpt({ recipientCount: MAX_RECIPIENTS_PER_MESSAGE })).toEqual({
      ok: false,
      code: 452,
      message: '4.5.3 Too many recipients (at most 10000 per message)',
    });
    expect(rcpt({ recipientCount: MAX_RECIPIENTS_PER_MESSAGE, alreadyListed: true })).toEqual({ ok: true });
  });

  it('message size', () => {
    expect(decideMessageSize({ receivedBytes: 2048, limit: 2048 })).toEqual({ ok: true });
    expect(decideMessageSize({ receivedBytes: 2049, limit: 2048 })).toEqual({
      ok: false,
      code: 552,
      message: '5.3.4 Message size exceeds fixed maximum message size (2048 bytes)',
    });
  });

  it('AUTH username is a ServerId of digits only', () => {
    expect(parseServerIdUsername('10001')).toBe(10001);
    expect(parseServerIdUsername(' 10001')).toBeNull();
    expect(parseServerIdUsername('10001x')).toBeNull();
    expect(parseServerIdUsername('0')).toBeNull();
    expect(parseServerIdUsername('')).toBeNull();
    expect(parseServerIdUsername(undefined)).toBeNull();
  });
});
