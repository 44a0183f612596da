import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createSocket } from 'node:dgram';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { createInboundParser, type InboundEnvelope, type InboundParser } from '../../src/inbound/parse/index.js';
import { dnsLookup } from '../../src/dns/lookup.js';
import { generateDkimKey, signMessage } from '../../src/compose/dkim.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

// The parser threads run the built worker from dist/ (npx tsc -p tsconfig.json first), as production does.

const FIXTURES = join(import.meta.dirname, '../fixtures/inbound');
/** A fixture as it arrives over SMTP: CRLF line ends. */
const fixture = (name: string): Buffer => Buffer.from(readFileSync(join(FIXTURES, name), 'utf8').replace(/\r?\n/g, '\r\n'));

interface File {
  Name: string | null;
  ContentType: string;
  Content: string;
  ContentId: string | null;
  CustomHeaders: { Name: string; Value: string | null }[];
}
interface Body {
  SecretKey: string;
  ServerId: number;
  SubaccountId: number;
  IpPoolId: null;
  InboundMailFrom: string;
  InboundRcptTo: string;
  InboundIpAddress: string;
  ErrorLog: string | null;
  SpamScore: number;
  SpamDetails: null;
  Message: {
    Subject: string | null;
    TextBody: string | null;
    HtmlBody: string | null;
    TextCharSet: string | null;
    HtmlCharSet: string | null;
    MailingId: string | null;
    MessageId: string | null;
    From: { EmailAddress: string; FriendlyName: string | null } | null;
    To: { EmailAddress: string; FriendlyName: string | null }[];
    Cc: { EmailAddress: string; FriendlyName: string | null }[] | null;
    Bcc: unknown;
    ReplyTo: { EmailAddress: string; FriendlyName: string | null } | null;
    CustomHeaders: { Name: string; Value: string | null }[];
    Attachments: File[];
    EmbeddedMedia: File[];
    ReplyText: string | null;
  };
  Authentication: {
    Spf: { Result: string; Domain: string | null };
    Dkim: { Result: string; Domain: string | null; Selector: string | null }[];
    Dmarc: { Result: string; Policy: string | null; Domain: string | null };
    Arc: { Result: string };
    Header: string | null;
  };
  AutoReply: { Detected: boolean; Reason: string | null };
}

const envelope = (over: Partial<InboundEnvelope> = {}): InboundEnvelope => ({
  serverId: 4242,
  secretKey: 'sk-inbound-test',
  mailFrom: 'sender@example.net',
  rcptTo: 'inbox@customer.example',
  remoteIp: '127.0.0.1',
  heloName: 'relay.example.net',
  receivedAt: Date.now(),
  ...over,
});

