import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LookupAddress } from 'node:dns';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUrlGuard, parseWebhookUrl, MAX_WEBHOOK_URL_LENGTH } from '../../src/net/url-guard.js';

/** A resolver with fixed answers (DNS is the one thing tests fake). */
function fixedDns(answers: Record<string, string[]>) {
  return async (host: string): Promise<LookupAddress[]> => {
    const a = answers[host];
    if (!a) throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' });
    return a.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
}

describe('parseWebhookUrl', () => {
  it('accepts http and https URLs with a host; IPv6 brackets are removed from host', () => {
    expect(parseWebhookUrl('https://hooks.example.com/postline?x=1')).toMatchObject({ ok: true, host: 'hooks.example.com' });
    expect(parseWebhookUrl('http://[2606:4700:4700::1111]:8080/')).toMatchObject({ ok: true, host: '2606:4700:4700::1111' });
  });

  it.each([
    ['ftp://example.com/', 'must use http or https, not ftp'],
    ['file:///etc/passwd', 'must use http or https, not file'],
    ['javascript:alert(1)', 'must use http or https, not javascript'],
    ['gopher://example.com:25/', 'must use http or https, not gopher'],
    ['https://user:secret@example.com/', 'must not contain a user name or password'],
    ['https://user@example.com/', 'must not contain a user name or password'],
    ['http://', 'not a valid absolute URL'],
    ['/relative/path', 'not a valid absolute URL'],
    ['not a url', 'not a valid absolute URL'],
    [`https://example.com/${'a'.repeat(MAX_WEBHOOK_URL_LENGTH)}`, `longer than ${MAX_WEBHOOK_URL_LENGTH}`],
  ])('refuses %s', (url, message) => {
    const r = parseWebhookUrl(url);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toContain(message);
  });
});

describe('refusal: literal addresses of every class', () => {
  const guard = createUrlGuard();

  it.each([
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['10.1.2.3', 'private (RFC 1918)'],
    ['172.16.0.1', 'private (RFC 1918)'],
    ['172.31.255.255', 'private (RFC 1918)'],
    ['192.168.1.1', 'private (RFC 1918)'],
    ['100.64.0.1', 'carrier-grade NAT'],
    ['100.127.255.255', 'carrier-grade NAT'],
    ['169.254.169.254', 'link-local'],
    ['0.0.0.0', 'the unspecified address'],
    ['0.1.2.3', '"this network"'],
    ['255.255.255.255', 'the broadcast address'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved (240.0.0.0/4)'],
    ['192.0.2.5', 'documentation'],
    ['198.18.0.1', 'benchmarking'],
    ['::1', 'loopback'],
    ['::', 'the unspecified address'],
    ['fe80::1', 'link-local (fe80::/10)'],
    ['febf:ffff::1', 'link-local (fe80::/10)'],
    ['fe80::1%eth0', 'link-local (fe80::/10)'],
    ['fc00::1', 'unique-local (fc00::/7)'],
    ['fd12:3456:789a::1', 'unique-local (fc00::/7)'],
    ['fec0::1', 'site-local'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'documentation'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'Teredo'],
    ['100::1', 'discard-only'],
  ])('%s is refused: %s', (address, why) => {
    const refusal = guard.refusal(address);
    expect(refusal?.startsWith(`${address} is `)).toBe(true);
    expect(refusal).toContain(why);
  });

  it.each([
    ['::ffff:127.0.0.1', 'the IPv4-mapped form of 127.0.0.1, which is loopback'],
    ['::ffff:7f00:1', 'the IPv4-mapped form of 127.0.0.1, which is loopback'],
    ['0:0:0:0:0:ffff:a00:1', 'the IPv4-mapped form of 10.0.0.1, which is private (RFC 1918)'],
    ['::ffff:169.254.169.254', 'the IPv4-mapped form of 169.254.169.254, which is link-local (169.254.0.0/16, where cloud metadata services live)'],
    ['::ffff:0.0.0.0', 'the IPv4-mapped form of 0.0.0.0, which is the unspecified address'],
    ['::127.0.0.1', 'the IPv4-compatible form of 127.0.0.1, which is loopback'],
    ['::c0a8:101', 'the IPv4-compatible form of 192.168.1.1, which is private (RFC 1918)'],
    ['64:ff9b::10.0.0.1', 'the NAT64 form of 10.0.0.1, which is private (RFC 1918)'],
    ['2002:7f00:1::1', 'the 6to4 form of 127.0.0.1, which is loopback'],
    ['2002:a9fe:a9fe::', 'the 6to4 form of 169.254.169.254, which is link-local (169.254.0.0/16, where cloud metadata services live)'],
  ])('%s is judged by the IPv4 address it embeds', (address, why) => {
    expect(guard.refusal(address)).toBe(`${address} is ${why}`);
  });

  it.each([
    '8.8.8.8',
    '1.1.1.1',
    '172.32.0.1',
    '100.128.0.1',
    '169.255.0.1',
    '11.0.0.1',
    '2606:4700:4700::1111',
    '2001:4860:4860::8888',
    '::ffff:8.8.8.8',
    '64:ff9b::808:808',
    '2002:808:808::1',
  ])('%s (public) is allowed', (address) => {
    expect(guard.refusal(address)).toBeNull();
  });

  it('a host name is not an address', () => {
    expect(guard.refusal('example.com')).toBe('example.com is not an IP address');
  });
});

describe('allow options', () => {
  it('allowCidrs permits exactly the listed ranges, in their IPv6 forms too', () => {
    const guard = createUrlGuard({ allowCidrs: ['127.0.0.0/8', 'fd00::/8', '10.9.8.7'] });
    expect(guard.refusal('127.0.0.1')).toBeNull();
    expect(guard.refusal('127.3.2.1')).toBeNull();
    expect(guard.refusal('::ffff:127.0.0.1')).toBeNull();
    expect(guard.refusal('fd00::2')).toBeNull();
    expect(guard.refusal('10.9.8.7')).toBeNull();
    expect(guard.refusal('10.9.8.6')).toContain('private');
    expect(guard.refusal('::1')).toContain('loopback');
    expect(guard.refusal('169.254.169.254')).toContain('link-local');
  });

  it('allowPrivate permits every address', () => {
    const guard = createUrlGuard({ allowPrivate: true });
    for (const a of ['127.0.0.1', '::1', '169.254.169.254', '10.0.0.1', '::ffff:127.0.0.1']) expect(guard.refusal(a)).toBeNull();
  });

  it.each(['127.0.0.0/33', '::1/129', 'localhost', '1.2.3.4/8/9', '10.0.0.0/x', '10.0.0.0/'])('refuses a bad allow-list entry %s', (cidr) => {
    expect(() => createUrlGuard({ allowCidrs: [cidr] })).toThrow(/allow-list entry/);
  });
});

describe('check: syntax, then every resolved address', () => {
  it('refuses localhost (real lookup) and names the address and why', async () => {
    const r = await createUrlGuard().check('http://localhost:8080/hook');
    expect(r.ok).toBe(false);
    expect(!r.ok && r.error).toMatch(/^webhook host localhost resolves to a refused address: (127\.0\.0\.1|::1) is loopback$/);
  });

  it('permits localhost (real lookup) when allowed', async () => {
    const r = await createUrlGuard({ allowCidrs: ['127.0.0.0/8', '::1/128'] }).check('http://localhost:8080/hook');
    expect(r).toMatchObject({ ok: true });
    expect(r.ok && r.addresses.length).toBeGreaterThan(0);
  });

  it.each([
    ['http://127.0.0.1/', '127.0.0.1 is loopback'],
    ['http://2130706433/', '127.0.0.1 is loopback'],
    ['http://0x7f.1/', '127.0.0.1 is loopback'],
    ['http://[::1]:9000/', '::1 is loopback'],
    ['http://[::ffff:127.0.0.1]/', '::ffff:7f00:1 is the IPv4-mapped form of 127.0.0.1, which is loopback'],
    ['http://169.254.169.254/latest/meta-data/', '169.254.169.254 is link-local'],
  ])('refuses the literal in %s', async (url, why) => {
    const r = await createUrlGuard().check(url);
    expect(!r.ok && r.error).toContain(`webhook URL address refused: ${why}`);
  });

  it('refuses a name if any of its addresses is refused', async () => {
    const guard = createUrlGuard({ resolve: fixedDns({ 'mixed.test': ['93.184.215.14', '10.0.0.5'] }) });
    const r = await guard.check('https://mixed.test/x');
    expect(r).toEqual({ ok: false, error: 'webhook host mixed.test resolves to a refused address: 10.0.0.5 is private (RFC 1918)' });
  });

  it('permits a name whose addresses are all public, and reports them', async () => {
    const guard = createUrlGuard({ resolve: fixedDns({ 'hooks.test': ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] }) });
    const r = await guard.check('https://hooks.test/x');
    expect(r).toMatchObject({ ok: true, addresses: ['93.184.215.14', '2606:2800:21f:cb07:6820:80da:af6b:8b2c'] });
  });

  it('reports a name that does not resolve, or resolves to nothing', async () => {
    const guard = createUrlGuard({ resolve: fixedDns({ 'empty.test': [] }) });
    expect(await guard.check('https://nowhere.test/')).toEqual({ ok: false, error: 'webhook host nowhere.test could not be resolved: ENOTFOUND' });
    expect(await guard.check('https://empty.test/')).toEqual({ ok: false, error: 'webhook host empty.test has no addresses' });
  });

  it('reports syntax errors before resolving', async () => {
    expect(await createUrlGuard().check('ftp://localhost/')).toMatchObject({ ok: false, error: expect.stringContaining('http or https') });
  });
});

describe('lookup: the same check when connecting (DNS rebinding)', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = http.createServer((_req, res) => res.end('ok'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  const get = (guard: ReturnType<typeof createUrlGuard>, host: string) =>
    new Promise<string>((resolve) => {
      http
        .get({ host, port, path: '/', lookup: guard.lookup, agent: false }, (res) => {
          res.resume();
          res.on('end', () => resolve(`status ${res.statusCode}`));
        })
        .on('error', (err: NodeJS.ErrnoException) => resolve(`${err.code}: ${err.message}`));
    });

  it('a name that passed the check and now resolves to loopback fails the connection', async () => {
    let calls = 0;
    const guard = createUrlGuard({
      resolve: async () => [{ address: ++calls === 1 ? '93.184.215.14' : '127.0.0.1', family: 4 }],
    });
    expect(await guard.check(`http://rebind.test:${port}/`)).toMatchObject({ ok: true });
    expect(await get(guard, 'rebind.test')).toBe('EWEBHOOKADDRESS: webhook host rebind.test resolves to a refused address: 127.0.0.1 is loopback');
  });

  it('with the system resolver: localhost refused, then reached when 127.0.0.0/8 is allowed', async () => {
    expect(await get(createUrlGuard(), 'localhost')).toMatch(/^EWEBHOOKADDRESS: .*is loopback$/);
    expect(await get(createUrlGuard({ allowCidrs: ['127.0.0.0/8', '::1'] }), 'localhost')).toBe('status 200');
  });

  it('answers both calling conventions (one address, or all of them)', async () => {
    const guard = createUrlGuard({ resolve: fixedDns({ 'two.test': ['93.184.215.14', '2606:4700:4700::1111'] }) });
    const one = await new Promise<unknown[]>((r) => guard.lookup('two.test', {}, (...args) => r(args)));
    expect(one).toEqual([null, '93.184.215.14', 4]);
    const all = await new Promise<unknown[]>((r) => guard.lookup('two.test', { all: true }, (...args) => r(args)));
    expect(all).toEqual([
      null,
      [
        { address: '93.184.215.14', family: 4 },
        { address: '2606:4700:4700::1111', family: 6 },
      ],
    ]);
    const missing = await new Promise<unknown[]>((r) => guard.lookup('gone.test', { all: true }, (...args) => r(args)));
    expect((missing[0] as NodeJS.ErrnoException).code).toBe('ENOTFOUND');
  });
});

describe('IPv6 forms that embed 169.254.169.254 (the metadata service), as URL literals and in DNS answers', () => {
  // Each form, how the URL parser writes it back, and the refusal it must get.
  const META = 'link-local (169.254.0.0/16, where cloud metadata services live)';
  const forms: [literal: string, normalized: string, why: string][] = [
    ['::ffff:169.254.169.254', '::ffff:a9fe:a9fe', `the IPv4-mapped form of 169.254.169.254, which is ${META}`],
    ['::ffff:0:a9fe:a9fe', '::ffff:0:a9fe:a9fe', `the IPv4-translated form of 169.254.169.254, which is ${META}`],
    ['::ffff:0:169.254.169.254', '::ffff:0:a9fe:a9fe', `the IPv4-translated form of 169.254.169.254, which is ${META}`],
    ['::169.254.169.254', '::a9fe:a9fe', `the IPv4-compatible form of 169.254.169.254, which is ${META}`],
    ['64:ff9b::169.254.169.254', '64:ff9b::a9fe:a9fe', `the NAT64 form of 169.254.169.254, which is ${META}`],
    ['64:ff9b:1::a9fe:a9fe', '64:ff9b:1::a9fe:a9fe', 'local-use NAT64 (64:ff9b:1::/48)'],
    ['2002:a9fe:a9fe::1', '2002:a9fe:a9fe::1', `the 6to4 form of 169.254.169.254, which is ${META}`],
    // Teredo stores the client's address inverted (~169.254.169.254 = 86.1.86.1); the whole range is refused.
    ['2001:0:a9fe:a9fe::5601:5601', '2001:0:a9fe:a9fe::5601:5601', 'a Teredo tunnel (2001::/32)'],
  ];

  it.each(forms)('refusal(%s)', (literal, _normalized, why) => {
    expect(createUrlGuard().refusal(literal)).toBe(`${literal} is ${why}`);
  });

  it.each(forms)('check(http://[%s]/) refuses the literal', async (literal, normalized, why) => {
    expect(await createUrlGuard().check(`http://[${literal}]/latest/meta-data/`)).toEqual({
      ok: false,
      error: `webhook URL address refused: ${normalized} is ${why}`,
    });
  });

  it.each(forms)('a name resolving to %s is refused when saved and when connecting', async (literal, _normalized, why) => {
    const guard = createUrlGuard({ resolve: fixedDns({ 'meta.test': [literal] }) });
    const error = `webhook host meta.test resolves to a refused address: ${literal} is ${why}`;
    expect(await guard.check('https://meta.test/hook')).toEqual({ ok: false, error });
    const args = await new Promise<unknown[]>((r) => guard.lookup('meta.test', { all: true }, (...a) => r(a)));
    expect((args[0] as NodeJS.ErrnoException).code).toBe('EWEBHOOKADDRESS');
    expect((args[0] as Error).message).toBe(error);
  });

  it('the same forms of a public address are allowed, except the ranges refused whole', () => {
    const guard = createUrlGuard();
    for (const a of ['::ffff:0:808:808', '::808:808', '64:ff9b::808:808', '2002:808:808::1']) expect(guard.refusal(a)).toBeNull();
    expect(guard.refusal('64:ff9b:1::808:808')).toContain('local-use NAT64');
    expect(guard.refusal('2001:0:808:808::f7f7:f7f7')).toContain('Teredo');
  });

  it('allowCidrs for the IPv4 range also allows its IPv4-translated form', () => {
    const guard = createUrlGuard({ allowCidrs: ['10.0.0.0/8'] });
    expect(guard.refusal('::ffff:0:a00:1')).toBeNull();
    expect(guard.refusal('::ffff:0:b00:1')).toBeNull(); // 11.0.0.1: public anyway
    expect(guard.refusal('::ffff:0:7f00:1')).toBe('::ffff:0:7f00:1 is the IPv4-translated form of 127.0.0.1, which is loopback');
  });
});
