import MailComposer from 'nodemailer/lib/mail-composer';
import { simpleParser } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { compileTemplateMime, type RecipientHeaders } from '../../src/compose/template-mime.js';
import type { MessageTemplate } from '../../src/core/message.js';

/**
 * The compile-once composer must produce what nodemailer's MailComposer produces for the same
 * message (same boundaries, quoted-printable text parts): compared byte for byte, except where
 * quoted-printable lines are soft-wrapped (the composer's stream wraps at chunk-dependent places;
 * both are valid), so soft line breaks are joined before comparing.
 */
const unwrapSoftBreaks = (b: Buffer) => b.toString('latin1').replace(/=\r\n/g, '');
const base: MessageTemplate = {
  from: { email: 'news@example.com', name: null },
  replyTo: null,
  to: [],
  cc: [],
  subject: '',
  textBody: null,
  htmlBody: null,
  ampBody: null,
  headers: [],
  attachments: [],
  charset: null,
  globalMerge: [],
  messageId: null,
  mailingId: null,
  rawMime: null,
} as unknown as MessageTemplate;

function reference(t: MessageTemplate, h: RecipientHeaders, parts: { text?: string; html?: string; amp?: string }, baseBoundary: string): Promise<Buffer> {
  const charset = t.charset ?? 'utf-8';
  const part = (content: string | undefined, type: string) =>
    content === undefined ? undefined : { content, contentType: `${type}; charset=${charset}`, contentTransferEncoding: 'quoted-printable' };
  return new MailComposer({
    from: h.from,
    to: h.to,
    cc: h.cc,
    replyTo: h.replyTo,
    subject: h.subject,
    messageId: h.messageId,
    date: h.date,
    headers: h.headers,
    text: part(parts.text, 'text/plain'),
    html: part(parts.html, 'text/html'),
    amp: part(parts.amp, 'text/x-amp-html'),
    attachments: t.attachments.map((a) => ({
      filename: a.name,
      content: Buffer.from(a.content, 'base64'),
      contentType: a.contentType,
      cid: a.contentId ?? undefined,
      contentDisposition: a.contentId ? ('inline' as const) : ('attachment' as const),
      headers: a.headers.map((x) => ({ key: x.name, value: x.value })),
    })),
    newline: 'win',
    xMailer: false,
    disableFileAccess: true,
    disableUrlAccess: true,
    baseBoundary,
  })
    .compile()
    .build();
}

const headers = (over: Partial<RecipientHeaders> = {}): RecipientHeaders => ({
  from: { name: 'News, Inc. "Ünïcode"', address: 'news@example.com' },
  to: [{ name: 'Ann Æsir', address: 'ann@example.net' }],
  subject: 'Hello Ann — your code 🎉 is ready',
  messageId: '<01abc@postline.test>',
  date: new Date('2026-11-23T12:00:00Z'),
  headers: [{ key: 'X-Campaign', value: 'spring' }],
  ...over,
});

const longLine = 'word '.repeat(60);
const cases: [string, MessageTemplate, Partial<Record<'text' | 'html' | 'amp', string>>, Partial<RecipientHeaders>][] = [
  ['plain text only', { ...base, textBody: 'x' }, { text: 'Hello Ann.\nBye.' }, {}],
  [
    'text and HTML, unicode, long lines, leading dots, trailing spaces',
    { ...base, textBody: 'x', htmlBody: 'y' },
    { text: `Grüße ${longLine}\n.leading dot\ntrailing   \n\nend`, html: `<p>Grüße 🎉</p>\n<p>${longLine}</p>\r\n.<b>dot</b>` },
    {},
  ],
  [
    'attachments, an inline image, AMP, cc and reply-to',
    {
      ...base,
      textBody: 'x',
      htmlBody: 'y',
      ampBody: 'z',
      attachments: [
        { name: 'report.pdf', contentType: 'application/pdf', content: Buffer.alloc(3000, 7).toString('base64'), contentId: null, headers: [] },
        {
          name: 'logo.png',
          contentType: 'image/png',
          content: Buffer.from('png-bytes').toString('base64'),
          contentId: 'logo@x',
          headers: [{ name: 'X-Att', value: '1' }],
        },
      ],
    } as unknown as MessageTemplate,
    { text: 'T', html: '<img src="cid:logo@x">', amp: '<html ⚡4email><body>A</body></html>' },
    { cc: ['c@example.org'], replyTo: { name: 'Help', address: 'help@example.com' } },
  ],
  ['HTML only', { ...base, htmlBody: 'y' }, { html: '<p></p>' }, { to: ['bare@example.net'], headers: [] }],
  // A UTF-8 local part cannot be encoded in a header: it is written as UTF-8 (RFC 6532), as MailComposer writes it.
  ['UTF-8 addresses (SMTPUTF8)', { ...base, textBody: 'x' }, { text: 'hi' }, { to: ['jöran@example.com', '用户@例子.广告', 'user@bücher.example'] }],
];

