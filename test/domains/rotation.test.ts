import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { dnsLookup } from '../../src/dns/lookup.js';
import { DKIM_ROTATION_OVERLAP_MS, keysToPublish, rotationChanges } from '../../src/domains/rotation.js';
import type { ServerDkimKey } from '../../src/store/store.js';
import type { RecordCheck } from '../../src/core/sending-domain-types.js';
import { publish, type WireRecord } from './publish.js';

interface Key {
  selector: string;
  algorithm: string;
  state: string;
  activatedOn: string | null;
  retiresOn: string | null;
}
interface Domain {
  id: number;
  verified: boolean;
  keys: Key[];
}

/** DKIM rotation with two selectors overlapping, through the worker to an SMTP sink, verified by mailauth against live DNS. */
describe(`DKIM rotation (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let sink: SmtpSink;
  let s: { id: number; injection: string; management: string };
  let base: string;
  const D = 'rotating.example';

  const records = async () => (await v2<{ data: { records: WireRecord[] } }>(t, 'GET', `${base}/dns-records`, { key: s.management })).body.data.records;
  const verify = async () => (await v2<{ data: Domain }>(t, 'POST', `${base}/verify`, { key: s.management })).body.data;
  /** Sends one message through the worker and answers the selectors that signed it, with mailauth's verdicts. */
  const sendAndCheck = async (subject: string) => {
    const r = await inject(t, {
      serverId: s.id,
      apiKey: s.injection,
      messages: [{ to: [{ emailAddress: 'reader@dest.test' }], from: { emailAddress: `news@${D}` }, subject, textBody: 'x' }],
    });
    expect(r.body.ErrorCode).toBe('Success');
    const until = Date.now() + 20_000;
    const find = () => sink.messages.find((m) => m.data.toString().includes(`Subject: ${subject}`));
    while (!find() && Date.now() < until) await new Promise((res) => setTimeout(res, 50));
    const got = find()!;
    expect(got).toBeTruthy();
    const res = await dkimVerify(got.data, { resolver: dnsLookup([dns.address]).resolve as (name: string, rrtype: string) => Promise<string[][]> });
    return res.results.map((x) => [x.selector, x.status.result]);
  };

  beforeAll(async () => {
    dns = await startDnsServer();
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { dnsServers: [dns.address], outboundPort: sink.port },
      dns: fakeDns({ 'dest.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
    });
    const server = await t.store.tenancy.createServer(
      { accountId: (await t.store.tenancy.listAccounts())[0]!.id, name: 'Rotating', requireVerifiedDomain: true },
      Date.now(),
    );
    s = {
      id: server.id,
      injection: (await createKey(t.store, server.id, 'injection')).key,
      management: (await createKey(t.store, server.id, 'management')).key,
    };
    const d = (await v2<{ data: Domain }>(t, 'POST', `/servers/${s.id}/sending-domains`, { key: s.management, body: { domain: D, selector: 'old' } })).body
      .data;
    base = `/servers/${s.id}/sending-domains/${d.id}`;
    publish(dns, await records());
    expect((await verify()).verified).toBe(true);
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
    await dns.close();
  });

  it('signs with the current key until a verify sees the new one, then with the new one while the old stays published', async () => {
    expect(await sendAndCheck('before rotation')).toEqual([['old', 'pass']]);

    const rotated = (await v2<{ data: Domain }>(t, 'POST', `${base}/dkim/rotate`, { key: s.management, body: { selector: 'new' } })).body.data;
    expect(rotated.keys.map((k) => [k.selector, k.state])).toEqual([
      ['old', 'active'],
      ['new', 'pending'],
    ]);
    const both = await records();
    expect(both.filter((r) => r.name.includes('._domainkey.')).map((r) => [r.name, r.required])).toEqual([
      [`old._domainkey.${D}`, true],
      [`new._domainkey.${D}`, false],
    ]);
    // Not published yet: a verify leaves the new key pending and the signer on the old one.
    const early = await verify();
    expect(early.keys.map((k) => [k.selector, k.state])).toEqual([
      ['old', 'active'],
      ['new', 'pending'],
    ]);
    expect(early.verified).toBe(true);
    expect(await sendAndCheck('during rotation')).toEqual([['old', 'pass']]);

    publish(dns, both);
    const after = await verify();
    expect(after.keys.map((k) => [k.selector, k.state])).toEqual([
      ['old', 'retiring'],
      ['new', 'active'],
    ]);
    const old = after.keys[0]!;
    expect(Date.parse(old.retiresOn!) - Date.parse(after.keys[1]!.activatedOn!)).toBe(DKIM_ROTATION_OVERLAP_MS);
    expect(await sendAndCheck('after rotation')).toEqual([['new', 'pass']]);
    // The retiring key is still published and still verifies mail it signed.
    expect((await records()).filter((r) => r.name.includes('._domainkey.')).map((r) => [r.name, r.required])).toEqual([
      [`old._domainkey.${D}`, false],
      [`new._domainkey.${D}`, true],
    ]);
    const get = (await v2<{ data: Domain }>(t, 'GET', base, { key: s.management })).body.data;
    expect(get.keys.map((k) => [k.selector, k.state])).toEqual([
      ['old', 'retiring'],
      ['new', 'active'],
    ]);
  });

  it('a retiring key is retired after the overlap and leaves the records', () => {
    const key = (id: number, selector: string, state: ServerDkimKey['state'], retireAfter: number | null): ServerDkimKey => ({
      id,
      serverId: 1,
      domain: D,
      selector,
      algorithm: 'rsa-sha256',
      privateKey: '',
      publicKey: 'AA',
      createdAt: 0,
      retiredAt: null,
      state,
      activatedAt: 0,
      retireAfter,
    });
    const keys = [key(1, 'old', 'retiring', 1_000 + DKIM_ROTATION_OVERLAP_MS), key(2, 'new', 'active', null)];
    expect(keysToPublish(keys, 1_000 + DKIM_ROTATION_OVERLAP_MS - 1).map((k) => k.selector)).toEqual(['old', 'new']);
    expect(keysToPublish(keys, 1_000 + DKIM_ROTATION_OVERLAP_MS).map((k) => k.selector)).toEqual(['new']);
    expect(rotationChanges(keys, [] as RecordCheck[], 1_000 + DKIM_ROTATION_OVERLAP_MS)).toEqual([{ id: 1, state: 'retired' }]);
    expect(rotationChanges(keys, [] as RecordCheck[], 1_000)).toEqual([]);
  });
});
