import { gunzipSync } from 'node:zlib';
import PostalMime from 'postal-mime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TlsReportCollector } from '../../src/delivery/tls-report/collector.js';
import { TlsReportJob, type TlsReportJobDeps } from '../../src/delivery/tls-report/job.js';
import type { TlsReport } from '../../src/delivery/tls-report/report.js';
import type { TlsSessionResult } from '../../src/delivery/tls-report/session-result.js';
import { dnsLookup } from '../../src/dns/lookup.js';
import { createUrlGuard } from '../../src/net/url-guard.js';
import type { Store } from '../../src/store/store.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { createLocalCa, type LocalCa } from '../helpers/local-ca.js';
import { startSmtpSink, type SmtpSink, type SunkMessage } from '../helpers/smtp-sink.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { logSink, sendMailTo, startHttpsReportReceiver, tlsReportValidator, type HttpsReportReceiver } from '../helpers/tls-report.js';

const HOSTNAME = 'mta.postline.test';
const MINUTE = 60_000;
const at = (iso: string) => Date.parse(iso);

const sts = {
  policyType: 'sts' as const,
  policyString: ['version: STSv1', 'mode: enforce', 'mx: mx1.example.test', 'mx: *.backup.example.test', 'max_age: 604800'],
  mxHost: ['mx1.example.test', '*.backup.example.test'],
};
const tlsa = { policyType: 'tlsa' as const, policyString: ['3 1 1 8c5b7d2a3e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b0c1d2e3f4a5b6c7d8e9f0a1b'], mxHost: [] };
const session = (policyDomain: string, over: Partial<TlsSessionResult> = {}): TlsSessionResult => ({
  policyDomain,
  ...sts,
  receivingMxHostname: 'mx1.example.test',
  receivingIp: '192.0.2.10',
  sendingMtaIp: '198.51.100.1',
  result: 'success',
  ...over,
});
const times = (n: number, f: () => void) => {
  for (let i = 0; i < n; i++) f();
};

/**
 * TLS-RPT end to end: sessions recorded through the collector into a real store, the job run with
 * a clock, the `_smtp._tls` records served by a DNS server on loopback, reports mailed to an SMTP
 * sink through Postline's SMTP client and POSTed to a node:https receiver with a test CA.
 */