describe('compile-once MIME matches MailComposer', () => {
  for (const [name, t, parts, over] of cases) {
    it(name, async () => {
      const compiled = await compileTemplateMime(t, { baseBoundary: 'fixedboundary' });
      const h = headers(over);
      const ours = compiled.render(h, parts);
      const theirs = await reference(t, h, parts, 'fixedboundary');
      expect(unwrapSoftBreaks(ours)).toBe(unwrapSoftBreaks(theirs));
      // RFC 2045 §6.7: encoded lines at most 76 characters; RFC 5322: no line over 998.
      for (const line of ours.toString('latin1').split('\r\n')) expect(line.length).toBeLessThanOrEqual(998);
      const body = ours.toString('latin1').slice(ours.indexOf('\r\n\r\n'));
      for (const line of body.split('\r\n')) expect(line.length).toBeLessThanOrEqual(76);
    });
  }

  it('renders many recipients from one compile, each with its own fields, and mail parsers read them back', async () => {
    const t = { ...base, textBody: 'x', htmlBody: 'y' } as MessageTemplate;
    const compiled = await compileTemplateMime(t);
    for (const [name, addr] of [
      ['Ann', 'ann@example.net'],
      ['Björn', 'bjorn@example.net'],
    ] as const) {
      const parsed = await simpleParser(
        compiled.render(headers({ to: [{ name, address: addr }], subject: `Hi ${name}` }), { text: `Dear ${name}`, html: `<p>Dear ${name}</p>` }),
      );
      expect(parsed.subject).toBe(`Hi ${name}`);
      expect((parsed.to as { value: { address: string; name: string }[] }).value[0]).toEqual({ address: addr, name });
      expect(parsed.text?.trim()).toBe(`Dear ${name}`);
      expect(String(parsed.html).trim()).toBe(`<p>Dear ${name}</p>`);
    }
  });

  it('keeps a custom header name as the sender spelled it (the composer alone re-cases testMessageHeader to Testmessageheader)', async () => {
    const t = { ...base, textBody: 'x' } as MessageTemplate;
    const compiled = await compileTemplateMime(t);
    const h = headers({
      headers: [
        { key: 'testMessageHeader', value: 'one' },
        { key: 'X-sdk-TRACE', value: 'two' },
      ],
    });
    const head = compiled.render(h, { text: 'hi' }).toString('latin1').split('\r\n\r\n')[0]!.split('\r\n');
    expect(head).toContain('testMessageHeader: one');
    expect(head).toContain('X-sdk-TRACE: two');
    const theirs = (await reference(t, h, { text: 'hi' }, 'b')).toString('latin1');
    expect(theirs).toContain('Testmessageheader: one'); // what the library alone writes
    // Everything but the names is the composer's: parsers read the same values.
    const parsed = await simpleParser(compiled.render(h, { text: 'hi' }));
    expect(parsed.headers.get('testmessageheader')).toBe('one');
  });

  it('a part text that contains the placeholder pattern is encoded as text, not taken as a slot', async () => {
    const t = { ...base, textBody: 'x' } as MessageTemplate;
    const compiled = await compileTemplateMime(t);
    const parsed = await simpleParser(compiled.render(headers(), { text: 'POSTLINEPARTdeadbeefdeadbeefTEXT' }));
    expect(parsed.text?.trim()).toBe('POSTLINEPARTdeadbeefdeadbeefTEXT');
  });

  it('renders the same template to the same bytes on every compile (a retry sends what the first attempt sent), and another template to other boundaries', async () => {
    const t = { ...base, textBody: 'x', htmlBody: 'y' } as MessageTemplate;
    const once = (await compileTemplateMime(t)).render(headers(), { text: 'T', html: '<p>H</p>' });
    const again = (await compileTemplateMime({ ...t })).render(headers(), { text: 'T', html: '<p>H</p>' });
    expect(again.equals(once)).toBe(true);
    const boundary = (b: Buffer) => /boundary="([^"]+)"/.exec(b.toString('latin1'))![1];
    const other = (await compileTemplateMime({ ...t, subject: `${t.subject} (2)` })).render(headers(), { text: 'T', html: '<p>H</p>' });
    expect(boundary(other)).not.toBe(boundary(once));
  });
});
