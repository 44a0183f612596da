import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cachedResolve, dnsLookup, isNoRecord, txtTexts } from '../../src/dns/lookup.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

let dns: TestDnsServer;
beforeAll(async () => {
  dns = await startDnsServer({
    'example.test': { TXT: ['v=spf1 include:spf.postline.test -all', 'x'.repeat(300)], MX: [{ exchange: 'mx.example.test', priority: 10 }] },
    'pl.example.test': { CNAME: 'bounce.postline.test' },
  });
});
afterAll(() => dns.close());

describe('DNS lookups through a DNS server on loopback', () => {
  it('reads TXT records (long ones split into character-strings and joined again), CNAME and MX', async () => {
    const l = dnsLookup([dns.address], { timeoutMs: 1_000, tries: 1 });
    const txt = txtTexts(await l.resolveTxt('example.test'));
    expect(txt).toEqual(['v=spf1 include:spf.postline.test -all', 'x'.repeat(300)]);
    expect(await l.resolveCname('pl.example.test')).toEqual(['bounce.postline.test']);
    expect(await l.resolveMx('example.test')).toEqual([{ exchange: 'mx.example.test', priority: 10 }]);
    expect(await l.resolve('example.test', 'MX')).toEqual([{ exchange: 'mx.example.test', priority: 10 }]);
  });

  it('tells a missing name and a missing record type apart from a failure, and sees changes', async () => {
    const l = dnsLookup([dns.address], { timeoutMs: 1_000, tries: 1 });
    const gone = await l.resolveTxt('_dmarc.example.test').catch((e: unknown) => e);
    expect(isNoRecord(gone)).toBe(true);
    expect((gone as { code: string }).code).toBe('ENOTFOUND');
    const nodata = await l.resolveCname('example.test').catch((e: unknown) => e);
    expect((nodata as { code: string }).code).toBe('ENODATA');
    dns.set('_dmarc.example.test', { TXT: ['v=DMARC1; p=none'] });
    expect(txtTexts(await l.resolveTxt('_dmarc.example.test'))).toEqual(['v=DMARC1; p=none']);
    expect(dns.asked('TXT _dmarc.example.test')).toBe(2);
    expect(isNoRecord(Object.assign(new Error('t'), { code: 'ETIMEOUT' }))).toBe(false);
  });

  it('cachedResolve keeps answers and missing names for its lifetime, asks again after it, and never keeps a failed lookup', async () => {
    let clock = 1_000;
    const l = dnsLookup([dns.address], { timeoutMs: 1_000, tries: 1 });
    const resolve = cachedResolve(l.resolve, { ttlMs: 60_000, now: () => clock });
    dns.set('cached.example.test', { TXT: ['v=spf1 -all'] });
    expect(await resolve('cached.example.test', 'TXT')).toEqual([['v=spf1 -all']]);
    dns.set('cached.example.test', { TXT: ['v=spf1 ~all'] });
    expect(await resolve('Cached.Example.Test', 'TXT')).toEqual([['v=spf1 -all']]);
    expect(dns.asked('TXT cached.example.test')).toBe(1);
    await expect(resolve('nowhere.example.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    await expect(resolve('nowhere.example.test', 'TXT')).rejects.toMatchObject({ code: 'ENOTFOUND' });
    expect(dns.asked('TXT nowhere.example.test')).toBe(1);
    clock += 60_001;
    expect(await resolve('cached.example.test', 'TXT')).toEqual([['v=spf1 ~all']]);
    expect(dns.asked('TXT cached.example.test')).toBe(2);

    let calls = 0;
    const failing = cachedResolve(
      async () => {
        calls++;
        throw Object.assign(new Error('timeout'), { code: 'ETIMEOUT' });
      },
      { now: () => clock },
    );
    await expect(failing('slow.example.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    await expect(failing('slow.example.test', 'TXT')).rejects.toMatchObject({ code: 'ETIMEOUT' });
    expect(calls).toBe(2);
  });
});
