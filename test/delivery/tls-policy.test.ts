import { X509Certificate, createHash } from 'node:crypto';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { rootCertificates } from 'node:tls';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lookupThrough } from '../../src/dns/connect-lookup.js';
import { MxResolver, systemDns } from '../../src/delivery/mx.js';
import { SmtpPool } from '../../src/delivery/smtp-pool.js';
import { mtaReportMailer } from '../../src/delivery/tls-report/mta-mail.js';
import type { TlsSessionResult } from '../../src/delivery/tls-report/session-result.js';
import type { StoredRecipient } from '../../src/store/store.js';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { createLocalCa, type LocalCa } from '../helpers/local-ca.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';

/**
 * Receiving domains' TLS policies, end to end: a DNS server on loopback publishes MX, MTA-STS TXT
 * and TLSA records; an HTTPS server with a certificate of the test's own CA serves the MTA-STS
 * policies; three SMTP sinks stand in for MX hosts on 127.0.0.2-4 (one port, so one
 * POSTLINE_OUTBOUND_PORT reaches them all): one with a certificate of that CA for mx.good.test,
 * one with a certificate of a CA nobody trusts, one without STARTTLS.
 */

const policy = (mode: string, ...mx: string[]) => ['version: STSv1', `mode: ${mode}`, ...mx.map((m) => `mx: ${m}`), 'max_age: 86400', ''].join('\r\n');

let ca: LocalCa;
let dns: TestDnsServer;
let https: HttpsServer;
let httpsPort: number;
let good: SmtpSink;
let selfSigned: SmtpSink;
let plain: SmtpSink;
let chained: SmtpSink;
let goodSpkiSha256: Buffer;
const policies = new Map<string, { status?: number; type?: string; body: string }>();
const fetched: string[] = [];

