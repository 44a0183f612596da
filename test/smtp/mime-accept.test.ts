import { describe, expect, it } from 'vitest';
import { buildSmtpMessage, decodeEncodedWords, headerText, normalizeLineEnds, rfc5322Date, splitHeaders } from '../../src/smtp/mime-accept.js';

const NOW = Date.UTC(2025, 10, 4, 10, 0, 0);
const env = { serverId: 10001, mailFrom: 'bounce@example.com', rcptTo: ['one@example.net', 'Two@Example.net', 'two@example.net', 'blind@example.org'] };
/** The stored raw MIME as one character per byte (what the tests compare). */
const text = (b: Buffer | null | undefined): string => b!.toString('latin1');
const build = (text: string | Buffer, e: Partial<typeof env> = {}) =>
  buildSmtpMessage(typeof text === 'string' ? Buffer.from(text) : text, { ...env, ...e }, { now: NOW, hostname: 'smtp.postline.test' });

describe('line ends', () => {
  it('turns bare LF and bare CR into CRLF and leaves CRLF alone', () => {
    expect(normalizeLineEnds('a\nb\rc\r\nd\n\re')).toBe('a\r\nb\r\nc\r\nd\r\n\r\ne');
    expect(normalizeLineEnds('a\r\nb\r\n')).toBe('a\r\nb\r\n');
    expect(normalizeLineEnds('a\r\r\nb')).toBe('a\r\n\r\nb');
  });
});

describe('header section', () => {
  it('keeps folded fields whole and stops at the empty line', () => {
    const { fields, body } = splitHeaders('Subject: one\r\n two\r\nX-A:b\r\n\r\nbody: not a header\r\n');
    expect(fields).toEqual([
      { name: 'Subject', raw: 'Subject: one\r\n two\r\n', value: 'one two' },
      { name: 'X-A', raw: 'X-A:b\r\n', value: 'b' },
    ]);
    expect(body).toBe('\r\nbody: not a header\r\n');
  });

  it('ends at a line that is not a field', () => {
    const { fields, body } = splitHeaders('Subject: s\r\nthis is text\r\n');
    expect(fields.map((f) => f.name)).toEqual(['Subject']);
    expect(body).toBe('this is text\r\n');
  });

  it('decodes RFC 2047 words, joining adjacent ones of one charset', () => {
    expect(decodeEncodedWords('=?UTF-8?B?SGVsbG8g4pyT?=')).toBe('Hello ✓');
    expect(decodeEncodedWords('=?utf-8?q?caf=C3?= =?utf-8?q?=A9_au_lait?= ok')).toBe('café au lait ok');
    expect(decodeEncodedWords('Re: =?ISO-8859-1?Q?Gr=FC=DFe?= from =?x-unknown?Q?a?=')).toBe('Re: Grüße from a');
    expect(decodeEncodedWords('plain =? text')).toBe('plain =? text');
  });

  it('writes RFC 5322 dates', () => {
    expect(rfc5322Date(NOW)).toBe('Tue, 04 Nov 2025 10:00:00 +0000');
  });
});

