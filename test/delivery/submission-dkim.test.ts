import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { dnsRecordsFor, generateDkimKey, type DkimKey } from '../../src/compose/dkim.js';

/** Submission over SMTP (AUTH after STARTTLS) to delivery at the sink, DKIM-signed and independently verified. */
describe(`SMTP relay end to end with DKIM (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  const keys: DkimKey[] = [generateDkimKey('brand.example', 'pl1'), generateDkimKey('brand.example', 'pl1e', 'ed25519-sha256')];

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'smtp', 'delivery'],
      config: { outboundPort: sink.port, submissionPort: 0, smtpHost: '127.0.0.1' },
      dns: fakeDns({ 'dest.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
    });
    for (const k of keys) {
      await t.store.settings.addDkimKey(
        { domain: k.domain, selector: k.selector, algorithm: k.algorithm, privateKey: k.privateKeyPem, publicKey: k.publicKeyBase64 },
        Date.now(),
      );
    }
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('delivers a submitted message DKIM-signed (RSA and Ed25519), verified by mailauth', async () => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: t.app.smtpPort!,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: String(t.credentials.serverId), pass: t.credentials.apiKey },
    });
    const info = await transport.sendMail({
      from: 'News <news@brand.example>',
      to: 'reader@dest.test',
      subject: 'Signed over the relay',
      text: 'Hello from the relay.',
      html: '<p>Hello from the relay.</p>',
      attachments: [{ filename: 'a.txt', content: 'attachment body' }],
      headers: { 'X-xsMailingId': 'relay-1' },
    });
    transport.close();
    expect(info.response).toMatch(/^250/);
    const until = Date.now() + 20_000;
    while (!sink.messages.some((m) => m.rcptTo.includes('reader@dest.test')) && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
    const got = sink.messages.find((m) => m.rcptTo.includes('reader@dest.test'))!;
    expect(got).toBeTruthy();
    expect(got.data.toString()).not.toContain('X-xsMailingId');
    const records = dnsRecordsFor(keys, { hostname: 'postline.test' });
    const resolver = async (name: string, rrtype: string): Promise<string[][]> => {
      const hits = records.filter((r) => r.type === rrtype && r.name === name.toLowerCase());
      if (hits.length === 0) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return hits.map((r) => r.chunks ?? [r.value]);
    };
    const res = await dkimVerify(got.data, { resolver });
    const results = res.results.map((r) => [r.signingDomain, r.selector, r.status.result]);
    expect(results).toEqual([
      ['brand.example', 'pl1', 'pass'],
      ['brand.example', 'pl1e', 'pass'],
    ]);
  });
});
