import { simpleParser, type ParsedMail } from 'mailparser';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createKey, createTenant, v2 } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';

/** ApiTemplate on the Injection API: a stored template rendered with each message's merge data, delivered to the sink. */
describe(`ApiTemplate renders a stored template (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let key: string;
  let templateId: number;

  const send = (message: Record<string, unknown>) =>
    inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ From: { EmailAddress: 'shop@example.com', FriendlyName: 'The Shop' }, ...message }],
    });
  /** The parsed messages the sink got for `address`, waiting for them to arrive. */
  async function deliveredTo(address: string, count = 1): Promise<ParsedMail[]> {
    for (let i = 0; i < 400 && sink.messages.filter((m) => m.rcptTo.includes(address)).length < count; i++) await new Promise((r) => setTimeout(r, 25));
    return Promise.all(sink.messages.filter((m) => m.rcptTo.includes(address)).map((m) => simpleParser(m.data)));
  }

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(sink, { pollMs: 50 });
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    const created = await v2<{ data: { templateId: number } }>(t, 'POST', `/servers/${t.credentials.serverId}/templates`, {
      key,
      body: {
        name: 'Order shipped',
        subject: 'Your order %%OrderId%% has shipped',
        htmlBody: '<p>Dear %%FirstName%%, order <b>%%OrderId%%</b> is on its way. -- %%Team%%</p>',
        textBody: 'Dear %%FirstName%%, order %%OrderId%% is on its way. -- %%Team%%',
      },
    });
    templateId = created.body.data.templateId;
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('a merge message with ApiTemplate (a number) and no body: each recipient gets the template rendered with its own fields', async () => {
    const res = await send({
      ApiTemplate: templateId,
      Subject: 'Order %%OrderId%%',
      To: [{ EmailAddress: '%%DeliveryAddress%%', FriendlyName: '%%RecipientName%%' }],
      MergeData: {
        PerMessage: [
          [
            { Field: 'DeliveryAddress', Value: 'ann@sink.test' },
            { Field: 'RecipientName', Value: 'Ann Smith' },
            { Field: 'FirstName', Value: 'Ann' },
            { Field: 'OrderId', Value: 'A-1' },
          ],
          [
            { Field: 'DeliveryAddress', Value: 'bob@sink.test' },
            { Field: 'FirstName', Value: 'Bob' },
            { Field: 'OrderId', Value: 'B-2' },
          ],
        ],
        Global: [{ Field: 'Team', Value: 'Shop Team' }],
      },
    });
    expect(res.body).toEqual({ ErrorCode: 'Success', MessageResults: [], TransactionReceipt: null });
    const [ann] = await deliveredTo('ann@sink.test');
    const [bob] = await deliveredTo('bob@sink.test');
    // The message's Subject wins over the template's; the bodies are the template's.
    expect(ann!.subject).toBe('Order A-1');
    expect(ann!.to).toMatchObject({ value: [{ address: 'ann@sink.test', name: 'Ann Smith' }] });
    expect(ann!.text!.trim()).toBe('Dear Ann, order A-1 is on its way. -- Shop Team');
    expect(ann!.html).toContain('<p>Dear Ann, order <b>A-1</b> is on its way. -- Shop Team</p>');
    expect(bob!.subject).toBe('Order B-2');
    expect(bob!.text!.trim()).toBe('Dear Bob, order B-2 is on its way. -- Shop Team');
  });

  it("a basic message with ApiTemplate as a string: the template's bodies replace the message's, its subject fills an empty Subject", async () => {
    const res = await send({
      ApiTemplate: ` ${templateId}`,
      Subject: '',
      TextBody: 'the message text, replaced',
      HtmlBody: '<p>replaced</p>',
      To: [{ EmailAddress: 'carol@sink.test' }],
      Cc: [{ EmailAddress: 'dave@sink.test' }],
      MergeData: {
        Global: [
          { Field: 'FirstName', Value: 'friend' },
          { Field: 'OrderId', Value: 'C-3' },
          { Field: 'Team', Value: 'Us' },
        ],
      },
    });
    expect(res.body.ErrorCode).toBe('Success');
    for (const address of ['carol@sink.test', 'dave@sink.test']) {
      const [m] = await deliveredTo(address);
      expect(m!.subject).toBe('Your order C-3 has shipped');
      expect(m!.text!.trim()).toBe('Dear friend, order C-3 is on its way. -- Us');
      expect(m!.html).not.toContain('replaced');
    }
  });

  it('a message keeps the version it was accepted with; later messages send the new version', async () => {
    const res = await send({ ApiTemplate: templateId, Subject: 'v1', To: [{ EmailAddress: 'erin@sink.test' }] });
    expect(res.body.ErrorCode).toBe('Success');
    const first = await newestMessageId(t.store);
    await waitForRecipients(t.store, first, (rs) => rs.every((r) => r.status === 'delivered'));
    const up = await v2(t, 'PATCH', `/servers/${t.credentials.serverId}/templates/${templateId}`, {
      key,
      body: { textBody: 'Version two for %%FirstName%%', htmlBody: null },
    });
    expect(up.status).toBe(200);
    expect((await t.store.queue.getMessageTemplate(first))!.textBody).toBe('Dear %%FirstName%%, order %%OrderId%% is on its way. -- %%Team%%');
    expect(
      (
        await send({
          ApiTemplate: templateId,
          Subject: 'v2',
          To: [{ EmailAddress: 'erin@sink.test' }],
          MergeData: { Global: [{ Field: 'FirstName', Value: 'Erin' }] },
        })
      ).body.ErrorCode,
    ).toBe('Success');
    const got = await deliveredTo('erin@sink.test', 2);
    const second = got.find((m) => m.subject === 'v2')!;
    expect(second.text!.trim()).toBe('Version two for Erin');
    expect(second.html).toBe(false);
  });

  it("unknown, deleted and other servers' template ids are InvalidTemplateId and queue nothing", async () => {
    const other = await createTenant(t.store);
    const theirs = (
      await v2<{ data: { templateId: number } }>(t, 'POST', `/servers/${other.serverId}/templates`, {
        key: other.managementKey,
        body: { name: 'Theirs', textBody: 'not yours' },
      })
    ).body.data.templateId;
    const gone = (
      await v2<{ data: { templateId: number } }>(t, 'POST', `/servers/${t.credentials.serverId}/templates`, {
        key,
        body: { name: 'Gone', textBody: 'deleted' },
      })
    ).body.data.templateId;
    expect((await v2(t, 'DELETE', `/servers/${t.credentials.serverId}/templates/${gone}`, { key })).status).toBe(200);
    const before = [await countRows(t.db, 'messages'), await countRows(t.db, 'recipients')];
    for (const id of [theirs, gone, 987654321, '999999999999999']) {
      const res = await send({ ApiTemplate: id, Subject: 'x', To: [{ EmailAddress: 'nobody@sink.test' }] });
      expect(res.body, String(id)).toEqual({
        ErrorCode: 'Warning',
        TransactionReceipt: null,
        MessageResults: [{ Index: 0, ErrorCode: 'InvalidTemplateId', AddressResults: [] }],
      });
    }
    expect([await countRows(t.db, 'messages'), await countRows(t.db, 'recipients')]).toEqual(before);
  });

  it('in a request of several messages only the one with a bad template is refused', async () => {
    const res = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        { From: { EmailAddress: 'shop@example.com' }, Subject: 'ok', ApiTemplate: templateId, To: [{ EmailAddress: 'frank@sink.test' }] },
        { From: { EmailAddress: 'shop@example.com' }, Subject: 'bad', ApiTemplate: 424242, To: [{ EmailAddress: 'frank@sink.test' }] },
      ],
    });
    expect(res.body).toEqual({
      ErrorCode: 'Warning',
      TransactionReceipt: null,
      MessageResults: [{ Index: 1, ErrorCode: 'InvalidTemplateId', AddressResults: [] }],
    });
    const [m] = await deliveredTo('frank@sink.test');
    expect(m!.subject).toBe('ok');
  });

  it('ApiTemplate 0 means none: the message needs its own body', async () => {
    const res = await send({ ApiTemplate: 0, Subject: 'x', To: [{ EmailAddress: 'gina@sink.test' }] });
    expect(res.body.MessageResults).toEqual([{ Index: 0, ErrorCode: 'NoValidBodyParts', AddressResults: [] }]);
  });
});
