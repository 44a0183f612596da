import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { renderForRecipient } from '../../src/merge/render-message.js';

// The published client library, unmodified, pointed at Postline with endpointUrl.
const require = createRequire(import.meta.url);
// biome-ignore lint/suspicious/noExplicitAny: the published client is untyped JavaScript
const sl: any = require('@socketlabs/email');

describe(`official @socketlabs/email client (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  // biome-ignore lint/suspicious/noExplicitAny: the published client is untyped JavaScript
  let client: any;
  const newestMessageId = async () => {
    const ev = await t.store.events.list({ limit: 1_000_000 });
    return ev[ev.length - 1]!.messageId;
  };

  beforeAll(async () => {
    t = await startTestApp();
    client = new sl.SocketLabsClient(t.credentials.serverId, t.credentials.apiKey, { endpointUrl: `${t.url}/api/v1/email` });
  });
  afterAll(async () => {
    await t.close();
  });

  it('sends a basic message with every field and Postline stores exactly that', async () => {
    const m = new sl.BasicMessage();
    m.subject = 'Quarterly report';
    m.htmlBody = '<p>See <img src="cid:logo1"></p>';
    m.textBody = 'See the attachment.';
    m.from = new sl.EmailAddress('sender@example.com', { friendlyName: 'Sender' });
    m.replyTo = new sl.EmailAddress('reply@example.com');
    m.addToEmailAddress('to1@example.com', 'To One');
    m.addToEmailAddress('to2@example.com');
    m.addCcEmailAddress('cc@example.com', 'Cc Person');
    m.addBccEmailAddress('bcc@example.com');
    m.mailingId = 'Q3-2026';
    m.messageId = 'report-42';
    m.charSet = 'utf-8';
    m.addCustomHeaders('X-Department', 'Finance');
    m.addAttachments(new sl.Attachment({ name: 'report.txt', contentType: 'text/plain', content: Buffer.from('numbers').toString('base64') }));
    m.addAttachments(
      new sl.Attachment({ name: 'logo.png', contentType: 'image/png', content: Buffer.from([137, 80, 78, 71]).toString('base64'), contentId: 'logo1' }),
    );
    m.addMetadata('Region', 'EU');
    m.addTag('Reports');

    const res = await client.send(m);
    expect(res.result.name).toBe('Success');

    const id = await newestMessageId();
    const stored = await t.store.queue.getMessage(id);
    expect(stored).toMatchObject({ isMerge: false, recipientCount: 4, metadata: [{ key: 'Region', value: 'EU' }], tags: ['Reports'] });
    const rcpts = await t.store.queue.listRecipients(id);
    expect(rcpts.map((r) => [r.address, r.kind, r.mailingId, r.messageId_])).toEqual([
      ['to1@example.com', 'to', 'Q3-2026', 'report-42'],
      ['to2@example.com', 'to', 'Q3-2026', 'report-42'],
      ['cc@example.com', 'cc', 'Q3-2026', 'report-42'],
      ['bcc@example.com', 'bcc', 'Q3-2026', 'report-42'],
    ]);
    const tpl = (await t.store.queue.getMessageTemplate(id))!;
    expect(tpl).toEqual({
      from: { email: 'sender@example.com', name: 'Sender' },
      replyTo: { email: 'reply@example.com', name: null },
      to: [
        { email: 'to1@example.com', name: 'To One' },
        { email: 'to2@example.com', name: null },
      ],
      cc: [{ email: 'cc@example.com', name: 'Cc Person' }],
      bcc: [{ email: 'bcc@example.com', name: null }],
      subject: 'Quarterly report',
      textBody: 'See the attachment.',
      htmlBody: '<p>See <img src="cid:logo1"></p>',
      ampBody: null,
      charset: 'utf-8',
      headers: [{ name: 'X-Department', value: 'Finance' }],
      attachments: [
        { name: 'report.txt', contentType: 'text/plain', contentId: null, content: Buffer.from('numbers').toString('base64'), headers: [] },
        { name: 'logo.png', contentType: 'image/png', contentId: 'logo1', content: Buffer.from([137, 80, 78, 71]).toString('base64'), headers: [] },
      ],
      messageId: 'report-42',
      mailingId: 'Q3-2026',
      globalMerge: [],
    });
  });

  it('sends a bulk merge to 50 recipients; each stored message renders with its own fields', async () => {
    const m = new sl.BulkMessage();
    m.subject = 'Hello %%FirstName%%';
    m.textBody = 'Dear %%FirstName%%, your code is %%Code%%. -- %%Team%%';
    m.htmlBody = '<p>Dear %%FirstName%%, code <b>%%Code%%</b></p>';
    m.from = new sl.EmailAddress('news@example.com');
    m.mailingId = 'bulk-1';
    m.addGlobalMergeData('Team', 'The Team');
    for (let i = 0; i < 50; i++) {
      const r = new sl.BulkRecipient(`user${i}@example.com`, { friendlyName: `User ${i}` });
      r.addMergeData('FirstName', `First${i}`);
      r.addMergeData('Code', `C-${1000 + i}`);
      m.setTo(r);
    }
    const res = await client.send(m);
    expect(res.result.name).toBe('Success');

    const id = await newestMessageId();
    expect(await t.store.queue.getMessage(id)).toMatchObject({ isMerge: true, recipientCount: 50 });
    const tpl = (await t.store.queue.getMessageTemplate(id))!;
    const rcpts = await t.store.queue.listRecipients(id);
    expect(rcpts).toHaveLength(50);
    const byAddress = new Map(rcpts.map((r) => [r.address, r]));
    for (let i = 0; i < 50; i++) {
      const r = byAddress.get(`user${i}@example.com`)!;
      expect(r.mailingId).toBe('bulk-1');
      const out = renderForRecipient(tpl, r.merge);
      expect(out.to).toEqual([{ email: `user${i}@example.com`, name: `User ${i}` }]);
      expect(out.subject).toBe(`Hello First${i}`);
      expect(out.textBody).toBe(`Dear First${i}, your code is C-${1000 + i}. -- The Team`);
      expect(out.htmlBody).toBe(`<p>Dear First${i}, code <b>C-${1000 + i}</b></p>`);
    }
  });

  it('rejects with InvalidAuthentication for a wrong key', async () => {
    const bad = new sl.SocketLabsClient(t.credentials.serverId, `${'Z'.repeat(20)}.${'Y'.repeat(40)}`, { endpointUrl: `${t.url}/api/v1/email` });
    const m = new sl.BasicMessage();
    m.subject = 's';
    m.textBody = 't';
    m.from = new sl.EmailAddress('f@example.com');
    m.addToEmailAddress('a@example.com');
    await expect(bad.send(m)).rejects.toMatchObject({ result: { name: 'InvalidAuthentication' } });
  });
});
