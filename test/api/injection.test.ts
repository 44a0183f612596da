import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { generateApiKey } from '../../src/core/api-key.js';
import { renderForRecipient } from '../../src/merge/render-message.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe(`Injection API v1 (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  const basic = (over: Record<string, unknown> = {}) => ({
    ServerId: t.credentials.serverId,
    ApiKey: t.credentials.apiKey,
    Messages: [
      { To: [{ EmailAddress: 'bob@example.com', FriendlyName: 'Bob' }], From: { EmailAddress: 'from@example.com' }, Subject: 'Hi', TextBody: 'Hello', ...over },
    ],
  });
  const snapshot = async () => ({
    messages: await t.store.queue.countMessages(),
    events: (await t.store.events.list({ limit: 1_000_000 })).length,
  });
  const lastMessageId = async () => {
    const events = await t.store.events.list({ limit: 1_000_000 });
    return events[events.length - 1]!.messageId;
  };

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('accepts a PascalCase message, stores it and answers exactly the three SocketLabs properties', async () => {
    const r = await inject(t, basic());
    expect(r.status).toBe(200);
    expect(r.text).toBe('{"ErrorCode":"Success","MessageResults":[],"TransactionReceipt":null}');
    const id = await lastMessageId();
    const rcpts = await t.store.queue.listRecipients(id);
    expect(rcpts.map((x) => [x.address, x.status])).toEqual([['bob@example.com', 'queued']]);
    const events = await t.store.events.list({ messageId: id });
    expect(events.map((e) => e.type)).toEqual(['Queued']);
  });

  it('matches names case-insensitively, takes ServerId as a string and the key from Bearer', async () => {
    const r = await inject(
      t,
      {
        serverid: String(t.credentials.serverId),
        apiKey: '',
        MESSAGES: [
          {
            to: ['plain@example.com'],
            FROM: { emailaddress: 'from@example.com' },
            subJECT: 'S',
            htmlbody: '<b>x</b>',
            CC: [{ emailAddress: 'cc@example.com' }],
            bcc: null,
            CharSet: 'utf-8',
            mergeData: null,
            customHeaders: null,
          },
        ],
      },
      { headers: { authorization: `Bearer ${t.credentials.apiKey}` } },
    );
    expect(r.body.ErrorCode).toBe('Success');
    const rcpts = await t.store.queue.listRecipients(await lastMessageId());
    expect(rcpts.map((x) => [x.address, x.kind])).toEqual([
      ['plain@example.com', 'to'],
      ['cc@example.com', 'cc'],
    ]);
    expect((await t.store.queue.getMessageTemplate(await lastMessageId()))!.charset).toBe('utf-8');
  });

  it('stores a bulk merge as one template plus one recipient row per PerMessage row', async () => {
    const rows = Array.from({ length: 3 }, (_, i) => [
      { Field: 'DeliveryAddress', Value: `r${i}@example.com` },
      { Field: 'RecipientName', Value: `R ${i}` },
      { Field: 'Code', Value: `C${i}` },
    ]);
    const r = await inject(
      t,
      basic({
        To: [{ EmailAddress: '%%DeliveryAddress%%', FriendlyName: '%%RecipientName%%' }],
        Subject: 'Code %%Code%%',
        TextBody: 'Hi %%RecipientName%%, %%Code%% %%Color%%',
        MailingId: '%%Campaign%%',
        MessageId: 'id-%%Code%%',
        CustomHeaders: [{ Name: 'X-Code', Value: '%%Code%%' }],
        MergeData: {
          PerMessage: rows,
          Global: [
            { Field: 'Color', Value: 'blue' },
            { Field: 'Campaign', Value: 'Spring' },
          ],
        },
      }),
    );
    expect(r.body.ErrorCode).toBe('Success');
    const id = await lastMessageId();
    const msg = await t.store.queue.getMessage(id);
    expect(msg).toMatchObject({ isMerge: true, recipientCount: 3 });
    const template = (await t.store.queue.getMessageTemplate(id))!;
    expect(template.textBody).toBe('Hi %%RecipientName%%, %%Code%% %%Color%%');
    const rcpts = await t.store.queue.listRecipients(id);
    expect(rcpts.map((x) => [x.address, x.mailingId, x.messageId_])).toEqual([
      ['r0@example.com', 'Spring', 'id-C0'],
      ['r1@example.com', 'Spring', 'id-C1'],
      ['r2@example.com', 'Spring', 'id-C2'],
    ]);
    const rendered = renderForRecipient(template, rcpts[1]!.merge);
    expect(rendered).toMatchObject({
      to: [{ email: 'r1@example.com', name: 'R 1' }],
      subject: 'Code C1',
      textBody: 'Hi R 1, C1 blue',
      headers: [{ name: 'X-Code', value: 'C1' }],
      mailingId: 'Spring',
      messageId: 'id-C1',
    });
  });

  it('takes what official clients send: a merge field without Value (or null) is empty, a Metadata entry without a Key is dropped', async () => {
    // The Java client leaves an empty merge value out; the Node client's complex example sends a Metadata entry without a Key.
    const r = await inject(
      t,
      basic({
        To: [{ EmailAddress: '%%DeliveryAddress%%' }],
        TextBody: 'Hi [%%Name%%] [%%UpSell%%] [%%Extra%%]',
        MergeData: {
          PerMessage: [
            [{ Field: 'DeliveryAddress', Value: 'java@example.com' }, { Field: 'Name', Value: 'Jo' }, { Field: 'UpSell' }, { Field: 'Extra', Value: null }],
          ],
        },
        Metadata: [{ Key: 'order', Value: '42' }, { Value: 'no key' }, { Key: '', Value: 'empty key' }],
      }),
    );
    expect(r.body.ErrorCode).toBe('Success');
    const id = await lastMessageId();
    expect((await t.store.queue.getMessage(id))!.metadata).toEqual([{ key: 'order', value: '42' }]);
    const [rcpt] = await t.store.queue.listRecipients(id);
    expect(renderForRecipient((await t.store.queue.getMessageTemplate(id))!, rcpt!.merge).textBody).toBe('Hi [Jo] [] []');
  });

  it('answers Warning with per-address results and stores only the good addresses', async () => {
    const r = await inject(t, basic({ To: [{ EmailAddress: 'good@example.com' }, { EmailAddress: 'bad@' }] }));
    expect(r.body).toEqual({
      ErrorCode: 'Warning',
      TransactionReceipt: null,
      MessageResults: [{ Index: 0, ErrorCode: 'Warning', AddressResults: [{ EmailAddress: 'bad@', Accepted: false, ErrorCode: 'InvalidAddress' }] }],
    });
    expect((await t.store.queue.listRecipients(await lastMessageId())).map((x) => x.address)).toEqual(['good@example.com']);
  });

  it('accepts the good message of a request and reports the bad one by index', async () => {
    const before = await snapshot();
    const body = basic();
    (body.Messages as unknown[]).push({ ...(body.Messages[0] as object), Subject: '  ' });
    const r = await inject(t, body);
    expect(r.body.ErrorCode).toBe('Warning');
    expect(r.body.MessageResults).toEqual([{ Index: 1, ErrorCode: 'EmptySubject', AddressResults: [] }]);
    expect(r.headers.get('x-postline-error')).toContain('Subject is empty');
    expect((await snapshot()).messages).toBe(before.messages + 1);
  });

  it('refuses a customer DKIM-Signature in any casing, says why, and stores neither message of the request', async () => {
    const before = await snapshot();
    const good = basic().Messages[0]!;
    const r = await inject(t, {
      ...basic(),
      Messages: [
        good,
        {
          ...good,
          CustomHeaders: [
            { Name: 'X-Ok', Value: '1' },
            { Name: 'dkim-SIGNATURE', Value: 'v=1; d=bank.example; b=AAAA' },
          ],
        },
      ],
    });
    expect(r.body).toMatchObject({ ErrorCode: 'InvalidData', MessageResults: [] });
    expect(r.headers.get('x-postline-error')).toBe(
      'Messages[1].CustomHeaders[1].Name: "dkim-SIGNATURE" cannot be a custom header: Postline signs with the sending domain\'s DKIM keys',
    );
    expect(await snapshot()).toEqual(before);
  });

  describe('refuses bad input with a clear code and stores nothing', () => {
    const cases: [string, () => { body?: unknown; raw?: string; contentType?: string; headers?: Record<string, string> }, string, string?][] = [
      ['malformed JSON', () => ({ raw: '{"ServerId": 1, "Messages": [' }), 'InvalidData'],
      ['malformed XML', () => ({ raw: '<PostBody><ServerId>1</Server', contentType: 'application/xml' }), 'InvalidData'],
      [
        'XML entity expansion',
        () => ({
          contentType: 'application/xml',
          raw: '<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;">]><PostBody><ServerId>1</ServerId></PostBody>',
        }),
        'InvalidData',
      ],
      ['Messages of the wrong type', () => ({ body: { ...basic(), Messages: 'x' } }), 'InvalidData'],
      ['Subject of the wrong type', () => ({ body: basic({ Subject: 42 }) }), 'InvalidData'],
      ['To of the wrong type', () => ({ body: basic({ To: { EmailAddress: 'a@example.com' } }) }), 'InvalidData'],
      ['CR/LF in a header value', () => ({ body: basic({ CustomHeaders: [{ Name: 'X-A', Value: 'a\r\nBcc: evil@example.com' }] }) }), 'InvalidData'],
      ['CR/LF in a header name', () => ({ body: basic({ CustomHeaders: [{ Name: 'X-A\r\nBcc', Value: 'v' }] }) }), 'InvalidData'],
      ['a reserved header', () => ({ body: basic({ CustomHeaders: [{ Name: 'Content-Type', Value: 'text/plain' }] }) }), 'InvalidData'],
      [
        'a DKIM-Signature header',
        () => ({ body: basic({ CustomHeaders: [{ Name: 'DKIM-Signature', Value: 'v=1; a=rsa-sha256; d=bank.example; s=s1; b=AAAA' }] }) }),
        'InvalidData',
      ],
      [
        'a DKIM-Signature header on an attachment',
        () => ({
          body: basic({
            Attachments: [{ Name: 'a.txt', ContentType: 'text/plain', Content: b64('x'), CustomHeaders: [{ Name: 'DKIM-Signature', Value: 'v=1' }] }],
          }),
        }),
        'InvalidData',
      ],
      ['a Received header', () => ({ body: basic({ CustomHeaders: [{ Name: 'Received', Value: 'from trusted.example by mx.example' }] }) }), 'InvalidData'],
      [
        'an Authentication-Results header',
        () => ({ body: basic({ CustomHeaders: [{ Name: 'Authentication-Results', Value: 'mx.example; dkim=pass' }] }) }),
        'InvalidData',
      ],
      ['an ARC-Seal header', () => ({ body: basic({ CustomHeaders: [{ Name: 'ARC-Seal', Value: 'i=1; cv=none' }] }) }), 'InvalidData'],
      ['a Message-ID header', () => ({ body: basic({ CustomHeaders: [{ Name: 'Message-ID', Value: '<mine@example.com>' }] }) }), 'InvalidData'],
      ['no messages', () => ({ body: { ...basic(), Messages: [] } }), 'NoMessages'],
      ['too many messages', () => ({ body: { ...basic(), Messages: Array.from({ length: 51 }, () => basic().Messages[0]) } }), 'TooManyMessages'],
      [
        'too many recipients',
        () => ({ body: basic({ To: Array.from({ length: 10_001 }, (_, i) => ({ EmailAddress: `a${i}@example.com` })) }) }),
        'TooManyRecipients',
      ],
      [
        'metadata and tags over 12.5 KB',
        () => ({ body: basic({ Metadata: [{ Key: 'k', Value: 'x'.repeat(12_000) }], Tags: ['y'.repeat(1_000)] }) }),
        'MetadataOrTagsAreTooLarge',
      ],
      ['an unknown ServerId', () => ({ body: { ...basic(), ServerId: 999999 } }), 'InvalidAuthentication'],
      ['a wrong key', () => ({ body: { ...basic(), ApiKey: `${'A'.repeat(20)}.${'B'.repeat(40)}` } }), 'InvalidAuthentication'],
      ['a legacy-format key', () => ({ body: { ...basic(), ApiKey: 'legacyKey123' } }), 'InvalidAuthentication'],
      ['a missing ServerId', () => ({ body: { ...basic(), ServerId: null } }), 'InvalidAuthentication'],
    ];
    for (const [name, make, code] of cases) {
      it(name, async () => {
        const before = await snapshot();
        const c = make();
        const r = await inject(t, c.body, { raw: c.raw, contentType: c.contentType, headers: c.headers });
        expect(r.status).toBe(200);
        expect(r.body.ErrorCode).toBe(code);
        expect(Object.keys(r.body).sort()).toEqual(['ErrorCode', 'MessageResults', 'TransactionReceipt']);
        expect(r.headers.get('x-postline-error')).toBeTruthy();
        expect(await snapshot()).toEqual(before);
      });
    }

    const messageCases: [string, Record<string, unknown>, string][] = [
      ['an invalid From', { From: { EmailAddress: 'not-an-address' } }, 'InvalidFrom'],
      ['a missing From', { From: null }, 'InvalidFrom'],
      ['an empty subject', { Subject: '' }, 'EmptySubject'],
      ['no body', { TextBody: null, HtmlBody: '' }, 'NoValidBodyParts'],
      ['only an AMP body', { TextBody: null, AmpBody: '<html amp4email></html>' }, 'NoValidBodyParts'],
      ['no recipients', { To: [] }, 'EmptyToAddress'],
      ['only invalid recipients', { To: [{ EmailAddress: 'a b@example.com' }] }, 'NoValidRecipients'],
      ['invalid base64', { Attachments: [{ Name: 'a.txt', ContentType: 'text/plain', Content: 'not base64!' }] }, 'InvalidAttachment'],
      ['an attachment without name', { Attachments: [{ ContentType: 'text/plain', Content: b64('x') }] }, 'InvalidAttachment'],
      ['an attachment without content', { Attachments: [{ Name: 'bus.png', ContentType: 'image/png' }] }, 'InvalidAttachment'],
      ['an unknown ApiTemplate', { ApiTemplate: '12' }, 'InvalidTemplateId'],
      [
        'a non-string merge value',
        {
          MergeData: {
            PerMessage: [
              [
                { Field: 'DeliveryAddress', Value: 'a@example.com' },
                { Field: 'N', Value: 5 },
              ],
            ],
          },
        },
        'InvalidMergeData',
      ],
      ['a merge row without DeliveryAddress', { MergeData: { PerMessage: [[{ Field: 'Name', Value: 'x' }]] } }, 'InvalidMergeData'],
      ['an oversize message', { Attachments: [{ Name: 'big.bin', Content: Buffer.alloc(31 * 1024 * 1024).toString('base64') }] }, 'MessageTooLarge'],
    ];
    for (const [name, over, code] of messageCases) {
      it(name, async () => {
        const before = await snapshot();
        const r = await inject(t, basic(over));
        expect(r.body.ErrorCode).toBe('Warning');
        expect(r.body.MessageResults[0]).toMatchObject({ Index: 0, ErrorCode: code });
        expect(r.headers.get('x-postline-error')).toContain(code);
        expect(await snapshot()).toEqual(before);
      });
    }

    it('an oversize request body', async () => {
      const before = await snapshot();
      const r = await inject(t, undefined, { raw: JSON.stringify(basic({ TextBody: 'x'.repeat(49 * 1024 * 1024) })) });
      expect(r.body.ErrorCode).toBe('MessageTooLarge');
      expect(await snapshot()).toEqual(before);
    });
  });

  it('refuses a key of another server, and a disabled-scope key', async () => {
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const other = await t.store.tenancy.createServer({ accountId: account.id, name: 'Other' }, Date.now());
    const k = generateApiKey();
    await t.store.tenancy.createApiKey({ serverId: other.id, scope: 'injection', name: 'o', publicId: k.publicId, secretHash: k.secretHash }, Date.now());
    const before = await snapshot();
    expect((await inject(t, { ...basic(), ApiKey: k.key })).body.ErrorCode).toBe('InvalidAuthentication');
    const mk = generateApiKey();
    await t.store.tenancy.createApiKey(
      { serverId: t.credentials.serverId, scope: 'management', name: 'm', publicId: mk.publicId, secretHash: mk.secretHash },
      Date.now(),
    );
    expect((await inject(t, { ...basic(), ApiKey: mk.key })).body.ErrorCode).toBe('InvalidAuthentication');
    await t.store.tenancy.revokeApiKey(k.publicId, Date.now());
    expect((await inject(t, { ...basic(), ServerId: other.id, ApiKey: k.key })).body.ErrorCode).toBe('InvalidAuthentication');
    expect(await snapshot()).toEqual(before);
  });

  it('replays an Idempotency-Key answer and refuses the key with another body', async () => {
    const headers = { 'idempotency-key': `order-${Date.now()}` };
    const before = await snapshot();
    const first = await inject(t, basic({ Subject: 'Once' }), { headers });
    expect(first.body.ErrorCode).toBe('Success');
    const again = await inject(t, basic({ Subject: 'Once' }), { headers });
    expect(again.text).toBe(first.text);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect((await snapshot()).messages).toBe(before.messages + 1);
    const other = await inject(t, basic({ Subject: 'Twice' }), { headers });
    expect(other.status).toBe(409);
    expect(other.body.ErrorCode).toBe('InvalidData');
    expect((await snapshot()).messages).toBe(before.messages + 1);
    // Concurrent first uses of one key: exactly one is stored.
    const k2 = { 'idempotency-key': `race-${Date.now()}` };
    const results = await Promise.all(Array.from({ length: 8 }, () => inject(t, basic({ Subject: 'Race' }), { headers: k2 })));
    expect(results.every((r) => r.body.ErrorCode === 'Success')).toBe(true);
    expect((await snapshot()).messages).toBe(before.messages + 2);
  });

  it('accepts the XML body variant with the same fields', async () => {
    const xml = `<?xml version="1.0" encoding="utf-8"?>
<PostBody xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <ServerId>${t.credentials.serverId}</ServerId><ApiKey>${t.credentials.apiKey}</ApiKey>
  <Messages><EmailMessage>
    <Subject>XML &amp; more</Subject><TextBody>Plain</TextBody><HtmlBody>&lt;h1&gt;Hi&lt;/h1&gt;</HtmlBody>
    <To><Address><EmailAddress>xml@example.com</EmailAddress><FriendlyName>X</FriendlyName></Address></To>
    <From><EmailAddress>from@example.com</EmailAddress><FriendlyName>From</FriendlyName></From>
    <CustomHeaders><CustomHeader><Name>X-Via</Name><Value>xml</Value></CustomHeader></CustomHeaders>
  </EmailMessage></Messages>
</PostBody>`;
    const r = await inject(t, undefined, { raw: xml, contentType: 'application/xml; charset=utf-8' });
    expect(r.body.ErrorCode).toBe('Success');
    const tpl = (await t.store.queue.getMessageTemplate(await lastMessageId()))!;
    expect(tpl).toMatchObject({
      subject: 'XML & more',
      htmlBody: '<h1>Hi</h1>',
      to: [{ email: 'xml@example.com', name: 'X' }],
      headers: [{ name: 'X-Via', value: 'xml' }],
    });
  });
});

describe(`Injection API auth-failure throttle (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers TooManyErrors after 20 failed authentications from one client, even for a good key', async () => {
    const good = {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: ['a@example.com'], From: { EmailAddress: 'f@example.com' }, Subject: 'S', TextBody: 'T' }],
    };
    const bad = { ...good, ApiKey: `${'C'.repeat(20)}.${'D'.repeat(40)}` };
    const codes: string[] = [];
    for (let i = 0; i < 22; i++) codes.push((await inject(t, bad)).body.ErrorCode);
    expect(codes.slice(0, 20)).toEqual(Array(20).fill('InvalidAuthentication'));
    expect(codes.slice(20)).toEqual(['TooManyErrors', 'TooManyErrors']);
    expect((await inject(t, good)).body.ErrorCode).toBe('TooManyErrors');
    expect(await t.store.queue.countMessages()).toBe(0);
  });
});
