import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink, type SunkMessage } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { prepareSdkExamples, type SdkExamples } from '../helpers/sdk-examples.js';

/**
 * Every example program of the official Node client (@socketlabs/email's examples/), unmodified,
 * sending to Postline (only the host swapped, see helpers/sdk-examples.ts): each one's messages
 * reach the SMTP sink with the content the program put in them. The examples mail @example.com,
 * which the fake DNS points at the sink. They run one after another, so the sink's new messages
 * after each run are that example's.
 */
interface Delivered {
  rcpt: string;
  raw: string;
  mail: ParsedMail;
}

const require = createRequire(import.meta.url);
const BASIC_TO = ['recipient1@example.com', 'recipient2@example.com', 'recipient3@example.com', 'recipient4@example.com', 'recipient5@example.com'];
const numbered = (prefix: string) => [1, 2, 3, 4, 5].map((n) => `${prefix}${n}@example.com`);

describe(`the official Node client's example programs run unmodified against Postline (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let examples: SdkExamples;
  let busPng: Buffer;
  let sampleHtml: string;

  /** Runs an example, expects the client's promise to resolve, and returns what the sink got for `recipients`. */
  async function sends(example: string, recipients: string[], cwd?: string): Promise<Map<string, Delivered>> {
    const start = sink.messages.length;
    const r = await examples.run(example, cwd);
    expect(r.stdout, `${example}\n${r.stdout}\n${r.stderr}`).toContain('Promise resolved');
    expect(r.stdout).toContain("name: 'Success'");
    const fresh = (): SunkMessage[] => sink.messages.slice(start);
    for (let i = 0; i < 800 && fresh().length < recipients.length; i++) await new Promise((res) => setTimeout(res, 25));
    const got = new Map<string, Delivered>();
    for (const m of fresh()) {
      for (const rcpt of m.rcptTo) got.set(rcpt, { rcpt, raw: m.data.toString('utf8'), mail: await simpleParser(m.data) });
    }
    expect([...got.keys()].sort(), example).toEqual([...recipients].sort());
    return got;
  }
  const only = (got: Map<string, Delivered>) => [...got.values()][0]!;
  const storedMessages = () => countRows(t.db, 'messages');

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port },
      dns: fakeDns({ 'example.com': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
    });
    examples = prepareSdkExamples(t.url, t.credentials.serverId, t.credentials.apiKey);
    busPng = readFileSync(join(examples.root, 'examples', 'img', 'bus.png'));
    sampleHtml = readFileSync(join(examples.root, 'examples', 'html', 'SampleEmail.html'), 'utf8');
  });
  afterAll(async () => {
    examples?.remove();
    await t?.close();
    await sink?.close();
  });

  it('basic/basicSend.js: five To recipients, Reply-To, HTML and text', async () => {
    const got = await sends('basic/basicSend.js', BASIC_TO);
    const m = got.get('recipient3@example.com')!.mail;
    expect(m.subject).toBe('Sending A Test Message (Basic Send)');
    expect(m.replyTo?.value).toEqual([{ address: 'replyto@example.com', name: '' }]);
    expect(m.text!.trim()).toBe('This is the Plain Text Body of my message.');
    expect(m.html).toContain('<h1>Sending A Test Message</h1>');
    expect((m.to as { value: { address: string; name: string }[] }).value).toContainEqual({ address: 'recipient3@example.com', name: 'Recipient #3' });
  });

  it('basic/basicSendComplexExample.js: To, Cc and Bcc, attachments (one inline), custom headers with their case, metadata and tags', async () => {
    const got = await sends('basic/basicSendComplexExample.js', [...BASIC_TO, ...numbered('cc_recipients'), ...numbered('bcc_recipients')]);
    const d = got.get('cc_recipients4@example.com')!;
    expect(d.mail.subject).toBe('Sending A Complex Test Message (Basic Send)');
    expect(d.mail.html).toContain('<p>例 (example)</p>');
    expect(d.mail.text!.trim()).toBe('This is the Plain Text Body of my message.');
    expect(d.mail.attachments.map((a) => [a.filename, a.contentId ?? null])).toEqual([
      ['bus2', '<bus>'],
      ['bus.png', null],
      ['SampleEmail.html', null],
    ]);
    for (const a of d.mail.attachments.filter((x) => x.filename !== 'SampleEmail.html')) expect(a.content.equals(busPng)).toBe(true);
    expect(d.mail.attachments.find((a) => a.filename === 'SampleEmail.html')!.content.toString('utf8')).toBe(sampleHtml);
    expect(d.raw).toMatch(/^testMessageHeader: I am a message header\r$/m);
    expect(d.mail.headers.get('example-type')).toBe('basic-send-complex');
    expect(d.mail.headers.get('message-has-attachments')).toBe('true');
    expect(d.mail.replyTo!.value[0]!.address).toBe('replyto@example.com');
    expect(d.mail.headers.get('bcc')).toBeUndefined();
    const id = (await t.store.events.list({ limit: 1_000_000 })).findLast((e) => e.type === 'Queued')!.messageId;
    const stored = (await t.store.queue.getMessage(id))!;
    // The entry the example builds with `name` instead of `key` has no Key and is dropped, not refused.
    expect(stored.metadata).toEqual([
      { key: 'example-type', value: 'basic-send-complex' },
      { key: 'message-has-attachments', value: 'true' },
      { key: 'testMessageHeader', value: 'I am metadata' },
    ]);
    expect(stored.tags).toEqual(['example-type:basic-send-complex', 'has-attachments:true', 'I am a test message', 'nodejs-Example']);
    expect((await t.store.queue.listRecipients(id)).map((r) => [r.mailingId, r.messageId_])).toContainEqual(['BasicSend', 'ComplexExample']);
  });

  it('basic/basicSendFromHtmlFile.js (run from the package root, as its path says): the file is the HTML body', async () => {
    const got = await sends('basic/basicSendFromHtmlFile.js', ['recipient@example.com'], '.');
    const m = only(got).mail;
    expect(m.subject).toBe('Sending An Email With Body From Html File');
    expect((m.html as string).replace(/\r\n/g, '\n').trim()).toBe(sampleHtml.replace(/\r\n/g, '\n').trim());
  });

  it('basic/basicSendWithASCIICharset.js', async () => {
    const m = only(await sends('basic/basicSendWithASCIICharset.js', ['recipient@example.com'])).mail;
    expect(m.subject).toBe('Sending A ASCII CharSet Email');
    expect(m.html).toContain('<h1>Sending A ASCII CharSet Email</h1>');
  });

  it('basic/basicSendWithAmpBodyExample.js: the HTML arrives (this client version never sends the AMP body)', async () => {
    const d = only(await sends('basic/basicSendWithAmpBodyExample.js', ['recipient@example.com']));
    expect(d.mail.subject).toBe('Sending A Test Message (Basic Send with Amp)');
    expect(d.mail.html).toContain('This HTML will show if AMP is not supported.');
    expect(d.raw).not.toContain('text/x-amp-html');
  });

  it("basic/basicSendWithApiTemplate.js: template 1, created first, is rendered under the message's subject", async () => {
    const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    const created = await v2<{ data: { templateId: number } }>(t, 'POST', `/servers/${t.credentials.serverId}/templates`, {
      key,
      body: {
        name: 'Example template',
        subject: 'unused: the message has one',
        htmlBody: '<html><body><h1>From template 1</h1></body></html>',
        textBody: 'From template 1',
      },
    });
    // The example names template 1: on this fresh database the first template is that id.
    expect(created.body.data.templateId).toBe(1);
    const m = only(await sends('basic/basicSendWithApiTemplate.js', ['recipient@example.com'])).mail;
    expect(m.subject).toBe('Sending An Email Using a Template');
    expect(m.html).toContain('<h1>From template 1</h1>');
    expect(m.text!.trim()).toBe('From template 1');
  });

  it('basic/basicSendWithAttachment.js: the PNG with its own custom header', async () => {
    const d = only(await sends('basic/basicSendWithAttachment.js', ['recipient@example.com']));
    expect(d.mail.attachments).toHaveLength(1);
    expect(d.mail.attachments[0]!).toMatchObject({ filename: 'bus.png', contentType: 'image/png' });
    expect(d.mail.attachments[0]!.content.equals(busPng)).toBe(true);
    expect(d.mail.attachments[0]!.headers.get('myheader')).toBe('myValue');
  });

  it('basic/basicSendWithCustomHeaders.js', async () => {
    const d = only(await sends('basic/basicSendWithCustomHeaders.js', ['recipient1@example.com']));
    expect(d.raw).toMatch(/^My-Header: 1\.\.\.2\.\.\.3\.\.\.\r$/m);
    expect(d.raw).toMatch(/^Example-Type: BasicSendWithCustomHeaders\r$/m);
  });

  it('basic/basicSendWithEmbeddedImage.js (run from the package root, as its path says): the image is inline as cid:bus', async () => {
    const m = only(await sends('basic/basicSendWithEmbeddedImage.js', ['recipient@example.com'], '.')).mail;
    // mailparser swaps a cid: reference it can resolve for the attachment's data: the image is linked.
    expect(m.html).toContain('<img src="data:image/png;base64,');
    expect(m.attachments.map((a) => [a.filename, a.contentId, a.related])).toEqual([['bus.png', '<bus>', true]]);
    expect(m.attachments[0]!.content.equals(busPng)).toBe(true);
  });

  it('basic/basicSendWithProxy.js and basicSendWithRetry.js', async () => {
    for (const example of ['basic/basicSendWithProxy.js', 'basic/basicSendWithRetry.js']) {
      expect(only(await sends(example, ['recipient@example.com'])).mail.subject).toBe('Sending An Email Through A Proxy');
    }
  });

  it('basic/invalid/: each is refused (the attachment without content by Postline, the others by the client) and nothing is queued', async () => {
    const before = await storedMessages();
    const cases = [
      ['basic/invalid/basicSendWithInvalidAttachment.js', "name: 'InvalidAttachment'"],
      ['basic/invalid/basicSendWithInvalidFrom.js', "name: 'EmailAddressValidationInvalidFrom'"],
      ['basic/invalid/basicSendWithInvalidRecipients.js', "name: 'RecipientValidationInvalidRecipients'"],
    ] as const;
    for (const [example, result] of cases) {
      const r = await examples.run(example);
      expect(r.stdout, example).toContain('Promise rejected');
      expect(r.stdout, example).toContain(result);
    }
    expect(await storedMessages()).toBe(before);
  });

  it('bulk/bulkSend.js: one message per recipient, each addressed to itself', async () => {
    const got = await sends('bulk/bulkSend.js', BASIC_TO);
    for (const [rcpt, d] of got) {
      expect(d.mail.subject).toBe('Sending A Test Message (Bulk Send)');
      expect((d.mail.to as { value: { address: string }[] }).value.map((a) => a.address)).toEqual([rcpt]);
    }
    expect((got.get('recipient5@example.com')!.mail.to as { value: { name: string }[] }).value[0]!.name).toBe('Recipient #5');
  });

  it('bulk/bulkSendComplexExample.js: per-recipient merge values over the global ones, an empty value stays empty', async () => {
    const got = await sends('bulk/bulkSendComplexExample.js', [
      'recipient1@example.com',
      'recipient2@example.com',
      'recipient3@example.com',
      'recipient4@example.com',
    ]);
    const text = (rcpt: string) => got.get(rcpt)!.mail.text!;
    expect(text('recipient1@example.com')).toContain('Birthday = 08/05/1991');
    expect(text('recipient1@example.com')).toContain('Age = 27');
    expect(text('recipient1@example.com')).toContain('UpSell = BTW:  You are eligible for discount pricing when you upgrade your service!');
    expect(text('recipient2@example.com')).toContain('Birthday = 04/12/1984');
    expect(text('recipient2@example.com')).toMatch(/UpSell = \s+Example of Merge Usage/);
    expect(text('recipient3@example.com')).toContain('you are 40 years old');
    expect(text('recipient4@example.com')).toContain('Your birthday is Unknown and you are an unknown number of years old.');
    for (const d of got.values()) {
      expect(d.mail.text).not.toContain('%%');
      expect(d.mail.html).toContain("Our company motto is '<b>When hitting the Inbox matters!</b>'");
      expect(d.mail.attachments.map((a) => a.filename)).toEqual(['bus.png', 'sampleemail.html']);
      expect(d.raw).toMatch(/^testMessageHeader: I am a message header\r$/m);
    }
  });

  it('bulk/bulkSendFromDataSourceWithMerge.js: every customer of the example repository gets their own fields', async () => {
    const Repository = require(join(examples.root, 'examples', 'datasource', 'customerRepository.js')) as new () => {
      getCustomers(): { firstName: string; lastName: string; emailAddress: string; favoriteColor: string }[];
    };
    const customers = new Repository().getCustomers();
    const got = await sends(
      'bulk/bulkSendFromDataSourceWithMerge.js',
      customers.map((c) => c.emailAddress),
    );
    for (const c of customers) {
      const m = got.get(c.emailAddress)!.mail;
      expect(m.subject).toBe(`Hello ${c.firstName}`);
      expect(m.html).toContain(`<h2>Hello ${c.firstName} ${c.lastName}.</h2>`);
      expect(m.text).toContain(`Is your favorite color still ${c.favoriteColor}?`);
    }
  });

  it('bulk/bulkSendWithASCIICharsetMergeData.js', async () => {
    const got = await sends('bulk/bulkSendWithASCIICharsetMergeData.js', ['recipient1@example.com', 'recipient2@example.com', 'recipient3@example.com']);
    expect(got.get('recipient1@example.com')!.mail.subject).toBe('Sending A Test Message With ASCII Charset Merge Data');
    for (const d of got.values()) expect(d.mail.text).not.toContain('%%');
  });

  it('bulk/bulkSendWithAmpBodyExample.js', async () => {
    const got = await sends('bulk/bulkSendWithAmpBodyExample.js', ['recipient1@example.com', 'recipient2@example.com']);
    for (const d of got.values()) expect(d.mail.html).toContain('<h1>Sending A Test Message</h1>');
  });

  it('bulk/bulkSendWithMergeData.js', async () => {
    const got = await sends('bulk/bulkSendWithMergeData.js', [
      'recipient1@example.com',
      'recipient2@example.com',
      'recipient3@example.com',
      'recipient4@example.com',
    ]);
    expect(got.get('recipient1@example.com')!.mail.text).toContain('EyeColor = Blue');
    expect(got.get('recipient2@example.com')!.mail.text).toContain('HairColor = Brown');
    expect(got.get('recipient3@example.com')!.mail.text).toContain('EyeColor = Hazel');
    for (const d of got.values()) expect(d.mail.text).toContain('Motto = When hitting the Inbox matters!');
  });
});