beforeAll(async () => {
  ca = createLocalCa();
  const goodCert = ca.issue(['mx.good.test']);
  goodSpkiSha256 = createHash('sha256')
    .update(new X509Certificate(goodCert.cert).publicKey.export({ type: 'spki', format: 'der' }))
    .digest();
  const policyHosts = ['good', 'bad', 'testing', 'elsewhere', 'plain', 'redirect', 'html'].map((d) => `mta-sts.${d}.test`);
  https = createHttpsServer(ca.issue(policyHosts), (req, res) => {
    const host = String(req.headers.host).replace(/:\d+$/, '');
    fetched.push(`${host}${req.url}`);
    const p = policies.get(host);
    if (!p || req.url !== '/.well-known/mta-sts.txt') return res.writeHead(404).end();
    res
      .writeHead(p.status ?? 200, { 'content-type': p.type ?? 'text/plain', ...(p.status === 302 ? { location: 'https://elsewhere.test/' } : {}) })
      .end(p.body);
  });
  await new Promise<void>((r) => https.listen(0, '127.0.0.1', r));
  httpsPort = (https.address() as AddressInfo).port;
  good = await startSmtpSink({ host: '127.0.0.2', tls: goodCert });
  // Names the host, but from a CA nobody trusts here.
  selfSigned = await startSmtpSink({ host: '127.0.0.3', port: good.port, tls: createLocalCa('Rogue CA').issue(['mx.selfsigned.test']) });
  plain = await startSmtpSink({ host: '127.0.0.4', port: good.port, starttls: false });
  // Sends its CA's certificate after its own, as a DANE-TA server must (RFC 7672 §3.1.2).
  const chainedCert = ca.issue(['mx.danata.test']);
  chained = await startSmtpSink({ host: '127.0.0.5', port: good.port, tls: { key: chainedCert.key, cert: chainedCert.cert + ca.caPem } });

  const zones: Record<string, Parameters<TestDnsServer['set']>[1]> = {
    'mx.good.test': { A: ['127.0.0.2'] },
    'mx.selfsigned.test': { A: ['127.0.0.3'] },
    'mx.plain.test': { A: ['127.0.0.4'] },
  };
  const stsDomain = (d: string, mx: string, p: string | null, extra: { status?: number; type?: string } = {}) => {
    zones[d] = { MX: [{ exchange: mx, priority: 10 }] };
    if (p === null) return;
    zones[`_mta-sts.${d}`] = { TXT: ['v=STSv1; id=20261206T1'] };
    zones[`mta-sts.${d}`] = { A: ['127.0.0.1'] };
    policies.set(`mta-sts.${d}`, { body: p, ...extra });
  };
  stsDomain('good.test', 'mx.good.test', policy('enforce', 'mx.good.test'));
  stsDomain('bad.test', 'mx.selfsigned.test', policy('enforce', 'mx.selfsigned.test', '*.good.test'));
  stsDomain('testing.test', 'mx.selfsigned.test', policy('testing', 'mx.selfsigned.test'));
  stsDomain('elsewhere.test', 'mx.good.test', policy('enforce', 'mx.elsewhere.test'));
  stsDomain('plain.test', 'mx.plain.test', policy('enforce', '*.plain.test'));
  stsDomain('redirect.test', 'mx.plain.test', policy('enforce', '*.plain.test'), { status: 302 });
  stsDomain('html.test', 'mx.plain.test', policy('enforce', '*.plain.test'), { type: 'text/html' });
  stsDomain('nopolicy.test', 'mx.plain.test', null);
  // DANE: signed zones (the server sets the AD bit) with TLSA records for the MX host's port.
  const port = good.port;
  zones['dane.test'] = { MX: [{ exchange: 'mx.dane.test', priority: 10 }], secure: true };
  zones['mx.dane.test'] = { A: ['127.0.0.2'], secure: true };
  zones[`_${port}._tcp.mx.dane.test`] = { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: goodSpkiSha256 }], secure: true };
  zones['danebad.test'] = { MX: [{ exchange: 'mx.danebad.test', priority: 10 }], secure: true };
  zones['mx.danebad.test'] = { A: ['127.0.0.2'], secure: true };
  zones[`_${port}._tcp.mx.danebad.test`] = { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) }], secure: true };
  // DANE-TA: the CA's certificate is the trust anchor; the leaf must then name the MX host.
  const caSha256 = createHash('sha256').update(new X509Certificate(ca.caPem).raw).digest();
  zones['danata.test'] = { MX: [{ exchange: 'mx.danata.test', priority: 10 }], secure: true };
  zones['mx.danata.test'] = { A: ['127.0.0.5'], secure: true };
  zones[`_${port}._tcp.mx.danata.test`] = { TLSA: [{ usage: 2, selector: 0, matchingType: 1, data: caSha256 }], secure: true };
  // The same anchor, but the host's certificate names another host.
  zones['danetaname.test'] = { MX: [{ exchange: 'mx2.danata.test', priority: 10 }], secure: true };
  zones['mx2.danata.test'] = { A: ['127.0.0.5'], secure: true };
  zones[`_${port}._tcp.mx2.danata.test`] = { TLSA: [{ usage: 2, selector: 0, matchingType: 1, data: caSha256 }], secure: true };
  // The same TLSA record, but the resolver did not validate: DANE does not apply, opportunistic TLS does.
  zones['unsigned.test'] = { MX: [{ exchange: 'mx.unsigned.test', priority: 10 }] };
  zones['mx.unsigned.test'] = { A: ['127.0.0.3'] };
  zones[`_${port}._tcp.mx.unsigned.test`] = { TLSA: [{ usage: 3, selector: 1, matchingType: 1, data: Buffer.alloc(32, 7) }] };
  dns = await startDnsServer(zones);
});

afterAll(async () => {
  await Promise.all([good?.close(), selfSigned?.close(), plain?.close(), chained?.close(), dns?.close(), new Promise((r) => https?.close(r))]);
});

async function withApp(fn: (t: TestApp) => Promise<void>): Promise<void> {
  const t = await startTestApp({
    roles: ['api', 'delivery'],
    config: { dnsServers: [dns.address], outboundPort: good.port, outboundCaFile: ca.caFile },
    delivery: { retrySchedule: [60_000], pollMs: 50 },
    tlsPolicy: { mtaStsPort: httpsPort },
  });
  try {
    await fn(t);
  } finally {
    await t.close();
  }
}

async function send(t: TestApp, to: string): Promise<StoredRecipient> {
  const r = await inject(t, {
    ServerId: t.credentials.serverId,
    ApiKey: t.credentials.apiKey,
    Messages: [{ From: { EmailAddress: 'shop@example.com' }, To: [{ EmailAddress: to }], Subject: `To ${to}`, TextBody: 'hello' }],
  });
  expect(r.body.ErrorCode, r.text).toBe('Success');
  const rows = await waitForRecipients(t.store, await newestMessageId(t.store), (x) => x.every((y) => y.status !== 'queued' && y.status !== 'delivering'));
  return rows[0]!;
}

const arrived = (sink: SmtpSink, to: string) => sink.messages.filter((m) => m.rcptTo.includes(to));

