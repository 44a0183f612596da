import { createSocket, type Socket } from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { dnsLookup } from '../../src/dns/lookup.js';
import { checkRecords, verdictOf } from '../../src/custom-domains/records.js';
import { CustomDomains } from '../../src/custom-domains/service.js';
import type { Store } from '../../src/store/store.js';

const TARGETS = { bounce: 'bounces.postline.test', tracking: 'track.postline.test' };

/** A DNS server that reads every question and never answers. */
async function silentDnsServer(): Promise<{ address: string; close(): Promise<void> }> {
  const s: Socket = createSocket('udp4');
  s.on('message', () => {
    /* never answers */
  });
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', r));
  return { address: `127.0.0.1:${s.address().port}`, close: () => new Promise<void>((r) => s.close(() => r())) };
}

describe(`custom domain DNS checks against a DNS server on loopback (${TEST_STORE_KIND})`, () => {
  let dns: TestDnsServer;
  let silent: Awaited<ReturnType<typeof silentDnsServer>>;
  let db: TestDb;
  let store: Store;
  beforeAll(async () => {
    dns = await startDnsServer({
      'bounce.good.example': { CNAME: 'bounces.postline.test.' },
      'track.good.example': { CNAME: 'Track.Postline.Test' },
      'bounce.wrong.example': { CNAME: 'bounces.someone-else.example' },
      'bounce.a-record.example': { A: ['192.0.2.1'] },
    });
    silent = await silentDnsServer();
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await dns?.close();
    await silent?.close();
    await store?.close();
    await db?.drop();
  });
  const live = () => dnsLookup([dns.address], { timeoutMs: 2_000, tries: 1 });

  it('a CNAME to the target verifies (case and trailing dot do not matter)', async () => {
    const bounce = await checkRecords(live(), 'bounce', 'bounce.good.example', TARGETS);
    expect(bounce).toEqual([
      { type: 'CNAME', name: 'bounce.good.example', expected: 'bounces.postline.test', status: 'verified', found: ['bounces.postline.test'] },
    ]);
    const tracking = await checkRecords(live(), 'tracking', 'track.good.example', TARGETS);
    expect(tracking[0]).toMatchObject({ expected: 'track.postline.test', status: 'verified' });
    expect(verdictOf(bounce)).toBe(true);
  });

  it('a CNAME to another host is mismatch, with what was found', async () => {
    const r = await checkRecords(live(), 'bounce', 'bounce.wrong.example', TARGETS);
    expect(r[0]).toMatchObject({ status: 'mismatch', found: ['bounces.someone-else.example'] });
    expect(verdictOf(r)).toBe(false);
    // The bounce target of another kind is a mismatch too.
    expect((await checkRecords(live(), 'tracking', 'bounce.good.example', TARGETS))[0]!.status).toBe('mismatch');
  });

  it('no record (no such name, or a name without a CNAME) is missing', async () => {
    for (const name of ['nothing.example', 'bounce.a-record.example']) {
      const r = await checkRecords(live(), 'bounce', name, TARGETS);
      expect([name, r[0]!.status, r[0]!.found]).toEqual([name, 'missing', []]);
      expect(verdictOf(r)).toBe(false);
    }
  });

  it('a DNS server that never answers is error, not missing', async () => {
    const r = await checkRecords(dnsLookup([silent.address], { timeoutMs: 300, tries: 1 }), 'bounce', 'bounce.good.example', TARGETS);
    expect(r[0]).toMatchObject({ status: 'error', found: [], error: 'ETIMEOUT' });
    expect(verdictOf(r)).toBeNull();
  });

  it('a failed lookup does not un-verify a verified domain; a missing record does', async () => {
    const account = await store.tenancy.createAccount('A', Date.now());
    const server = await store.tenancy.createServer({ accountId: account.id, name: 'S' }, Date.now());
    const changed: number[] = [];
    const service = (lookup: ReturnType<typeof live>) =>
      new CustomDomains({
        store,
        dns: lookup,
        targets: TARGETS,
        now: Date.now,
        changed: async (id) => {
          changed.push(id);
        },
      });
    const d = await service(live()).add(server.id, 'bounce', { domain: 'bounce.good.example', isDefault: true, https: true });
    expect(d).toMatchObject({ isDefault: true });
    expect(d.verifiedAt).not.toBeNull();
    expect(changed).toEqual([server.id]);

    const afterTimeout = await service(dnsLookup([silent.address], { timeoutMs: 300, tries: 1 })).verify(server.id, 'bounce', d.id);
    expect(afterTimeout).toMatchObject({ verifiedAt: d.verifiedAt, isDefault: true, lastCheck: [{ status: 'error' }] });
    expect(await store.customDomains.listRouted('bounce')).toEqual([{ serverId: server.id, domain: 'bounce.good.example', isDefault: true }]);

    dns.remove('bounce.good.example');
    try {
      const afterRemoval = await service(live()).verify(server.id, 'bounce', d.id);
      expect(afterRemoval).toMatchObject({ verifiedAt: null, isDefault: false, lastCheck: [{ status: 'missing' }] });
      expect(await store.customDomains.listRouted('bounce')).toEqual([]);
      expect(changed).toEqual([server.id, server.id]);
    } finally {
      dns.set('bounce.good.example', { CNAME: 'bounces.postline.test.' });
    }
  });
});