describe(`TLS-RPT reports (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let dns: TestDnsServer;
  let sink: SmtpSink;
  let receiver: HttpsReportReceiver;
  let ca: LocalCa;
  let logs: ReturnType<typeof logSink>;
  let clock = 0;
  const validate = tlsReportValidator();

  const job = (over: Partial<TlsReportJobDeps> = {}) =>
    new TlsReportJob({
      store,
      dns: dnsLookup([dns.address], { timeoutMs: 1_000, tries: 1 }),
      log: logs.log,
      sendMail: sendMailTo(sink.port),
      hostname: HOSTNAME,
      organizationName: 'Postline Test',
      ca: ca.caPem,
      guard: createUrlGuard({ allowCidrs: ['127.0.0.1'] }),
      now: () => clock,
      ...over,
    });
  /** Records sessions as delivery would on the given clock, and writes them to the store. */
  const record = async (iso: string, write: (c: TlsReportCollector) => void) => {
    clock = at(iso);
    const c = new TlsReportCollector({ store, log: logs.log, now: () => clock });
    write(c);
    await c.stop();
  };
  const reportOf = (gzipped: Buffer): TlsReport => {
    const report = JSON.parse(gunzipSync(gzipped).toString('utf8')) as TlsReport;
    expect(validate(report), JSON.stringify(validate.errors)).toBe(true);
    return report;
  };
  const mailsTo = (address: string) => sink.messages.filter((m) => m.rcptTo.includes(address));
  const postsTo = (path: string) => receiver.received.filter((r) => r.path === path);
  const attachmentOf = async (m: SunkMessage) => {
    const mail = await PostalMime.parse(m.data, { attachmentEncoding: 'arraybuffer' });
    expect(mail.attachments).toHaveLength(1);
    return { mail, attachment: mail.attachments[0]!, gzipped: Buffer.from(mail.attachments[0]!.content as ArrayBuffer) };
  };

  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    ca = createLocalCa();
    receiver = await startHttpsReportReceiver(ca);
    // /flaky fails once, /down always.
    receiver.answer = (path, n) => (path === '/down' || (path === '/flaky' && n === 1) ? 500 : 200);
    sink = await startSmtpSink({ starttls: false });
    const https = (path: string) => `https://127.0.0.1:${receiver.port}${path}`;
    dns = await startDnsServer({
      '_smtp._tls.example.test': { TXT: [`v=TLSRPTv1; rua=mailto:tlsrpt@reports.test,${https('/tlsrpt')}`] },
      '_smtp._tls.ftp-only.test': { TXT: ['v=TLSRPTv1; rua=ftp://reports.test/tlsrpt'] },
      '_smtp._tls.two.test': { TXT: ['v=TLSRPTv1; rua=mailto:a@reports.test', 'v=TLSRPTv1; rua=mailto:b@reports.test'] },
      '_smtp._tls.no-version.test': { TXT: ['rua=mailto:tlsrpt@reports.test'] },
      '_smtp._tls.retry.test': { TXT: [`v=TLSRPTv1; rua=mailto:retry@reports.test, ${https('/flaky')}`] },
      '_smtp._tls.down.test': { TXT: [`v=TLSRPTv1; rua=${https('/down')}`] },
      '_smtp._tls.servfail.test': { fail: 'SERVFAIL' },
      '_smtp._tls.shared.test': { TXT: [`v=TLSRPTv1; rua=mailto:shared@reports.test,${https('/shared')}`] },
      '_smtp._tls.timer.test': { TXT: ['v=TLSRPTv1; rua=mailto:timer@reports.test'] },
    });
  });
  afterAll(async () => {
    await store.close();
    await db.drop();
    await Promise.all([dns.close(), sink.close(), receiver.close()]);
  });

  it("sends yesterday's report once to each rua with the counts recorded; today waits; domains without a usable record get nothing", async () => {
    logs = logSink();
    await record('2030-07-01T10:00:00Z', (c) => {
      times(6, () => c.record(session('example.test')));
      times(2, () => c.record(session('example.test', { result: 'certificate-expired', detail: 'X509_V_ERR_CERT_HAS_EXPIRED' })));
      c.record(
        session('example.test', {
          result: 'starttls-not-supported',
          receivingMxHostname: 'mx2.backup.example.test',
          receivingIp: '2001:db8::25',
          sendingMtaIp: '2001:db8::1',
        }),
      );
      // The domain published DANE later that day: a second policy in the same report.
      times(3, () => c.record(session('example.test', tlsa)));
      c.record(session('example.test', { ...tlsa, result: 'tlsa-invalid', detail: 'no TLSA record matched' }));
      // No record (NXDOMAIN), and records RFC 8460 says to treat as none.
      for (const d of ['norecord.test', 'ftp-only.test', 'two.test', 'no-version.test']) {
        c.record(session(d));
        c.record(session(d, { result: 'validation-failure' }));
      }
    });
    await record('2030-07-02T09:00:00Z', (c) => {
      times(4, () => c.record(session('example.test')));
      c.record(session('example.test', { result: 'certificate-expired' }));
    });

    clock = at('2030-07-02T12:00:00Z');
    expect(await job().runNow()).toEqual({ sent: 1, retrying: 0, gaveUp: 0, noRecord: 4, skipped: 0, removed: 0 });

    // One mail, to the mailto: rua.
    expect(sink.messages).toHaveLength(1);
    const [message] = sink.messages;
    expect(message!.rcptTo).toEqual(['tlsrpt@reports.test']);
    expect(message!.mailFrom).toBe('tlsrpt-noreply@mta.postline.test');
    const { mail, attachment, gzipped } = await attachmentOf(message!);
    const send = (await store.tlsReports.getSend('2030-07-01', 'example.test'))!;
    expect(send.reportId).toMatch(/^[0-9a-z]{26}@mta\.postline\.test$/);
    expect(mail.subject).toBe(`Report Domain: example.test Submitter: ${HOSTNAME} Report-ID: <${send.reportId}>`);
    expect(mail.headers.find((h) => h.key === 'tls-report-domain')?.value).toBe('example.test');
    expect(mail.headers.find((h) => h.key === 'tls-report-submitter')?.value).toBe(HOSTNAME);
    expect(mail.headers.find((h) => h.key === 'content-type')?.value).toMatch(/^multipart\/report;\s*report-type="?tlsrpt"?;/);
    expect(attachment.mimeType).toBe('application/tlsrpt+gzip');
    const begin = at('2030-07-01T00:00:00Z') / 1000;
    expect(attachment.filename).toBe(`${HOSTNAME}!example.test!${begin}!${begin + 86_399}!${send.reportId.split('@')[0]}.json.gz`);

    // One POST, to the https: rua, of the same report.
    expect(receiver.received).toHaveLength(1);
    const [post] = receiver.received;
    expect(post!.path).toBe('/tlsrpt');
    expect(post!.headers['content-type']).toBe('application/tlsrpt+gzip');
    const report = reportOf(post!.body);
    expect(reportOf(gzipped)).toEqual(report);

    expect(report).toEqual({
      'organization-name': 'Postline Test',
      'date-range': { 'start-datetime': '2030-07-01T00:00:00Z', 'end-datetime': '2030-07-01T23:59:59Z' },
      'contact-info': 'postmaster@mta.postline.test',
      'report-id': send.reportId,
      policies: expect.arrayContaining([
        {
          policy: { 'policy-type': 'sts', 'policy-string': sts.policyString, 'policy-domain': 'example.test', 'mx-host': sts.mxHost },
          summary: { 'total-successful-session-count': 6, 'total-failure-session-count': 3 },
          'failure-details': [
            {
              'result-type': 'certificate-expired',
              'sending-mta-ip': '198.51.100.1',
              'receiving-mx-hostname': 'mx1.example.test',
              'receiving-ip': '192.0.2.10',
              'failed-session-count': 2,
              'failure-reason-code': 'X509_V_ERR_CERT_HAS_EXPIRED',
            },
            {
              'result-type': 'starttls-not-supported',
              'sending-mta-ip': '2001:db8::1',
              'receiving-mx-hostname': 'mx2.backup.example.test',
              'receiving-ip': '2001:db8::25',
              'failed-session-count': 1,
            },
          ],
        },
        {
          policy: { 'policy-type': 'tlsa', 'policy-string': tlsa.policyString, 'policy-domain': 'example.test' },
          summary: { 'total-successful-session-count': 3, 'total-failure-session-count': 1 },
          'failure-details': [
            {
              'result-type': 'tlsa-invalid',
              'sending-mta-ip': '198.51.100.1',
              'receiving-mx-hostname': 'mx1.example.test',
              'receiving-ip': '192.0.2.10',
              'failed-session-count': 1,
              'failure-reason-code': 'no TLSA record matched',
            },
          ],
        },
      ]),
    });
    expect(report.policies).toHaveLength(2);

    expect(send).toMatchObject({ state: 'sent', attempts: 1, sentAt: clock, claimedBy: null });
    expect(send.outcomes.map((o) => [o.rua, o.ok])).toEqual([
      ['mailto:tlsrpt@reports.test', true],
      [`https://127.0.0.1:${receiver.port}/tlsrpt`, true],
    ]);
    for (const d of ['norecord.test', 'ftp-only.test', 'two.test', 'no-version.test']) {
      expect((await store.tlsReports.getSend('2030-07-01', d))?.state, d).toBe('no-record');
    }
    expect(logs.events('tls_report.sent').map((l) => [l.policyDomain, l.rua, l.day])).toEqual([
      ['example.test', 'mailto:tlsrpt@reports.test', '2030-07-01'],
      ['example.test', `https://127.0.0.1:${receiver.port}/tlsrpt`, '2030-07-01'],
    ]);
    // Sorted here: the order of domains within a day is the database's collation's.
    expect(
      logs
        .events('tls_report.no_record')
        .map((l) => [l.policyDomain, l.reason])
        .sort(),
    ).toEqual([
      ['ftp-only.test', 'no usable rua URI ("ftp://reports.test/tlsrpt")'],
      ['no-version.test', 'no record begins with v=TLSRPTv1;'],
      ['norecord.test', 'no TXT record at _smtp._tls'],
      ['two.test', '2 records begin with v=TLSRPTv1;'],
    ]);

    // Again: nothing to send, and the domains without a record are not even looked up again.
    const asked = dns.asked('TXT _smtp._tls.norecord.test');
    expect(await job().runNow()).toEqual({ sent: 0, retrying: 0, gaveUp: 0, noRecord: 0, skipped: 0, removed: 0 });
    expect(dns.asked('TXT _smtp._tls.norecord.test')).toBe(asked);

    // The next day is reported once it has ended and its grace (15 minutes) has passed.
    clock = at('2030-07-03T00:10:00Z');
    expect((await job().runNow()).sent).toBe(0);
    clock = at('2030-07-03T00:20:00Z');
    expect((await job().runNow()).sent).toBe(1);
    expect(sink.messages).toHaveLength(2);
    expect(receiver.received).toHaveLength(2);
    const second = reportOf(receiver.received[1]!.body);
    expect(second['date-range']).toEqual({ 'start-datetime': '2030-07-02T00:00:00Z', 'end-datetime': '2030-07-02T23:59:59Z' });
    expect(second.policies.map((p) => p.summary)).toEqual([{ 'total-successful-session-count': 4, 'total-failure-session-count': 1 }]);
    expect((await job().runNow()).sent).toBe(0);
  });

  it('tries a failed rua again on the next run (only that one), and gives a report up after its last attempt', async () => {
    logs = logSink();
    await record('2030-07-04T10:00:00Z', (c) => {
      c.record(session('retry.test', { result: 'certificate-not-trusted' }));
      c.record(session('down.test'));
    });
    clock = at('2030-07-05T06:00:00Z');
    const j = () => job({ maxAttempts: 2 });
    expect(await j().runNow()).toMatchObject({ sent: 0, retrying: 2, gaveUp: 0 });
    expect(mailsTo('retry@reports.test')).toHaveLength(1);
    expect(postsTo('/flaky')).toHaveLength(1);
    expect(postsTo('/down')).toHaveLength(1);
    expect(logs.events('tls_report.failed').map((l) => [l.policyDomain, l.rua, l.error])).toEqual([
      ['down.test', `https://127.0.0.1:${receiver.port}/down`, 'HTTP 500: receiver says no'],
      ['retry.test', `https://127.0.0.1:${receiver.port}/flaky`, 'HTTP 500: receiver says no'],
    ]);
    expect(await store.tlsReports.getSend('2030-07-04', 'retry.test')).toMatchObject({ state: 'retry', attempts: 1, nextAttemptAt: clock + 10 * MINUTE });

    // Not due before the next check.
    expect(await j().runNow()).toMatchObject({ sent: 0, retrying: 0, gaveUp: 0 });
    clock += 10 * MINUTE;
    expect(await j().runNow()).toMatchObject({ sent: 1, retrying: 0, gaveUp: 1 });
    // The https rua took it the second time; the mail, delivered the first time, was not sent again.
    expect(postsTo('/flaky')).toHaveLength(2);
    expect(mailsTo('retry@reports.test')).toHaveLength(1);
    const [first, again] = postsTo('/flaky').map((p) => reportOf(p.body));
    expect(again).toEqual(first);
    expect(reportOf((await attachmentOf(mailsTo('retry@reports.test')[0]!)).gzipped)['report-id']).toBe(first!['report-id']);
    expect(await store.tlsReports.getSend('2030-07-04', 'retry.test')).toMatchObject({ state: 'sent', attempts: 2 });

    expect(postsTo('/down')).toHaveLength(2);
    expect(await store.tlsReports.getSend('2030-07-04', 'down.test')).toMatchObject({ state: 'gave-up', attempts: 2, sentAt: null });
    expect(logs.events('tls_report.gave_up').map((l) => [l.policyDomain, l.rua, l.attempts])).toEqual([
      ['down.test', [`https://127.0.0.1:${receiver.port}/down`], 2],
    ]);
    clock += 86_400_000;
    expect(await j().runNow()).toMatchObject({ sent: 0, retrying: 0, gaveUp: 0 });
    expect(postsTo('/down')).toHaveLength(2);
  });

  it('asks DNS again on a later run when the lookup failed (SERVFAIL)', async () => {
    logs = logSink();
    await record('2030-07-06T10:00:00Z', (c) => c.record(session('servfail.test')));
    clock = at('2030-07-07T06:00:00Z');
    expect(await job().runNow()).toMatchObject({ sent: 0, retrying: 1 });
    expect(logs.events('tls_report.lookup_failed').map((l) => [l.policyDomain, l.error])).toEqual([['servfail.test', 'ESERVFAIL']]);
    dns.set('_smtp._tls.servfail.test', { TXT: ['v=TLSRPTv1; rua=mailto:servfail@reports.test'] });
    clock += 10 * MINUTE;
    expect(await job().runNow()).toMatchObject({ sent: 1, retrying: 0 });
    expect(mailsTo('servfail@reports.test')).toHaveLength(1);
  });

  it('is sent once when two processes sharing the store run the job at the same time', async () => {
    logs = logSink();
    await record('2030-07-08T10:00:00Z', (c) => times(5, () => c.record(session('shared.test'))));
    clock = at('2030-07-09T06:00:00Z');
    // A second process: its own connection to the same database (PostgreSQL), its own owner name.
    const other = db.kind === 'postgres' ? await db.open() : store;
    try {
      const results = await Promise.all([job({ owner: 'process-a' }).runNow(), job({ owner: 'process-b', store: other }).runNow()]);
      expect(results.reduce((n, r) => n + r.sent, 0)).toBe(1);
    } finally {
      if (other !== store) await other.close();
    }
    expect(mailsTo('shared@reports.test')).toHaveLength(1);
    expect(postsTo('/shared')).toHaveLength(1);
    expect(reportOf(postsTo('/shared')[0]!.body).policies[0]!.summary['total-successful-session-count']).toBe(5);
  });

  it('runs on its timer once started, and stops', async () => {
    logs = logSink();
    await record('2030-07-10T10:00:00Z', (c) => c.record(session('timer.test')));
    clock = at('2030-07-11T06:00:00Z');
    const j = job({ firstDelayMs: 10, intervalMs: 50 });
    j.start();
    const until = Date.now() + 10_000;
    while (mailsTo('timer@reports.test').length === 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 20));
    await j.stop();
    expect(mailsTo('timer@reports.test')).toHaveLength(1);
  });

  it('drops counts and send records older than 14 days', async () => {
    clock = at('2030-07-15T06:00:00Z');
    expect((await job().runNow()).removed).toBe(0);
    clock = at('2030-07-16T06:00:00Z');
    // 2030-07-02 is the oldest day kept: 2030-07-01's two example.test policies and four other domains go.
    expect((await job().runNow()).removed).toBe(6);
    expect(await store.tlsReports.policiesOf('2030-07-01', 'example.test')).toEqual([]);
    expect(await store.tlsReports.getSend('2030-07-01', 'example.test')).toBeUndefined();
    expect(await store.tlsReports.getSend('2030-07-02', 'example.test')).toMatchObject({ state: 'sent' });
  });

  it('refuses a zero or NaN interval, attempt count or age', () => {
    expect(() => job({ intervalMs: 0 })).toThrow(/intervalMs/);
    expect(() => job({ maxAttempts: Number.NaN })).toThrow(/maxAttempts/);
    expect(() => job({ keepDays: 0 })).toThrow(/keepDays/);
  });
});