describe('buildSmtpMessage', () => {
  const mime = [
    'From: "Sender, Inc." <sender@example.com>',
    'To: One <one@example.net>, group: two@example.net;',
    'Cc: =?UTF-8?Q?J=C3=BCrgen?= <two@example.net>',
    'Bcc: blind@example.org',
    'Subject: =?UTF-8?B?SGVsbG8g4pyT?=',
    'X-xsMessageId: msg-1',
    'x-XSMAILINGID:  mail-1 ',
    'Date: Mon, 03 Nov 2025 09:00:00 +0000',
    'Message-ID: <a@b>',
    '',
    'Hi.',
    '',
  ].join('\r\n');

  it('reads the template from the headers, removes the X-xs and Bcc headers and keeps the rest byte for byte', () => {
    const r = build(mime);
    if (!r.ok) throw new Error(r.reply);
    const m = r.message;
    expect(m).toMatchObject({ serverId: 10001, createdAt: NOW, source: 'smtp', isMerge: false, metadata: [], tags: [] });
    expect(m.template).toMatchObject({
      from: { email: 'sender@example.com', name: 'Sender, Inc.' },
      to: [
        { email: 'one@example.net', name: 'One' },
        { email: 'two@example.net', name: null },
      ],
      cc: [{ email: 'two@example.net', name: 'Jürgen' }],
      bcc: [{ email: 'blind@example.org', name: null }],
      subject: 'Hello ✓',
      messageId: 'msg-1',
      mailingId: 'mail-1',
      replyTo: null,
      textBody: null,
      htmlBody: null,
      ampBody: null,
      charset: null,
      headers: [],
      attachments: [],
      globalMerge: [],
    });
    expect(text(m.template.rawMime)).toBe(
      [
        'From: "Sender, Inc." <sender@example.com>',
        'To: One <one@example.net>, group: two@example.net;',
        'Cc: =?UTF-8?Q?J=C3=BCrgen?= <two@example.net>',
        'Subject: =?UTF-8?B?SGVsbG8g4pyT?=',
        'Date: Mon, 03 Nov 2025 09:00:00 +0000',
        'Message-ID: <a@b>',
        '',
        'Hi.',
        '',
      ].join('\r\n'),
    );
    expect(m.sizeBytes).toBe(m.template.rawMime!.length);
    // One delivery per envelope address (case-insensitive); the kind says where the header listed it.
    expect(m.recipients.map((x) => [x.address, x.kind, x.messageId, x.mailingId, x.merge])).toEqual([
      ['one@example.net', 'to', 'msg-1', 'mail-1', null],
      ['Two@Example.net', 'to', 'msg-1', 'mail-1', null],
      ['blind@example.org', 'bcc', 'msg-1', 'mail-1', null],
    ]);
  });

  it('completes From, Date and Message-ID from the envelope and the clock when missing', () => {
    const r = build('Subject: s\nX-Other: 1\n\nbody\n');
    if (!r.ok) throw new Error(r.reply);
    expect(r.message.template.from).toEqual({ email: 'bounce@example.com', name: null });
    expect(text(r.message.template.rawMime)).toBe(
      'Subject: s\r\nX-Other: 1\r\nFrom: <bounce@example.com>\r\nDate: Tue, 04 Nov 2025 10:00:00 +0000\r\n' +
        `Message-ID: <${r.message.id}@smtp.postline.test>\r\n\r\nbody\r\n`,
    );
    expect(r.message.template.messageId).toBeNull();
    expect(r.message.recipients.every((x) => x.mailingId === null && x.messageId === null)).toBe(true);
  });

  it('uses MAIL FROM when the From header has no usable address, without adding a second From', () => {
    const r = build('From: undisclosed\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\nb\r\n');
    if (!r.ok) throw new Error(r.reply);
    expect(r.message.template.from.email).toBe('bounce@example.com');
    expect(text(r.message.template.rawMime).match(/^From:/gim)).toHaveLength(1);
  });

  it('gives a message without a header section an empty line before its text', () => {
    const r = build('just text\r\n');
    if (!r.ok) throw new Error(r.reply);
    expect(text(r.message.template.rawMime)).toMatch(/^From: <bounce@example\.com>\r\nDate: .*\r\nMessage-ID: .*\r\n\r\njust text\r\n$/);
  });

  it('refuses what it cannot store faithfully or deliver', () => {
    expect(build('')).toEqual({ ok: false, code: 554, reply: '5.6.0 Empty message' });
    expect(build('Subject: a\0b\r\n\r\n')).toEqual({ ok: false, code: 554, reply: '5.6.0 Message contains NUL characters' });
    expect(build(`X-xsMessageId: ${'x'.repeat(256)}\r\n\r\n`)).toEqual({ ok: false, code: 554, reply: '5.6.0 X-xsMessageId is longer than 255 characters' });
    expect(build('Subject: s\r\n\r\n', { mailFrom: '' })).toEqual({
      ok: false,
      code: 550,
      reply: '5.1.7 No sender: the From header has no valid address and MAIL FROM is empty',
    });
  });

  it('accepts UTF-8 (SMTPUTF8 / 8BITMIME) as is', () => {
    const r = build('From: José <jose@example.com>\r\nSubject: Grüße\r\n\r\nÄ\r\n');
    if (!r.ok) throw new Error(r.reply);
    expect(r.message.template).toMatchObject({ subject: 'Grüße', from: { email: 'jose@example.com', name: 'José' } });
    expect(r.message.template.rawMime!.includes(Buffer.from('\r\n\r\nÄ\r\n'))).toBe(true);
  });

  it('keeps 8-bit bytes of any charset exactly, headers and body, and reads header fields from them', () => {
    // ISO-8859-1 (raw in the header too, as legacy software writes it), Shift_JIS, and bytes that are no charset at all.
    const latin1 = Buffer.from(
      'From: Jos\xe9 <jose@example.com>\r\nSubject: caf\xe9 cr\xe8me\r\nContent-Type: text/plain; charset=iso-8859-1\r\n' +
        'Content-Transfer-Encoding: 8bit\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\nGr\xfc\xdfe, \xe0 bient\xf4t\r\n',
      'latin1',
    );
    const sjis = Buffer.concat([
      Buffer.from('From: a@example.com\r\nSubject: sjis\r\nDate: x\r\nMessage-ID: <a@b>\r\nContent-Type: text/plain; charset=Shift_JIS\r\n\r\n'),
      Buffer.from([0x82, 0xb1, 0x82, 0xf1, 0x82, 0xc9, 0x82, 0xbf, 0x82, 0xcd, 0x0d, 0x0a, 0x83, 0x5c, 0x0d, 0x0a]),
    ]);
    const broken = Buffer.concat([
      Buffer.from('From: a@example.com\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\n'),
      Buffer.from([0xc3, 0x28, 0xff, 0xfe, 0x80, 0x0d, 0x0a]),
    ]);
    for (const raw of [latin1, sjis, broken]) {
      const r = build(raw);
      if (!r.ok) throw new Error(r.reply);
      expect(r.message.template.rawMime!.equals(raw)).toBe(true);
      expect(r.message.sizeBytes).toBe(raw.length);
    }
    const r = build(latin1);
    if (!r.ok) throw new Error(r.reply);
    expect(r.message.template).toMatchObject({ subject: 'café crème', from: { email: 'jose@example.com', name: 'José' } });
  });

  it('adds a From from a UTF-8 MAIL FROM as UTF-8 bytes', () => {
    const r = build('Subject: s\r\nDate: x\r\nMessage-ID: <a@b>\r\n\r\nb\r\n', { mailFrom: 'jöran@bücher.example' });
    if (!r.ok) throw new Error(r.reply);
    expect(r.message.template.rawMime!.toString('utf8')).toBe('Subject: s\r\nDate: x\r\nMessage-ID: <a@b>\r\nFrom: <jöran@bücher.example>\r\n\r\nb\r\n');
  });
});

describe('header text', () => {
  it('reads UTF-8 bytes as UTF-8 and other 8-bit bytes as ISO-8859-1', () => {
    expect(headerText('plain')).toBe('plain');
    expect(headerText(Buffer.from('Grüße ✓').toString('latin1'))).toBe('Grüße ✓');
    expect(headerText('caf\xe9 cr\xe8me')).toBe('café crème');
  });
});