async function deliveredTls(t: TestApp, r: StoredRecipient) {
  const ev = (await t.store.events.list({ limit: 1000 })).find((e) => e.type === 'Delivered' && e.recipientId === r.id);
  expect(ev, `a Delivered event for ${r.address}`).toBeDefined();
  return ev!.data as { TlsPolicy?: string; TlsVerified?: boolean; Tls?: boolean };
}

describe(`MTA-STS and DANE for outbound delivery (${TEST_STORE_KIND})`, () => {
  it('MTA-STS enforce: delivered over TLS verified for the MX name; recorded as such on the Delivered event', async () => {
    await withApp(async (t) => {
      const r = await send(t, 'ann@good.test');
      expect(r.status, r.lastReply ?? '').toBe('delivered');
      expect(arrived(good, 'ann@good.test')).toMatchObject([{ secure: true }]);
      expect(await deliveredTls(t, r)).toMatchObject({ Tls: true, TlsPolicy: 'mta-sts', TlsVerified: true });
      expect(await (await fetch(`${t.url}/metrics`)).text()).toMatch(/postline_tls_policy_sessions_total\{policy="sts",result="success"\} 1/);
      expect(fetched).toContain(`mta-sts.good.test/.well-known/mta-sts.txt`);
    });
  });

  it('MTA-STS enforce with a certificate that does not verify: deferred, nothing sent (and never in the clear)', async () => {
    await withApp(async (t) => {
      const r = await send(t, 'bob@bad.test');
      expect(r.status).toBe('deferred');
      expect(r.lastReply).toMatch(/MTA-STS policy of bad\.test/);
      expect(r.lastReply).toMatch(/certificate/i);
      expect(arrived(selfSigned, 'bob@bad.test')).toEqual([]);
      // Operators see it in /metrics (and the domain in its TLS-RPT report).
      const metrics = await (await fetch(`${t.url}/metrics`)).text();
      expect(metrics).toMatch(/postline_tls_policy_sessions_total\{policy="sts",result="certificate-not-trusted"\} [1-9]/);
    });
  });

  it('MTA-STS enforce to a host without STARTTLS: deferred, nothing sent in the clear', async () => {
    await withApp(async (t) => {
      const r = await send(t, 'cat@plain.test');
      expect(r.status).toBe('deferred');
      expect(r.lastReply).toMatch(/does not offer STARTTLS.*MTA-STS/);
      expect(arrived(plain, 'cat@plain.test')).toEqual([]);
    });
  });

  it('MTA-STS enforce whose mx list does not name the MX host: deferred without connecting', async () => {
    await withApp(async (t) => {
      const before = good.connections;
      const r = await send(t, 'dan@elsewhere.test');
      expect(r.status).toBe('deferred');
      expect(r.lastReply).toMatch(/mx\.good\.test is not an mx of the MTA-STS policy/);
      expect(good.connections).toBe(before);
    });
  });

  it('MTA-STS testing: delivered with opportunistic TLS, the failed check not enforced', async () => {
    await withApp(async (t) => {
      const r = await send(t, 'eve@testing.test');
      expect(r.status, r.lastReply ?? '').toBe('delivered');
      expect(arrived(selfSigned, 'eve@testing.test')).toMatchObject([{ secure: true }]);
      expect(await deliveredTls(t, r)).toMatchObject({ TlsPolicy: 'mta-sts-testing', TlsVerified: false });
    });
  });

  it('a policy that cannot be had (a redirect, not text/plain) or none at all: delivered as without a policy', async () => {
    await withApp(async (t) => {
      for (const to of ['fay@redirect.test', 'gil@html.test', 'hal@nopolicy.test']) {
        const r = await send(t, to);
        expect(r.status, `${to}: ${r.lastReply}`).toBe('delivered');
        expect(arrived(plain, to)).toHaveLength(1);
        expect((await deliveredTls(t, r)).TlsPolicy).toBeUndefined();
      }
      // The redirect was not followed.
      expect(fetched.filter((f) => f.startsWith('elsewhere.test'))).toEqual([]);
    });
  });

  it('DANE: a matching DANE-EE record delivers (no name check), a mismatching one defers; DANE-TA needs the anchor and the name; an unvalidated record is ignored', async () => {
    await withApp(async (t) => {
      const ok = await send(t, 'ida@dane.test');
      expect(ok.status, ok.lastReply ?? '').toBe('delivered');
      expect(arrived(good, 'ida@dane.test')).toHaveLength(1);
      expect(await deliveredTls(t, ok)).toMatchObject({ TlsPolicy: 'dane', TlsVerified: true });

      const bad = await send(t, 'jon@danebad.test');
      expect(bad.status).toBe('deferred');
      expect(bad.lastReply).toMatch(/no TLSA record of mx\.danebad\.test matches.*DANE policy of danebad\.test/);
      expect(arrived(good, 'jon@danebad.test')).toEqual([]);

      const ta = await send(t, 'liz@danata.test');
      expect(ta.status, ta.lastReply ?? '').toBe('delivered');
      expect(await deliveredTls(t, ta)).toMatchObject({ TlsPolicy: 'dane', TlsVerified: true });
      const wrongName = await send(t, 'mia@danetaname.test');
      expect(wrongName.status).toBe('deferred');
      expect(wrongName.lastReply).toMatch(/does not name mx2\.danata\.test/);
      expect(arrived(chained, 'mia@danetaname.test')).toEqual([]);

      const unsigned = await send(t, 'kim@unsigned.test');
      expect(unsigned.status, unsigned.lastReply ?? '').toBe('delivered');
      expect((await deliveredTls(t, unsigned)).TlsPolicy).toBe('opportunistic');
    });
  });

  it('each session under a policy is told to TLS reporting with its RFC 8460 result', async () => {
    const results: TlsSessionResult[] = [];
    const pool = new SmtpPool({
      heloName: 'postline.test',
      maxConnections: 4,
      maxPerDestination: 2,
      ca: [...rootCertificates, ca.caPem],
      lookup: lookupThrough([dns.address]),
      tlsReport: { record: (r) => results.push(r) },
    });
    const context = (d: string) => ({ policyDomain: d, policyType: 'sts' as const, policyString: ['version: STSv1'], mxHost: [`mx.${d}`] });
    try {
      const ok = await pool.send(
        [{ host: 'mx.good.test', port: good.port, tls: { kind: 'mta-sts', enforce: true, context: context('good.test') } }],
        { from: 'b@postline.test', to: 'lee@good.test' },
        Buffer.from('Subject: hi\r\n\r\nhi\r\n'),
      );
      expect(ok.kind).toBe('accepted');
      const refused = await pool.send(
        [{ host: 'mx.selfsigned.test', port: good.port, tls: { kind: 'mta-sts', enforce: true, context: context('selfsigned.test') } }],
        { from: 'b@postline.test', to: 'max@selfsigned.test' },
        Buffer.from('Subject: hi\r\n\r\nhi\r\n'),
      );
      expect(refused).toMatchObject({ kind: 'unreachable', connect: true });
    } finally {
      pool.close();
    }
    expect(results).toEqual([
      expect.objectContaining({ policyDomain: 'good.test', receivingMxHostname: 'mx.good.test', receivingIp: '127.0.0.2', result: 'success' }),
      expect.objectContaining({ policyDomain: 'selfsigned.test', receivingMxHostname: 'mx.selfsigned.test', result: 'certificate-not-trusted' }),
    ]);
  });

  it('a mailed TLS-RPT report reaches a domain whose TLS policy is failing (RFC 8460 §5.3), and says why when it cannot', async () => {
    const pool = new SmtpPool({ heloName: 'postline.test', maxConnections: 2, maxPerDestination: 1, lookup: lookupThrough([dns.address]) });
    const sendMail = mtaReportMailer({
      resolver: new MxResolver(systemDns([dns.address]), good.port, null),
      pool,
      sign: async (m) => m,
    });
    try {
      // bad.test's enforced policy refuses its MX host's certificate for ordinary mail (above).
      const ok = await sendMail('tlsrpt@bad.test', 'tlsrpt-noreply@postline.test', Buffer.from('Subject: report\r\n\r\nreport\r\n'));
      expect(ok).toMatchObject({ ok: true, detail: expect.stringContaining('mx.selfsigned.test') });
      expect(arrived(selfSigned, 'tlsrpt@bad.test')).toMatchObject([{ mailFrom: 'tlsrpt-noreply@postline.test' }]);
      const nowhere = await sendMail('tlsrpt@nowhere.test', 'tlsrpt-noreply@postline.test', Buffer.from('Subject: report\r\n\r\nreport\r\n'));
      expect(nowhere).toMatchObject({ ok: false, detail: expect.stringMatching(/nowhere\.test/) });
    } finally {
      pool.close();
    }
  });
});
