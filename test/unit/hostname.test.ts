import { describe, expect, it } from 'vitest';
import { checkHostname, notFqdnReason } from '../../src/config/hostname.js';
import { decideMxRcpt, mxAddressesOf } from '../../src/mx/recipient-policy.js';
import { loadConfig } from '../../src/config/load.js';

describe('notFqdnReason', () => {
  it.each([
    ['mta.example.com', null],
    ['MTA.Example.COM', null],
    ['a-b.example', null],
    ['xn--bcher-kva.example', null],
    ['', 'it is empty'],
    ['localhost', 'it is localhost'],
    ['LOCALHOST', 'it is localhost'],
    ['dev.localhost', 'it is localhost'],
    ['localhost.localdomain', 'it is localhost'],
    ['mybox', 'it has no dot'],
    ['192.0.2.1', 'it is an IP address'],
    ['[192.0.2.1]', 'it is an IP address'],
    ['2001:db8::1', 'it is an IP address'],
    ['mta.example.com.', 'it is not a valid domain name'],
    ['-mta.example.com', 'it is not a valid domain name'],
    ['mta_1.example.com', 'it is not a valid domain name'],
    ['10.0.0', 'its last label is numeric'],
  ])('%j -> %j', (name, reason) => {
    expect(notFqdnReason(name)).toBe(reason);
  });
});

describe('checkHostname (the start-up decision)', () => {
  const cfg = (o: Partial<Parameters<typeof checkHostname>[0]> = {}) => ({
    hostname: 'localhost',
    bounceDomain: null,
    mxPort: 2525,
    allowLocalHostname: false,
    ...o,
  });

  it('the untouched quick-start default warns and starts', () => {
    expect(checkHostname(cfg(), true)).toEqual({ warnings: [{ key: 'POSTLINE_HOSTNAME', value: 'localhost', reason: 'it is localhost' }], refusal: null });
  });
  it('a fully qualified name is silent', () => {
    expect(checkHostname(cfg({ hostname: 'mta.example.com', bounceDomain: 'bounces.example.com' }), true)).toEqual({ warnings: [], refusal: null });
  });
  it('refuses the smtp role on a typed bare name, an IP, a bare bounce domain, or localhost on port 25', () => {
    expect(checkHostname(cfg({ hostname: 'mybox' }), true).refusal).toMatchObject({ key: 'POSTLINE_HOSTNAME', value: 'mybox' });
    expect(checkHostname(cfg({ hostname: '203.0.113.5' }), true).refusal?.message).toMatch(
      /^not a fully qualified domain name \(it is an IP address\), which the MX listener/,
    );
    expect(checkHostname(cfg({ hostname: 'mta.example.com', bounceDomain: 'bounces' }), true).refusal).toMatchObject({
      key: 'POSTLINE_BOUNCE_DOMAIN',
      value: 'bounces',
    });
    const on25 = checkHostname(cfg({ mxPort: 25 }), true);
    expect(on25.refusal).toMatchObject({ key: 'POSTLINE_HOSTNAME', value: 'localhost' });
    expect(on25.refusal!.message).toContain('POSTLINE_ALLOW_LOCAL_HOSTNAME=true');
  });
  it('without the smtp role, or when allowed, it only warns', () => {
    expect(checkHostname(cfg({ hostname: 'mybox' }), false)).toEqual({
      warnings: [{ key: 'POSTLINE_HOSTNAME', value: 'mybox', reason: 'it has no dot' }],
      refusal: null,
    });
    expect(checkHostname(cfg({ hostname: 'mybox', mxPort: 25, allowLocalHostname: true }), true).refusal).toBeNull();
  });
  it('reads POSTLINE_ALLOW_LOCAL_HOSTNAME, off by default', () => {
    expect(loadConfig({}).allowLocalHostname).toBe(false);
    expect(loadConfig({ POSTLINE_ALLOW_LOCAL_HOSTNAME: 'true' }).allowLocalHostname).toBe(true);
  });
});

describe('the MX listener on a dotless bounce domain', () => {
  const base = { book: mxAddressesOf({ bounceDomain: null, hostname: 'localhost', complaintAddress: null }), recipientCount: 0, alreadyListed: false };
  it.each([
    ['b+01m7w2y7m07px5vpa00k793s0k@localhost', { ok: true }],
    ['b@LOCALHOST', { ok: true }],
    ['fbl@localhost', { ok: true }],
    ['postmaster@localhost', { ok: false, code: 501, message: '5.1.3 Bad recipient address syntax' }],
    ['b+01m7w2y7m07px5vpa00k793s0k@mybox', { ok: false, code: 501, message: '5.1.3 Bad recipient address syntax' }],
  ])('%s', (address, decision) => {
    expect(decideMxRcpt({ ...base, address })).toEqual(decision);
  });
});
