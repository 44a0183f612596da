import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink, type SunkMessage } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { waitForRecipients } from '../helpers/wait.js';
import { dnsRecordsFor, generateDkimKey } from '../../src/compose/dkim.js';
import { RawSmtp } from './raw-client.js';

/**
 * 8-bit and SMTPUTF8 mail through the submission port to delivery, on real sockets: one sink that
 * offers 8BITMIME and SMTPUTF8 (domains *.full.test and 例子.广告) and one that offers neither
 * (*.plain.test and bücher.plain, on 127.0.0.3 at the same port).
 */
describe(`8-bit and SMTPUTF8 relay end to end (${TEST_STORE_KIND})`, () => {
  let full: SmtpSink;
  let plain: SmtpSink;
  let t: TestApp;
  const key = generateDkimKey('brand.example', 'pl1');

  beforeAll(async () => {
    full = await startSmtpSink();
    plain = await startSmtpSink({ host: '127.0.0.3', port: full.port, starttls: false, eightBitMime: false, smtpUtf8: false });
    t = await startTestApp({
      roles: ['smtp', 'delivery'],
      config: { outboundPort: full.port, submissionPort: 0, smtpHost: '127.0.0.1', allowInsecureAuth: true },
      dns: fakeDns({
        'full.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] },
        'plain.test': { mx: [{ exchange: '127.0.0.3', priority: 10 }] },
        // DNS knows internationalised domains by their A-labels only.
        'xn--fsqu00a.xn--4rr70v': { mx: [{ exchange: '127.0.0.1', priority: 10 }] },
        'xn--bcher-kva.plain': { mx: [{ exchange: '127.0.0.3', priority: 10 }] },
      }),
      delivery: { pollMs: 50 },
    });
    await t.store.settings.addDkimKey(
      { domain: key.domain, selector: key.selector, algorithm: key.algorithm, privateKey: key.privateKeyPem, publicKey: key.publicKeyBase64 },
      Date.now(),
    );
  });
  afterAll(async () => {
    await t.close();
    await full.close();
    await plain.close();
  });

  async function arrived(sink: SmtpSink, rcpt: string): Promise<SunkMessage> {
    const until = Date.now() + 20_000;
    for (;;) {
      const got = sink.messages.find((m) => m.rcptTo.includes(rcpt));
      if (got) return got;
      if (Date.now() > until) throw new Error(`nothing arrived for ${rcpt}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** One transaction over a raw socket: AUTH PLAIN, the envelope, the message bytes. Returns the message id. */
  async function submit(mailFrom: string, rcptTo: string[], message: Buffer): Promise<string> {
    const c = await RawSmtp.login(t.app.smtpPort!, t.credentials.serverId, t.credentials.apiKey);
    expect(await c.cmd(mailFrom)).toMatchObject({ code: 250 });
    for (const r of rcptTo) expect(await c.cmd(`RCPT TO:<${r}>`)).toMatchObject({ code: 250 });
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write(Buffer.concat([message, Buffer.from('.\r\n')]));
    const done = await c.reply();
    c.end();
    expect(done.code).toBe(250);
    return /queued as (\w+)/.exec(done.text)![1]!;
  }

  it('advertises 8BITMIME and SMTPUTF8 on the submission port', async () => {
    const c = await RawSmtp.connect(t.app.smtpPort!);
    await c.reply();
    const ehlo = await c.cmd('EHLO client.example');
    c.end();
    expect(ehlo.text.split('\n')).toEqual(expect.arrayContaining(['8BITMIME', 'SMTPUTF8']));
  });

  it('relays an ISO-8859-1 8bit message from nodemailer byte for byte, DKIM-signed, with BODY=8BITMIME', async () => {
    const sent = Buffer.from(
      [
        'From: =?ISO-8859-1?Q?Andr=E9?= <news@brand.example>',
        'To: latin@full.test',
        'Subject: Caf\xe9 cr\xe8me (raw ISO-8859-1, as legacy software writes it)',
        'Date: Sat, 05 Dec 2026 10:00:00 +0000',
        'Message-ID: <latin-1@brand.example>',
        'MIME-Version: 1.0',
        'Content-Type: text/plain; charset=ISO-8859-1',
        'Content-Transfer-Encoding: 8bit',
        '',
        // 0xA0 (no-break space) is whitespace to a careless canonicalizer; DKIM's relaxed forms only fold SP and HTAB.
        // (Only in the body here: mailauth's relaxed header form folds it too, against RFC 6376, and would fail any signer.)
        'Gr\xfc\xdfe aus K\xf6ln, \xe0 bient\xf4t.',
        'Cr\xe8me br\xfbl\xe9e\xa0: 5 \xa4\xa0 ',
        '',
      ].join('\r\n'),
      'latin1',
    );
    const transport = createTransport({
      host: '127.0.0.1',
      port: t.app.smtpPort!,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: String(t.credentials.serverId), pass: t.credentials.apiKey },
    });
    const info = await transport.sendMail({ envelope: { from: 'news@brand.example', to: ['latin@full.test'] }, raw: sent });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    const id = /queued as (\w+)/.exec(info.response)![1]!;
    expect((await t.store.queue.getMessageTemplate(id))!.rawMime!.equals(sent)).toBe(true);

    const got = await arrived(full, 'latin@full.test');
    // Postline adds its DKIM signature at the top; everything after it is what was submitted.
    const added = got.data.subarray(0, got.data.length - sent.length).toString('latin1');
    expect(got.data.subarray(got.data.length - sent.length).equals(sent)).toBe(true);
    expect(added).toMatch(/^DKIM-Signature: [^\r\n]*\r\n([ \t][^\r\n]*\r\n)*$/);
    expect(got.mailArgs).toMatchObject({ BODY: '8BITMIME' });
    expect(got.mailArgs.SMTPUTF8).toBeUndefined();
    const records = dnsRecordsFor([key], { hostname: 'postline.test' });
    const resolver = async (name: string, rrtype: string): Promise<string[][]> => {
      const hits = records.filter((r) => r.type === rrtype && r.name === name.toLowerCase());
      if (hits.length === 0) throw Object.assign(new Error(`ENOTFOUND ${name}`), { code: 'ENOTFOUND' });
      return hits.map((r) => r.chunks ?? [r.value]);
    };
    const verified = await dkimVerify(got.data, { resolver });
    expect(verified.results.map((r) => [r.signingDomain, r.status.result])).toEqual([['brand.example', 'pass']]);
  });

  it('relays Shift_JIS and broken 8-bit bytes as they came to a next hop without 8BITMIME, and stores them exactly', async () => {
    const head = (to: string, charset: string) =>
      Buffer.from(
        [
          'From: app@legacy.example',
          `To: ${to}`,
          'Subject: legacy',
          'Date: Sat, 05 Dec 2026 10:00:00 +0000',
          `Message-ID: <${to}>`,
          `Content-Type: text/plain; charset=${charset}`,
          'Content-Transfer-Encoding: 8bit',
          '',
          '',
        ].join('\r\n'),
      );
    // "こんにちは" and "ソ" (whose second byte is a backslash) in Shift_JIS; then bytes valid in no charset.
    const sjis = Buffer.concat([
      head('sjis@plain.test', 'Shift_JIS'),
      Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd, 0x0d, 0x0a, 0x83, 0x5c, 0x0d, 0x0a]),
    ]);
    const broken = Buffer.concat([head('broken@plain.test', 'UTF-8'), Buffer.from([0xc3, 0x28, 0xa0, 0xa1, 0xe2, 0x28, 0xa1, 0xff, 0xfe, 0x0d, 0x0a])]);
    for (const [rcpt, sent] of [
      ['sjis@plain.test', sjis],
      ['broken@plain.test', broken],
    ] as const) {
      const id = await submit('MAIL FROM:<app@legacy.example>', [rcpt], sent);
      expect((await t.store.queue.getMessageTemplate(id))!.rawMime!.equals(sent)).toBe(true);
      const got = await arrived(plain, rcpt);
      expect(got.data.equals(sent)).toBe(true); // no DKIM key for legacy.example: nothing added
      expect(got.mailArgs.BODY).toBeUndefined();
      expect(got.mailArgs.SMTPUTF8).toBeUndefined();
    }
  });

  it('delivers UTF-8 recipients with SMTPUTF8 where offered, downgrades an IDN domain where not, and fails a UTF-8 local part there', async () => {
    const sent = Buffer.from(
      'From: app@legacy.example\r\nTo: undisclosed-recipients:;\r\nSubject: intl\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\nMessage-ID: <intl@legacy.example>\r\n\r\nhello\r\n',
    );
    const id = await submit('MAIL FROM:<app@legacy.example> SMTPUTF8', ['用户@例子.广告', 'user@bücher.plain', 'jöran@plain.test'], sent);
    const rows = await waitForRecipients(t.store, id, (rs) => rs.every((r) => r.status === 'delivered' || r.status === 'failed'));
    const by = new Map(rows.map((r) => [r.address, r]));
    expect(by.get('用户@例子.广告')!.status).toBe('delivered');
    expect(by.get('user@bücher.plain')!.status).toBe('delivered');
    expect(by.get('jöran@plain.test')).toMatchObject({ status: 'failed', failureCode: 4002 });

    const intl = await arrived(full, '用户@例子.广告');
    expect(intl.mailArgs).toMatchObject({ SMTPUTF8: true });
    expect(intl.data.equals(sent)).toBe(true);
    const idn = await arrived(plain, 'user@bücher.plain'); // the sink shows A-labels as U-labels; the wire had the A-label
    expect(idn.data.equals(sent)).toBe(true);
    expect(idn.mailArgs.SMTPUTF8).toBeUndefined();
    expect(plain.envelopeLines).toContain('RCPT TO:<user@xn--bcher-kva.plain>');
    expect(plain.envelopeLines.some((l) => /[^\x00-\x7f]/.test(l))).toBe(false);

    const failed = (await t.store.events.list({ messageId: id })).find((e) => e.type === 'Failed')!;
    expect(failed.recipientId).toBe(by.get('jöran@plain.test')!.id);
    expect(failed.data).toMatchObject({
      FailureType: 1,
      FailureCode: 4002,
      BounceStatus: '5.6.7',
      DiagnosticCode: null,
      RemoteMta: '127.0.0.3',
      Reason: '553 5.6.7 Non-ASCII address <jöran@plain.test> not permitted: the receiving server does not offer SMTPUTF8 (RFC 6531)',
    });
  });

  it('sends UTF-8 header fields with SMTPUTF8 where offered and as they are where not', async () => {
    const sent = Buffer.from(
      'From: Jöran <app@legacy.example>\r\nSubject: Grüße ✓\r\nDate: Sat, 05 Dec 2026 10:00:00 +0000\r\nMessage-ID: <hdr@legacy.example>\r\n\r\nÄ\r\n',
    );
    const id = await submit('MAIL FROM:<app@legacy.example>', ['hdr@full.test', 'hdr@plain.test'], sent);
    const rows = await waitForRecipients(t.store, id, (rs) => rs.every((r) => r.status === 'delivered' || r.status === 'failed'));
    expect(rows.map((r) => [r.address, r.status, r.failureCode]).sort()).toEqual([
      ['hdr@full.test', 'delivered', null],
      ['hdr@plain.test', 'delivered', null],
    ]);
    const got = await arrived(full, 'hdr@full.test');
    expect(got.data.equals(sent)).toBe(true);
    expect(got.mailArgs).toMatchObject({ SMTPUTF8: true, BODY: '8BITMIME' });
    const plainGot = await arrived(plain, 'hdr@plain.test');
    expect(plainGot.data.equals(sent)).toBe(true);
    expect(plainGot.mailArgs).not.toHaveProperty('SMTPUTF8');
  });
});
