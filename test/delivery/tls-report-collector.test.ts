import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsReportCollector } from '../../src/delivery/tls-report/collector.js';
import type { TlsSessionResult } from '../../src/delivery/tls-report/session-result.js';
import type { Store } from '../../src/store/store.js';
import type { TlsResultCount } from '../../src/store/tls-reports.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { logSink } from '../helpers/tls-report.js';

const sts = {
  policyType: 'sts' as const,
  policyString: ['version: STSv1', 'mode: enforce', 'mx: mx1.example.test', 'max_age: 604800'],
  mxHost: ['mx1.example.test'],
};
const session = (over: Partial<TlsSessionResult> = {}): TlsSessionResult => ({
  policyDomain: 'example.test',
  ...sts,
  receivingMxHostname: 'mx1.example.test',
  receivingIp: '192.0.2.10',
  sendingMtaIp: '198.51.100.1',
  result: 'success',
  ...over,
});

/** The collector: counts in memory, adds them to the store's daily counts in batches; its store is real. */
describe(`TLS report collector (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let clock = Date.parse('2030-06-01T23:59:58Z');

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
  });

  it("counts sessions per UTC day, keeping a failure's hosts and the latest detail; successes are counts only", async () => {
    const logs = logSink();
    const c = new TlsReportCollector({ store, log: logs.log, now: () => clock });
    for (let i = 0; i < 3; i++) c.record(session({ receivingIp: `192.0.2.${i}` }));
    c.record(session({ result: 'certificate-expired', detail: 'first' }));
    c.record(session({ result: 'certificate-expired', detail: 'X509_V_ERR_CERT_HAS_EXPIRED' }));
    c.record(session({ result: 'certificate-expired' }));
    c.record(session({ result: 'sts-policy-fetch-error', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null }));
    expect(c.pendingKeys).toBe(3);
    clock += 5_000; // past midnight: the next day's counts
    c.record(session());
    await c.stop();
    expect(c.pendingKeys).toBe(0);

    const [first] = await store.tlsReports.policiesOf('2030-06-01', 'example.test');
    expect(first).toEqual({
      ...sts,
      results: [
        {
          resultType: 'certificate-expired',
          receivingMxHostname: 'mx1.example.test',
          receivingIp: '192.0.2.10',
          sendingMtaIp: '198.51.100.1',
          detail: 'X509_V_ERR_CERT_HAS_EXPIRED',
          sessions: 3,
        },
        { resultType: 'sts-policy-fetch-error', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: null, sessions: 1 },
        { resultType: 'success', receivingMxHostname: null, receivingIp: null, sendingMtaIp: null, detail: null, sessions: 3 },
      ],
    });
    expect((await store.tlsReports.policiesOf('2030-06-02', 'example.test'))[0]!.results).toEqual([
      expect.objectContaining({ resultType: 'success', sessions: 1 }),
    ]);
    expect(logs.lines).toEqual([]);
  });

  it('flushes every flushIntervalMs once started', async () => {
    clock = Date.parse('2030-06-03T12:00:00Z');
    const c = new TlsReportCollector({ store, log: logSink().log, now: () => clock, flushIntervalMs: 50 });
    c.start();
    c.record(session({ policyDomain: 'timer.test' }));
    const until = Date.now() + 5_000;
    while ((await store.tlsReports.policiesOf('2030-06-03', 'timer.test')).length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    expect(await store.tlsReports.policiesOf('2030-06-03', 'timer.test')).toHaveLength(1);
    await c.stop();
  });

  it('at the key cap drops results with new keys (counted and logged), flushes at once, and keeps counting held keys', async () => {
    clock = Date.parse('2030-06-04T12:00:00Z');
    const logs = logSink();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const slow = {
      tlsReports: {
        addCounts: async (c: readonly TlsResultCount[]) => {
          await gate;
          return store.tlsReports.addCounts(c);
        },
      },
    };
    const c = new TlsReportCollector({ store: slow, log: logs.log, now: () => clock, maxKeys: 2 });
    const at = (mx: string, over: Partial<TlsSessionResult> = {}) =>
      session({ policyDomain: 'cap.test', result: 'starttls-not-supported', receivingMxHostname: mx, ...over });
    c.record(at('a'));
    c.record(at('b'));
    c.record(at('a')); // a held key: counted
    c.record(at('c')); // over the cap: dropped, and a flush of a and b starts (held at the gate)
    expect(c.pendingKeys).toBe(0);
    c.record(at('c'));
    c.record(at('d'));
    c.record(at('e')); // over the cap again while the flush runs
    c.record(at('d'));
    expect(c.pendingKeys).toBe(2);
    release();
    await c.stop();
    const [p] = await store.tlsReports.policiesOf('2030-06-04', 'cap.test');
    expect(p!.results.map((r) => [r.receivingMxHostname, r.sessions])).toEqual([
      ['a', 2],
      ['b', 1],
      ['c', 1],
      ['d', 2],
    ]);
    expect(logs.events('tls_report.results_dropped').map((l) => l.sessions)).toEqual([1, 1]);
  });

  it('keeps the counts of a failed flush for the next one, and logs the failure', async () => {
    clock = Date.parse('2030-06-05T12:00:00Z');
    const logs = logSink();
    let fail = true;
    const flaky = {
      tlsReports: {
        addCounts: async (c: readonly TlsResultCount[]) => {
          if (fail) throw new Error('database is away');
          return store.tlsReports.addCounts(c);
        },
      },
    };
    const c = new TlsReportCollector({ store: flaky, log: logs.log, now: () => clock });
    c.record(session({ policyDomain: 'flaky.test' }));
    c.record(session({ policyDomain: 'flaky.test' }));
    await c.flush();
    expect(logs.events('tls_report.flush_failed')).toHaveLength(1);
    expect(c.pendingKeys).toBe(1);
    c.record(session({ policyDomain: 'flaky.test' }));
    fail = false;
    await c.stop();
    expect((await store.tlsReports.policiesOf('2030-06-05', 'flaky.test'))[0]!.results[0]!.sessions).toBe(3);
  });

  it('never throws at the caller: a malformed result is dropped and counted', async () => {
    const logs = logSink();
    const c = new TlsReportCollector({ store, log: logs.log, now: () => clock });
    expect(() => c.record({ ...session(), policyString: undefined } as unknown as TlsSessionResult)).not.toThrow();
    expect(() => c.record(null as unknown as TlsSessionResult)).not.toThrow();
    await c.stop();
    expect(logs.events('tls_report.results_dropped').map((l) => l.sessions)).toEqual([2]);
  });

  it('refuses a zero or NaN cap or interval', () => {
    const log = logSink().log;
    expect(() => new TlsReportCollector({ store, log, maxKeys: 0 })).toThrow(/positive/);
    expect(() => new TlsReportCollector({ store, log, flushIntervalMs: Number.NaN })).toThrow(/positive/);
  });
});