describe('Inbound parser: raw message -> Inbound POST body', () => {
  let dns: TestDnsServer;
  let parser: InboundParser;
  const build = async (raw: Buffer, env: Partial<InboundEnvelope> = {}): Promise<Body> =>
    JSON.parse((await parser.build(raw, envelope(env))).toString('utf8')) as Body;

  beforeAll(async () => {
    dns = await startDnsServer();
    parser = createInboundParser({ dns: dnsLookup([dns.address]), dnsServers: [dns.address], hostname: 'mx.postline.test', threads: 2 });
  });
  afterAll(async () => {
    await parser.close();
    await dns.close();
  });

  it('returns every part and header of a multipart message intact, inline cid images as EmbeddedMedia', async () => {
    const binary = randomBytes(70_000);
    const csv = Buffer.from('id,name\n1,Ann\n2,Bob\n');
    const logo = randomBytes(3_000);
    const raw = await new MailComposer({
      from: 'Ann Sender <ann@example.net>',
      to: 'Inbox <inbox@customer.example>, other@customer.example',
      cc: 'copy@customer.example',
      replyTo: 'Replies <replies@example.net>',
      subject: 'Quarterly report',
      text: 'The report is attached.',
      html: '<p>The report is attached.</p><img src="cid:logo.123@example.net">',
      headers: [
        { key: 'X-Trace', value: 'hop-1' },
        { key: 'X-Campaign', value: 'q3' },
        { key: 'X-Trace', value: 'hop-2' },
      ],
      attachments: [
        { filename: 'data.bin', content: binary, contentType: 'application/octet-stream' },
        { filename: 'people.csv', content: csv, contentType: 'text/csv' },
        { filename: 'logo.png', content: logo, contentType: 'image/png', cid: 'logo.123@example.net' },
      ],
    })
      .compile()
      .build();
    const headerBlock = raw.subarray(0, raw.indexOf('\r\n\r\n')).toString();
    const body = await build(raw);

    expect(body).toMatchObject({
      SecretKey: 'sk-inbound-test',
      ServerId: 4242,
      SubaccountId: 4242,
      IpPoolId: null,
      InboundMailFrom: 'sender@example.net',
      InboundRcptTo: 'inbox@customer.example',
      InboundIpAddress: '127.0.0.1',
      ErrorLog: null,
      SpamScore: 0,
      SpamDetails: null,
    });
    const m = body.Message;
    expect(m.Subject).toBe('Quarterly report');
    expect(m.TextBody).toBe('The report is attached.');
    expect(m.HtmlBody).toBe('<p>The report is attached.</p><img src="cid:logo.123@example.net">');
    expect(m.From).toEqual({ EmailAddress: 'ann@example.net', FriendlyName: 'Ann Sender' });
    expect(m.To).toEqual([
      { EmailAddress: 'inbox@customer.example', FriendlyName: 'Inbox' },
      { EmailAddress: 'other@customer.example', FriendlyName: null },
    ]);
    expect(m.Cc).toEqual([{ EmailAddress: 'copy@customer.example', FriendlyName: null }]);
    expect(m.Bcc).toBeNull();
    expect(m.ReplyTo).toEqual({ EmailAddress: 'replies@example.net', FriendlyName: 'Replies' });
    expect(m.MailingId).toBeNull();
    expect(m.MessageId).toBeNull();

    // Every top-level header, in the order of the raw header block, repeats kept.
    const namesInRaw = headerBlock
      .split('\r\n')
      .filter((l) => !/^[ \t]/.test(l))
      .map((l) => l.slice(0, l.indexOf(':')));
    expect(m.CustomHeaders.map((h) => h.Name)).toEqual(namesInRaw);
    expect(m.CustomHeaders.filter((h) => h.Name === 'X-Trace').map((h) => h.Value)).toEqual(['hop-1', 'hop-2']);
    expect(m.CustomHeaders.find((h) => h.Name === 'Message-ID')?.Value).toMatch(/^<.+@example\.net>$/);

    expect(m.Attachments.map((a) => [a.Name, a.ContentType, a.ContentId])).toEqual([
      ['data.bin', 'application/octet-stream', null],
      ['people.csv', 'text/csv', null],
    ]);
    expect(Buffer.from(m.Attachments[0]!.Content, 'base64').equals(binary)).toBe(true);
    expect(m.Attachments[0]!.Content).toBe(binary.toString('base64'));
    expect(Buffer.from(m.Attachments[1]!.Content, 'base64').equals(csv)).toBe(true);
    expect(m.Attachments[0]!.CustomHeaders.map((h) => h.Name)).toContain('Content-Disposition');
    expect(m.EmbeddedMedia).toHaveLength(1);
    expect(m.EmbeddedMedia[0]).toMatchObject({ Name: 'logo.png', ContentType: 'image/png', ContentId: 'logo.123@example.net' });
    expect(Buffer.from(m.EmbeddedMedia[0]!.Content, 'base64').equals(logo)).toBe(true);
    expect(m.EmbeddedMedia[0]!.CustomHeaders).toContainEqual({ Name: 'Content-ID', Value: '<logo.123@example.net>' });
  });

  it("leaves the caller's buffer as it was (the thread gets a copy, so a failed thread's messages can run again)", async () => {
    const raw = Buffer.from(new ArrayBuffer(64 * 1024));
    raw.write('From: a@example.net\r\nTo: b@customer.example\r\nSubject: kept\r\n\r\nBody\r\n');
    const before = Buffer.from(raw);
    expect((await build(raw)).Message.Subject).toBe('kept');
    expect(raw.equals(before)).toBe(true);
  });

  it('an inline image the HTML does not reference stays an attachment', async () => {
    const img = randomBytes(500);
    const raw = await new MailComposer({
      from: 'a@example.net',
      to: 'inbox@customer.example',
      subject: 's',
      html: '<p>no images</p>',
      attachments: [{ filename: 'pic.png', content: img, contentType: 'image/png', cid: 'unused@example.net' }],
    })
      .compile()
      .build();
    const m = (await build(raw)).Message;
    expect(m.EmbeddedMedia).toEqual([]);
    expect(m.Attachments.map((a) => a.ContentId)).toEqual(['unused@example.net']);
    expect(m.TextBody).toBeNull();
    expect(m.TextCharSet).toBeNull();
  });

  it('an attached message stays an attachment, bytes and headers as received, with or without a disposition', async () => {
    const inner = ['From: b@example.org', 'Subject: inner', '', 'Inner body', ''].join('\r\n');
    const raw = Buffer.from(
      [
        'From: a@example.net',
        'To: inbox@customer.example',
        'Subject: outer',
        'Content-Type: multipart/mixed; boundary="B"',
        '',
        '--B',
        'Content-Type: text/plain',
        '',
        'See the forwarded message.',
        '--B',
        'Content-Type: message/rfc822',
        'Content-Disposition: attachment; filename="fwd.eml"',
        '',
        inner,
        '--B',
        'Content-Type: message/rfc822',
        '',
        inner,
        '--B--',
        '',
      ].join('\r\n'),
    );
    const body = await build(raw);
    expect(body.ErrorLog).toBeNull();
    expect(body.Message.TextBody).toBe('See the forwarded message.');
    expect(body.Message.Subject).toBe('outer');
    expect(body.Message.Attachments.map((a) => [a.Name, a.ContentType, Buffer.from(a.Content, 'base64').toString()])).toEqual([
      ['fwd.eml', 'message/rfc822', inner],
      [null, 'message/rfc822', inner],
    ]);
    expect(body.Message.Attachments[0]!.CustomHeaders).toEqual([
      { Name: 'Content-Type', Value: 'message/rfc822' },
      { Name: 'Content-Disposition', Value: 'attachment; filename="fwd.eml"' },
    ]);
  });

  it('decodes an ISO-8859-1 part to Unicode and reports the declared charset', async () => {
    const body = await build(fixture('latin1.eml'));
    expect(body.Message.TextBody).toBe('Schöne Grüße aus München\n');
    expect(body.Message.TextCharSet).toBe('iso-8859-1');
    expect(body.Message.HtmlBody).toBeNull();
    expect(body.Message.Subject).toBe('Grüße');
    expect(body.Message.From).toEqual({ EmailAddress: 'juergen@example.de', FriendlyName: 'Jürgen Müller' });
    // CustomHeaders keep the raw (encoded) value.
    expect(body.Message.CustomHeaders).toContainEqual({ Name: 'Subject', Value: '=?iso-8859-1?q?Gr=FC=DFe?=' });
  });

  it('unfolds folded headers, keeps repeats in order and reads the X-xs ids', async () => {
    const body = await build(fixture('folded-headers.eml'));
    const h = body.Message.CustomHeaders;
    expect(h.map((x) => x.Name)).toEqual([
      'Received',
      'Received',
      'From',
      'To',
      'X-Tag',
      'Subject',
      'X-Empty',
      'X-Tag',
      'X-xsMailingId',
      'X-xsMessageId',
      'Message-ID',
    ]);
    expect(h[0]!.Value).toBe(
      'from relay2.example.net (relay2.example.net [192.0.2.20])\tby mx.customer.example with ESMTP id B2;\tMon, 20 May 2024 09:00:53 -0500',
    );
    expect(h[1]!.Value).toContain('by relay2.example.net');
    expect(h.find((x) => x.Name === 'Subject')!.Value).toBe('A subject folded  over two lines');
    expect(h.find((x) => x.Name === 'X-Empty')!.Value).toBeNull();
    expect(h.filter((x) => x.Name === 'X-Tag').map((x) => x.Value)).toEqual(['first', 'second']);
    expect(body.Message.MailingId).toBe('mailing-42');
    expect(body.Message.MessageId).toBe('message-7');
    expect(body.ErrorLog).toBeNull();
  });

  it('gives the reply without its quoted history as ReplyText', async () => {
    const body = await build(fixture('reply.eml'));
    expect(body.Message.TextBody).toContain('> Please try restarting the router.');
    expect(body.Message.ReplyText).toBe('Thanks, that fixed it.');
    expect(body.AutoReply).toEqual({ Detected: false, Reason: null });
  });

  it('marks an out-of-office reply as AutoReply, and a subject-only one too', async () => {
    const ooo = await build(fixture('out-of-office.eml'));
    expect(ooo.AutoReply.Detected).toBe(true);
    expect(ooo.AutoReply.Reason).toBe('Auto-Submitted: auto-replied');
    const subjectOnly = await build(Buffer.from('From: a@example.org\r\nTo: b@customer.example\r\nSubject: Automatic reply: hello\r\n\r\nAway.\r\n'));
    expect(subjectOnly.AutoReply).toEqual({ Detected: true, Reason: 'Subject: Automatic reply: hello' });
  });

  describe('malformed MIME still gives a body, with ErrorLog', () => {
    it('a multipart without its closing boundary', async () => {
      const body = await build(fixture('unclosed-multipart.eml'));
      expect(body.ErrorLog).toMatch(/boundary "XYZ" is never closed/);
      expect(body.Message.TextBody).toBe('Text before the attachment.');
      expect(body.Message.Attachments).toHaveLength(1);
      expect(Buffer.from(body.Message.Attachments[0]!.Content, 'base64').equals(Buffer.from([0, 1, 2, 3, 4, 5]))).toBe(true);
    });

    it('a base64 part with characters outside the alphabet', async () => {
      const body = await build(fixture('broken-base64.eml'));
      expect(body.ErrorLog).toMatch(/MIME part \d+: base64 content has characters outside the base64 alphabet/);
      expect(body.Message.TextBody).toBe('See the attachment.');
      expect(body.Message.Attachments.map((a) => a.Name)).toEqual(['report.pdf']);
      // What could be decoded is kept (the junk characters skipped).
      expect(Buffer.from(body.Message.Attachments[0]!.Content, 'base64').subarray(0, 5).toString()).toBe('%PDF-');
    });

    it('a truncated base64 part', async () => {
      const raw = Buffer.from(
        'From: a@example.net\r\nTo: b@customer.example\r\nSubject: cut\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\nAAECAwQ\r\n',
      );
      const body = await build(raw);
      expect(body.ErrorLog).toMatch(/base64 content is truncated \(7 symbols/);
      expect(body.Message.Attachments).toHaveLength(1);
    });

    it('garbage lines in the header block', async () => {
      const body = await build(fixture('garbage-headers.eml'));
      expect(body.ErrorLog).toContain('header line 2 is not a field: "this line is not a header at all"');
      expect(body.ErrorLog).toContain('header line 5 is not a field: "@@@@"');
      expect(body.Message.CustomHeaders.map((h) => h.Name)).toEqual(['From', 'To', 'Subject', 'X-After']);
      expect(body.Message.From?.EmailAddress).toBe('sender@example.net');
    });
  });

  describe('Authentication against DNS on loopback', () => {
    const key = generateDkimKey('signed.example', 'sel1');
    const message = () =>
      Buffer.from(
        [
          'From: Signer <news@signed.example>',
          'To: inbox@customer.example',
          'Subject: Signed news',
          'Message-ID: <n1@signed.example>',
          'Date: Mon, 20 May 2024 09:00:52 -0500',
          '',
          'The signed body.',
          '',
        ].join('\r\n'),
      );

    beforeAll(() => {
      dns.set('sel1._domainkey.signed.example', { TXT: [`v=DKIM1; k=rsa; p=${key.publicKeyBase64}`] });
      dns.set('_dmarc.signed.example', { TXT: ['v=DMARC1; p=reject'] });
      dns.set('signed.example', { TXT: ['v=spf1 ip4:127.0.0.1 -all'] });
    });

    it('DKIM passes for a signed message whose key is published, and fails once a signed header is altered', async () => {
      const signed = await signMessage(message(), [key]);
      const ok = await build(signed, { mailFrom: 'bounce@signed.example' });
      expect(ok.Authentication.Dkim).toEqual([{ Result: 'pass', Domain: 'signed.example', Selector: 'sel1' }]);
      expect(ok.Authentication.Dmarc).toEqual({ Result: 'pass', Policy: 'reject', Domain: 'signed.example' });
      expect(ok.Authentication.Header).toMatch(/^mx\.postline\.test;.*dkim=pass.*header\.d=signed\.example/);

      const altered = Buffer.from(signed.toString().replace('Subject: Signed news', 'Subject: Altered news'));
      const bad = await build(altered, { mailFrom: 'bounce@signed.example', remoteIp: '192.0.2.55' });
      expect(bad.Authentication.Dkim.map((d) => [d.Result, d.Domain])).toEqual([['fail', 'signed.example']]);
      expect(bad.Authentication.Dmarc.Result).toBe('fail');
    });

    it('SPF passes from an address the record lists and fails from another', async () => {
      const pass = await build(message(), { mailFrom: 'bounce@signed.example', remoteIp: '127.0.0.1' });
      expect(pass.Authentication.Spf).toEqual({ Result: 'pass', Domain: 'signed.example' });
      const fail = await build(message(), { mailFrom: 'bounce@signed.example', remoteIp: '192.0.2.55' });
      expect(fail.Authentication.Spf).toEqual({ Result: 'fail', Domain: 'signed.example' });
      expect(fail.Authentication.Dkim.map((d) => d.Result)).toEqual(['none']);
      expect(dns.asked('TXT signed.example')).toBeGreaterThan(0);
    });
  });

  it('a DNS outage gives temperror verdicts, not a failed build', async () => {
    // A UDP port nobody listens on: every lookup is refused.
    const sock = createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
    const dead = `127.0.0.1:${sock.address().port}`;
    await new Promise<void>((r) => sock.close(() => r()));
    const offline = createInboundParser({ dns: dnsLookup([dead]), dnsServers: [dead], hostname: 'mx.postline.test', threads: 1 });
    try {
      const body = JSON.parse((await offline.build(fixture('reply.eml'), envelope({ mailFrom: 'customer@example.org' }))).toString()) as Body;
      expect(body.Authentication.Spf.Result).toBe('temperror');
      expect(body.Authentication.Dmarc.Result).toBe('temperror');
      expect(body.Message.ReplyText).toBe('Thanks, that fixed it.');
      expect(body.ErrorLog).toBeNull();
    } finally {
      await offline.close();
    }
  });
});
