import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import type { Store } from '../../src/store/store.js';
import type { TlsResultCount } from '../../src/store/tls-reports.js';
import { conflictsRetried } from '../../src/store/conflict-retry.js';

const sts = { policyType: 'sts', policyString: ['version: STSv1', 'mode: enforce', 'mx: *.example.test', 'max_age: 86400'], mxHost: ['*.example.test'] };
const tlsa = { policyType: 'tlsa', policyString: ['3 1 1 0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef'], mxHost: [] };
const count = (over: Partial<TlsResultCount>): TlsResultCount => ({
  day: '2030-05-01',
  policyDomain: 'example.test',
  ...sts,
  resultType: 'success',
  receivingMxHostname: null,
  receivingIp: null,
  sendingMtaIp: null,
  detail: null,
  sessions: 1,
  ...over,
});

/** The tlsReports area (migration 28): the same assertions on SQLite and PostgreSQL. */
describe(`TLS-RPT counts and report sends in the store (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  const now = Date.parse('2030-05-03T01:00:00Z');

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it('adds counts (count += n) per policy and result key; hosts may be absent; the latest detail is kept', async () => {
    const expired = { resultType: 'certificate-expired', receivingMxHostname: 'mx1.example.test', receivingIp: '192.0.2.10', sendingMtaIp: '198.51.100.1' };
    await store.tlsReports.addCounts([
      count({ sessions: 5 }),
      count({ ...expired, sessions: 2, detail: 'X509_V_ERR_CERT_HAS_EXPIRED' }),
      count({ resultType: 'sts-policy-fetch-error', sessions: 1, detail: 'HTTP 404' }),
      count({ ...tlsa, sessions: 3 }),
      // The same key twice in one batch is summed.
      count({ ...tlsa, sessions: 1 }),
    ]);
    await store.tlsReports.addCounts([
      count({ sessions: 4 }),
      count({ ...expired, sessions: 1, detail: null }),
      count({ ...expired, sendingMtaIp: '198.51.100.2' }),
    ]);
    await store.tlsReports.addCounts([]);

    const policies = await store.tlsReports.policiesOf('2030-05-01', 'example.test');
    expect(policies).toHaveLength(2);
    const stsDay = policies.find((p) => p.policyType === 'sts')!;
    expect(stsDay.policyString).toEqual(sts.policyString);
    expect(stsDay.mxHost).toEqual(['*.example.test']);
    expect(stsDay.results).toEqual([
      {
        resultType: 'certificate-expired',
        receivingMxHostname: 'mx1.example.test',
        receivingIp: '192.0.2.10',
        sendingMtaIp: '198.51.100.1',
        detail: 'X509_V_ERR_CERT_HAS_EXPIRED',
        sessions: 3,
      },
      {
        resultType: 'certificate-expired',
        receivingMxHostname: 'mx1.example.test',
        receivingIp: '192.0.2.10',
        sendingMtaIp: '198.51.100.2',
        detail: null,
        sessions: 1,
      },
      { resultType: 'sts-policy-fetch-error', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: 'HTTP 404', sessions: 1 },
      { resultType: 'success', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: null, sessions: 9 },
    ]);
    expect(policies.find((p) => p.policyType === 'tlsa')).toEqual({ ...tlsa, results: [expect.objectContaining({ resultType: 'success', sessions: 4 })] });
    expect(await store.tlsReports.policiesOf('2030-05-02', 'example.test')).toEqual([]);
  });

  it('adds concurrent batches over the same keys without losing a count (rows locked in one order)', async () => {
    const day = '2030-05-02';
    const batch = (i: number) => [
      count({ day, policyDomain: 'busy.test', sessions: 1 }),
      count({ day, policyDomain: 'busy.test', resultType: 'starttls-not-supported', receivingMxHostname: `mx${i % 3}.busy.test`, sessions: 2 }),
      count({ day, policyDomain: 'other.test', sessions: 1 }),
    ];
    // Reversed order in half the batches: the repository sorts before it writes, so none deadlocks.
    const retriedBefore = conflictsRetried();
    await Promise.all(Array.from({ length: 12 }, (_, i) => store.tlsReports.addCounts(i % 2 ? batch(i).reverse() : batch(i))));
    const busy = await store.tlsReports.policiesOf(day, 'busy.test');
    expect(busy[0]!.results.map((r) => [r.resultType, r.receivingMxHostname, r.sessions])).toEqual([
      ['starttls-not-supported', 'mx0.busy.test', 8],
      ['starttls-not-supported', 'mx1.busy.test', 8],
      ['starttls-not-supported', 'mx2.busy.test', 8],
      ['success', null, 12],
    ]);
    expect((await store.tlsReports.policiesOf(day, 'other.test'))[0]!.results[0]!.sessions).toBe(12);
    expect(conflictsRetried() - retriedBefore).toBe(0);
  });

  it('lists the reports due: ended days only, oldest first, not those claimed, sent or waiting for a retry', async () => {
    await store.tlsReports.addCounts([count({ day: '2030-05-03', policyDomain: 'today.test' }), count({ day: '2030-04-01', policyDomain: 'old.test' })]);
    const due = await store.tlsReports.dueReports({ from: '2030-04-20', before: '2030-05-03', now, limit: 100 });
    expect(due).toEqual([
      { day: '2030-05-01', policyDomain: 'example.test' },
      { day: '2030-05-02', policyDomain: 'busy.test' },
      { day: '2030-05-02', policyDomain: 'other.test' },
    ]);
    expect(await store.tlsReports.dueReports({ from: '2030-04-20', before: '2030-05-03', now, limit: 1 })).toHaveLength(1);

    const claim = await store.tlsReports.claim('2030-05-02', 'busy.test', { owner: 'p1', reportId: 'r1@mta.test', now, leaseUntil: now + 60_000 });
    expect(claim).toMatchObject({
      day: '2030-05-02',
      policyDomain: 'busy.test',
      reportId: 'r1@mta.test',
      state: 'sending',
      attempts: 1,
      claimedBy: 'p1',
      outcomes: [],
    });
    expect(await store.tlsReports.finish('2030-05-02', 'other.test', 'p1', { state: 'sent', outcomes: [], nextAttemptAt: now }, now)).toBe(false);
    await store.tlsReports.claim('2030-05-02', 'other.test', { owner: 'p1', reportId: 'r2@mta.test', now, leaseUntil: now + 60_000 });
    expect(await store.tlsReports.finish('2030-05-02', 'other.test', 'p1', { state: 'sent', outcomes: [], nextAttemptAt: now }, now)).toBe(true);
    expect(await store.tlsReports.getSend('2030-05-02', 'other.test')).toMatchObject({ state: 'sent', sentAt: now, claimedBy: null, claimedUntil: null });

    expect(await store.tlsReports.dueReports({ from: '2030-04-20', before: '2030-05-03', now, limit: 100 })).toEqual([
      { day: '2030-05-01', policyDomain: 'example.test' },
    ]);
    // The claim's lease runs out: due again.
    expect(await store.tlsReports.dueReports({ from: '2030-04-20', before: '2030-05-03', now: now + 60_000, limit: 100 })).toContainEqual({
      day: '2030-05-02',
      policyDomain: 'busy.test',
    });
  });

  it('claims a report once: a held claim, a finished report and a retry not yet due are not claimed again', async () => {
    const day = '2030-05-01';
    const c = { reportId: 'first@mta.test', now, leaseUntil: now + 60_000 };
    const claims = await Promise.all(['a', 'b', 'c', 'd', 'e'].map((owner) => store.tlsReports.claim(day, 'example.test', { ...c, owner })));
    expect(claims.filter(Boolean)).toHaveLength(1);
    const owner = claims.find(Boolean)!.claimedBy!;

    const outcomes = [{ rua: 'mailto:a@b.test', ok: true, detail: '250 ok', at: now }];
    expect(await store.tlsReports.finish(day, 'example.test', 'someone-else', { state: 'sent', outcomes, nextAttemptAt: now }, now)).toBe(false);
    expect(await store.tlsReports.finish(day, 'example.test', owner, { state: 'retry', outcomes, nextAttemptAt: now + 600_000 }, now)).toBe(true);
    expect(await store.tlsReports.claim(day, 'example.test', { ...c, owner: 'x', now: now + 599_999 })).toBeUndefined();

    // Due: claimed again, the attempt counted, the first report id and outcomes kept.
    const again = await store.tlsReports.claim(day, 'example.test', { owner: 'y', reportId: 'second@mta.test', now: now + 600_000, leaseUntil: now + 660_000 });
    expect(again).toMatchObject({ reportId: 'first@mta.test', attempts: 2, claimedBy: 'y', state: 'sending', outcomes });
    // y died mid-send: once its lease is over, z takes the report over and y's late finish is refused.
    expect(
      await store.tlsReports.claim(day, 'example.test', { owner: 'z', reportId: 'z@mta.test', now: now + 659_999, leaseUntil: now + 720_000 }),
    ).toBeUndefined();
    expect(
      await store.tlsReports.claim(day, 'example.test', { owner: 'z', reportId: 'z@mta.test', now: now + 660_000, leaseUntil: now + 720_000 }),
    ).toMatchObject({
      attempts: 3,
      claimedBy: 'z',
    });
    expect(await store.tlsReports.finish(day, 'example.test', 'y', { state: 'sent', outcomes, nextAttemptAt: now }, now)).toBe(false);
    expect(await store.tlsReports.finish(day, 'example.test', 'z', { state: 'gave-up', outcomes, nextAttemptAt: now }, now)).toBe(true);
    for (const later of [now + 1, now + 10 * 86_400_000]) {
      expect(await store.tlsReports.claim(day, 'example.test', { ...c, owner: 'late', now: later, leaseUntil: later + 1 })).toBeUndefined();
    }
    expect(await store.tlsReports.getSend(day, 'example.test')).toMatchObject({ state: 'gave-up', attempts: 3, sentAt: null });
    expect(await store.tlsReports.getSend(day, 'nowhere.test')).toBeUndefined();
  });

  it('removes the counts and send records of days before a day', async () => {
    expect(await store.tlsReports.deleteBefore('2030-05-02')).toBe(3); // old.test, and example.test's two policies
    expect(await store.tlsReports.policiesOf('2030-05-01', 'example.test')).toEqual([]);
    expect(await store.tlsReports.getSend('2030-05-01', 'example.test')).toBeUndefined();
    expect(await store.tlsReports.getSend('2030-05-02', 'other.test')).toMatchObject({ state: 'sent' });
    expect(await store.tlsReports.policiesOf('2030-05-02', 'busy.test')).toHaveLength(1);
    expect(await store.tlsReports.deleteBefore('2030-05-02')).toBe(0);
  });
});
