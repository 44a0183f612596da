import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { dnsLookup } from '../../src/dns/lookup.js';
import { checkRecords, decideVerifiedAt } from '../../src/domains/verify.js';
import { expectedRecords, RETURN_PATH_LABEL } from '../../src/domains/records.js';
import type { RecordCheck } from '../../src/core/sending-domain-types.js';
import { publish, type WireRecord } from './publish.js';

interface Domain {
  id: number;
  domain: string;
  verified: boolean;
  verifiedOn: string | null;
  lastCheck: RecordCheck[] | null;
}

describe(`sending-domain verification against live DNS (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let serverId: number;
  let key: string;
  let records: WireRecord[];
  let domainId: number;
  const D = 'verify.example';
  const base = () => `/servers/${serverId}/sending-domains`;
  const verify = async () => {
    const r = await v2<{ data: Domain } & V2Error>(t, 'POST', `${base()}/${domainId}/verify`, { key });
    expect(r.status).toBe(200);
    return r.body.data;
  };
  const statusOf = (d: Domain, name: string) => d.lastCheck!.find((c) => c.name === name)!;
  const republish = () => {
    for (const r of records) dns.remove(r.name);
    publish(dns, records);
  };

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await startTestApp({ config: { dnsServers: [dns.address], bounceDomain: 'bounces.postline.test' } });
    const account = (await t.store.tenancy.listAccounts())[0]!;
    serverId = (await t.store.tenancy.createServer({ accountId: account.id, name: 'Verified', requireVerifiedDomain: true }, Date.now())).id;
    key = (await createKey(t.store, serverId, 'management')).key;
    const created = await v2<{ data: Domain }>(t, 'POST', base(), { key, body: { domain: D, ed25519: true } });
    expect(created.status).toBe(200);
    domainId = created.body.data.id;
    records = (await v2<{ data: { records: WireRecord[] } }>(t, 'GET', `${base()}/${domainId}/dns-records`, { key })).body.data.records;
  });
  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  it('before anything is published every record is missing and the domain is not verified', async () => {
    const d = await verify();
    expect(d.verified).toBe(false);
    expect(d.lastCheck!.map((c) => c.status)).toEqual(records.map(() => 'missing'));
  });

  it('with the records published the domain verifies, record by record', async () => {
    republish();
    const d = await verify();
    expect(d.lastCheck!.map((c) => [c.name, c.status])).toEqual(records.map((r) => [r.name, 'verified']));
    expect(d.verified).toBe(true);
    expect(statusOf(d, `${RETURN_PATH_LABEL}.${D}`).found).toEqual(['bounces.postline.test']);
  });

  const cases: { what: string; name: string; entry: () => Parameters<TestDnsServer['set']>[1] | null; status: string; verified: boolean; reason?: RegExp }[] = [
    {
      what: 'a wrong DKIM p=',
      name: 'dkim',
      entry: () => ({ TXT: ['v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAwrong'] }),
      status: 'mismatch',
      verified: false,
      reason: /p=/,
    },
    {
      what: 'two SPF records',
      name: D,
      entry: () => ({ TXT: ['v=spf1 a:postline.test ~all', 'v=spf1 include:other.example ~all'] }),
      status: 'mismatch',
      verified: false,
      reason: /2 v=spf1 records/,
    },
    {
      what: 'an SPF record without our mechanism',
      name: D,
      entry: () => ({ TXT: ['v=spf1 include:other.example -all'] }),
      status: 'mismatch',
      verified: false,
      reason: /a:postline\.test/,
    },
    {
      what: 'a DMARC record without p=',
      name: `_dmarc.${D}`,
      entry: () => ({ TXT: ['v=DMARC1; rua=mailto:d@verify.example'] }),
      status: 'mismatch',
      verified: true,
      reason: /p=/,
    },
    {
      what: 'a return-path CNAME elsewhere',
      name: `${RETURN_PATH_LABEL}.${D}`,
      entry: () => ({ CNAME: 'bounces.elsewhere.example' }),
      status: 'mismatch',
      verified: true,
    },
    { what: 'a missing DKIM name', name: 'dkim', entry: () => null, status: 'missing', verified: false },
    {
      what: 'a missing SPF (the name has other TXT only)',
      name: D,
      entry: () => ({ TXT: ['google-site-verification=abc'] }),
      status: 'missing',
      verified: false,
    },
    { what: 'a missing DMARC name', name: `_dmarc.${D}`, entry: () => null, status: 'missing', verified: true },
  ];
  for (const c of cases) {
    it(`${c.what}: that record is ${c.status}, the domain ${c.verified ? 'stays' : 'is no longer'} verified`, async () => {
      republish();
      expect((await verify()).verified).toBe(true);
      const name = c.name === 'dkim' ? records.find((r) => r.name.includes('._domainkey.') && r.required)!.name : c.name;
      const entry = c.entry();
      if (entry) dns.set(name, entry);
      else dns.remove(name);
      const d = await verify();
      const check = statusOf(d, name);
      expect(check.status).toBe(c.status);
      if (c.reason) expect(check.reason).toMatch(c.reason);
      expect(d.verified).toBe(c.verified);
      // Every other record still verifies.
      expect(d.lastCheck!.filter((x) => x.name !== name).every((x) => x.status === 'verified')).toBe(true);
      // The stored result is what get answers.
      const got = await v2<{ data: Domain }>(t, 'GET', `${base()}/${domainId}`, { key });
      expect(got.body.data.lastCheck).toEqual(d.lastCheck);
      expect(got.body.data.verified).toBe(c.verified);
    });
  }

  it('TXT records split into several strings verify (resolvers join them)', async () => {
    republish();
    const dkim = records.find((r) => r.name.includes('._domainkey.') && r.value.includes('k=rsa'))!;
    expect(dkim.chunks!.length).toBeGreaterThan(1);
    const d = await verify();
    expect(statusOf(d, dkim.name).status).toBe('verified');
  });
});

describe('a DNS lookup that fails', () => {
  let silent: Socket;
  let address: string;
  beforeAll(async () => {
    // A DNS server that never answers: every lookup times out.
    silent = createSocket('udp4');
    silent.on('message', () => {
      /* no answer */
    });
    await new Promise<void>((r) => silent.bind(0, '127.0.0.1', r));
    address = `127.0.0.1:${silent.address().port}`;
  });
  afterAll(() => new Promise<void>((r) => silent.close(() => r())));

  it('is an error, and does not un-verify a verified domain (a definite missing does)', async () => {
    const s = { hostname: 'postline.test', bounceHost: 'postline.test' };
    const keys = [
      {
        id: 1,
        serverId: 1,
        domain: 'slow.example',
        selector: 'pl1',
        algorithm: 'rsa-sha256' as const,
        privateKey: '',
        publicKey: 'AAAA',
        createdAt: 0,
        retiredAt: null,
        state: 'active' as const,
        activatedAt: 0,
        retireAfter: null,
      },
    ];
    const checks = await checkRecords(dnsLookup([address], { timeoutMs: 200, tries: 1 }), expectedRecords('slow.example', keys, s), s);
    expect(checks.map((c) => c.status)).toEqual(['error', 'error', 'error', 'error']);
    expect(checks[0]!.reason).toMatch(/ETIMEOUT/);
    expect(decideVerifiedAt(1234, checks, 5000)).toBe(1234);
    expect(decideVerifiedAt(null, checks, 5000)).toBeNull();
    const missing = checks.map((c, i) => (i === 0 ? { ...c, status: 'missing' as const } : c));
    expect(decideVerifiedAt(1234, missing, 5000)).toBeNull();
  });
});
