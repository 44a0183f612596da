import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XMLParser } from 'fast-xml-parser';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, createTenant, setServerStatus } from '../helpers/api-v2.js';

interface Answer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
}

/** One HTTP request with exactly these headers (fetch would add `Accept: *` `/` `*` of its own). */
function send(t: TestApp, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${t.url}${path}`,
      { method, headers: body === undefined ? headers : { ...headers, 'content-length': String(Buffer.byteLength(body)) } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const parser = new XMLParser({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  parseTagValue: false,
  ignoreDeclaration: true,
  // Repeated items, never the root: <list> is also the root of one list.
  isArray: (name, jpath) => String(jpath).includes('.') && ['MessageResult', 'AddressResult', 'list', 'contact', 'customField', 'field'].includes(name),
});
type Node = Record<string, unknown>;
/** The one root element of a document (refusing anything else), with its name. */
function rootOf(xml: string): [string, Node] {
  expect(xml.startsWith('<?xml version="1.0" encoding="utf-8"?>')).toBe(true);
  const doc = parser.parse(xml, true) as Node;
  const names = Object.keys(doc);
  expect(names).toHaveLength(1);
  return [names[0]!, (doc[names[0]!] === '' ? {} : doc[names[0]!]) as Node];
}

interface PostResponse {
  ErrorCode: string;
  MessageResults: { Index: number; ErrorCode: string; AddressResults: { EmailAddress: string; Accepted: boolean; ErrorCode: string }[] }[];
  TransactionReceipt: string | null;
}
/** A <PostResponse> read back the way a .NET XmlSerializer client reads it, into SocketLabs' JSON shape. */
function postResponseOf(xml: string): PostResponse {
  const [name, root] = rootOf(xml);
  expect(name).toBe('PostResponse');
  expect(Object.keys(root).filter((k) => !k.startsWith('@_'))).toEqual([
    'ErrorCode',
    'MessageResults',
    ...(root.TransactionReceipt === undefined ? [] : ['TransactionReceipt']),
  ]);
  const results = root.MessageResults === '' ? [] : (root.MessageResults as { MessageResult: Node[] }).MessageResult;
  return {
    ErrorCode: root.ErrorCode as string,
    MessageResults: results.map((m) => {
      expect(Object.keys(m)).toEqual(['Index', 'ErrorCode', 'AddressResults']);
      const addresses = m.AddressResults === '' ? [] : (m.AddressResults as { AddressResult: Node[] }).AddressResult;
      return {
        Index: Number(m.Index),
        ErrorCode: m.ErrorCode as string,
        AddressResults: addresses.map((a) => {
          expect(Object.keys(a)).toEqual(['EmailAddress', 'Accepted', 'ErrorCode']);
          expect(['true', 'false']).toContain(a.Accepted);
          return { EmailAddress: a.EmailAddress as string, Accepted: a.Accepted === 'true', ErrorCode: a.ErrorCode as string };
        }),
      };
    }),
    TransactionReceipt: (root.TransactionReceipt as string | undefined) ?? null,
  };
}

describe(`XML answers of the Injection API (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  const XML_ACCEPT = { 'content-type': 'application/json', accept: 'application/xml' };
  const message = (over: Record<string, unknown> = {}) => ({
    To: [{ EmailAddress: 'bob@example.com' }],
    From: { EmailAddress: 'from@example.com' },
    Subject: 'Hi',
    TextBody: 'Hello',
    ...over,
  });
  const envelope = (messages: unknown[], over: Record<string, unknown> = {}) =>
    JSON.stringify({ ServerId: t.credentials.serverId, ApiKey: t.credentials.apiKey, Messages: messages, ...over });
  const inject = (headers: Record<string, string>, body: string) => send(t, 'POST', '/api/v1/email', headers, body);
  const stored = () => t.store.queue.countMessages();

  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers Success as the PostResponse XmlSerializer writes, and stores the message', async () => {
    const before = await stored();
    const r = await inject(XML_ACCEPT, envelope([message()]));
    expect(r.status).toBe(200);
    expect(r.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(r.text).toBe(
      '<?xml version="1.0" encoding="utf-8"?><PostResponse xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"' +
        ' xmlns:xsd="http://www.w3.org/2001/XMLSchema"><ErrorCode>Success</ErrorCode><MessageResults/></PostResponse>',
    );
    expect(postResponseOf(r.text)).toEqual({ ErrorCode: 'Success', MessageResults: [], TransactionReceipt: null });
    expect(await stored()).toBe(before + 1);
  });

  it('answers a partial failure with MessageResults and AddressResults, exactly what the JSON answer says', async () => {
    const body = envelope([
      message({ To: [{ EmailAddress: 'good@example.com' }, { EmailAddress: 'bad@' }, { EmailAddress: 'a<b>&c@' }] }),
      message({ Subject: ' ' }),
      message(),
    ]);
    const before = await stored();
    const xml = await inject(XML_ACCEPT, body);
    const json = await inject({ 'content-type': 'application/json', accept: 'application/json' }, body);
    expect(JSON.parse(json.text).ErrorCode).toBe('Warning');
    expect(postResponseOf(xml.text)).toEqual(JSON.parse(json.text));
    expect(postResponseOf(xml.text).MessageResults).toEqual([
      {
        Index: 0,
        ErrorCode: 'Warning',
        AddressResults: [
          { EmailAddress: 'bad@', Accepted: false, ErrorCode: 'InvalidAddress' },
          { EmailAddress: 'a<b>&c@', Accepted: false, ErrorCode: 'InvalidAddress' },
        ],
      },
      { Index: 1, ErrorCode: 'EmptySubject', AddressResults: [] },
    ]);
    expect(xml.headers['x-postline-error']).toContain('EmptySubject');
    // The first and third messages of each request were stored, the second of neither.
    expect(await stored()).toBe(before + 4);
  });

  it("answers an XML body in XML when Accept does not decide, in the body's own XML type", async () => {
    const xmlBody = `<?xml version="1.0" encoding="utf-8"?><PostBody><ServerId>${t.credentials.serverId}</ServerId><ApiKey>${t.credentials.apiKey}</ApiKey>
      <Messages><EmailMessage><Subject>S</Subject><TextBody>T</TextBody><To><Address><EmailAddress>x@example.com</EmailAddress></Address></To>
      <From><EmailAddress>from@example.com</EmailAddress></From></EmailMessage></Messages></PostBody>`;
    const noAccept = await inject({ 'content-type': 'application/xml; charset=utf-8' }, xmlBody);
    expect(noAccept.headers['content-type']).toBe('application/xml; charset=utf-8');
    expect(postResponseOf(noAccept.text).ErrorCode).toBe('Success');
    const textXml = await inject({ 'content-type': 'text/xml' }, xmlBody);
    expect(textXml.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(postResponseOf(textXml.text).ErrorCode).toBe('Success');
    const html = await inject({ 'content-type': 'application/xml', accept: 'text/html' }, xmlBody);
    expect(html.headers['content-type']).toBe('application/xml; charset=utf-8');
  });

  it('answers JSON when Accept prefers it, or only accepts anything, whatever the body', async () => {
    const xmlBody = `<PostBody><ServerId>${t.credentials.serverId}</ServerId><ApiKey>${t.credentials.apiKey}</ApiKey><Messages/></PostBody>`;
    const accepts = [
      '*/*',
      'application/json',
      'application/xml;q=0.5, application/json',
      // RestSharp's default, sent by SocketLabs' own XML sample, which reads the answer as JSON.
      'application/json, application/xml, text/json, text/x-json, text/javascript, text/xml',
    ];
    for (const accept of accepts) {
      const r = await inject({ 'content-type': 'application/xml', accept }, xmlBody);
      expect([accept, r.headers['content-type']]).toEqual([accept, 'application/json; charset=utf-8']);
      expect(JSON.parse(r.text)).toMatchObject({ ErrorCode: 'NoMessages', MessageResults: [] });
    }
    const noAccept = await inject({ 'content-type': 'application/json' }, envelope([]));
    expect(noAccept.headers['content-type']).toBe('application/json; charset=utf-8');
    const preferred = await inject({ 'content-type': 'application/json', accept: 'application/json;q=0.4, text/xml;q=0.8' }, envelope([]));
    expect(preferred.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(postResponseOf(preferred.text).ErrorCode).toBe('NoMessages');
  });

  describe('answers every refusal in XML, with a receipt, and stores nothing', () => {
    const refusals: [string, () => { headers: Record<string, string>; body: string }, string][] = [
      ['malformed JSON', () => ({ headers: XML_ACCEPT, body: '{"ServerId": 1, "Messages": [' }), 'InvalidData'],
      ['malformed XML', () => ({ headers: { 'content-type': 'application/xml' }, body: '<PostBody><ServerId>1</Server' }), 'InvalidData'],
      ['an XML DOCTYPE', () => ({ headers: { 'content-type': 'text/xml' }, body: '<!DOCTYPE x [<!ENTITY a "a">]><PostBody/>' }), 'InvalidData'],
      ['a field of the wrong type', () => ({ headers: XML_ACCEPT, body: envelope([message({ Subject: 42 })]) }), 'InvalidData'],
      ['a wrong key', () => ({ headers: XML_ACCEPT, body: envelope([message()], { ApiKey: `${'A'.repeat(20)}.${'B'.repeat(40)}` }) }), 'InvalidAuthentication'],
      ['an unknown server', () => ({ headers: XML_ACCEPT, body: envelope([message()], { ServerId: 999999 }) }), 'InvalidAuthentication'],
      ['no messages', () => ({ headers: XML_ACCEPT, body: envelope([]) }), 'NoMessages'],
      ['too many messages', () => ({ headers: XML_ACCEPT, body: envelope(Array.from({ length: 51 }, () => message())) }), 'TooManyMessages'],
      [
        'too many recipients',
        () => ({ headers: XML_ACCEPT, body: envelope([message({ To: Array.from({ length: 10_001 }, (_, i) => ({ EmailAddress: `a${i}@example.com` })) })]) }),
        'TooManyRecipients',
      ],
      [
        'metadata over 12.5 KB',
        () => ({ headers: XML_ACCEPT, body: envelope([message({ Metadata: [{ Key: 'k', Value: 'x'.repeat(13_000) }] })]) }),
        'MetadataOrTagsAreTooLarge',
      ],
      ['a malformed Idempotency-Key', () => ({ headers: { ...XML_ACCEPT, 'idempotency-key': 'has space' }, body: envelope([message()]) }), 'InvalidData'],
      ['a request body over 48 MiB', () => ({ headers: XML_ACCEPT, body: envelope([message({ TextBody: 'x'.repeat(49 * 1024 * 1024) })]) }), 'MessageTooLarge'],
    ];
    for (const [name, make, code] of refusals) {
      it(name, async () => {
        const before = await stored();
        const c = make();
        const r = await inject(c.headers, c.body);
        expect(r.headers['content-type']).toMatch(/^(application|text)\/xml; charset=utf-8$/);
        const answer = postResponseOf(r.text);
        expect(answer).toMatchObject({ ErrorCode: code, MessageResults: [] });
        expect(answer.TransactionReceipt).toMatch(/^\S+$/);
        expect(r.headers['x-postline-error']).toBeTruthy();
        expect(await stored()).toBe(before);
      });
    }

    it('a disabled server', async () => {
      const tenant = await createTenant(t.store, 'Disabled tenant');
      const key = (await createKey(t.store, tenant.serverId, 'injection')).key;
      await setServerStatus(t.db, tenant.serverId, 'disabled');
      const before = await stored();
      const r = await inject(XML_ACCEPT, envelope([message()], { ServerId: tenant.serverId, ApiKey: key }));
      expect(postResponseOf(r.text).ErrorCode).toBe('AccountDisabled');
      expect(await stored()).toBe(before);
    });

    it('an unknown route or method under /api/v1', async () => {
      for (const [method, path] of [
        ['GET', '/api/v1/nothing'],
        ['POST', '/api/v1/emails'],
      ] as const) {
        const r = await send(t, method, path, { accept: 'text/xml' }, method === 'POST' ? envelope([message()]) : undefined);
        expect([method, path, r.status, r.headers['content-type']]).toEqual([method, path, 404, 'text/xml; charset=utf-8']);
        expect(postResponseOf(r.text)).toMatchObject({ ErrorCode: 'InvalidData', MessageResults: [] });
        expect(r.headers['x-postline-error']).toBe(`no route ${method} ${path}; the Injection API is POST /api/v1/email`);
      }
      // A wrong method on the one route is 405, with Allow, in the same shape.
      const wrong = await send(t, 'GET', '/api/v1/email', { accept: 'text/xml' });
      expect([wrong.status, wrong.headers['content-type'], wrong.headers.allow]).toEqual([405, 'text/xml; charset=utf-8', 'POST']);
      expect(postResponseOf(wrong.text)).toMatchObject({ ErrorCode: 'InvalidData', MessageResults: [] });
      expect(wrong.headers['x-postline-error']).toBe('/api/v1/email does not take GET; it takes POST');
      const json = await send(t, 'GET', '/api/v1/nothing', { accept: 'application/json' });
      expect([json.status, Object.keys(JSON.parse(json.text))]).toEqual([404, ['ErrorCode', 'MessageResults', 'TransactionReceipt']]);
    });
  });

  it('replays an Idempotency-Key answer in the format each request asks for', async () => {
    const key = `xml-${Date.now()}`;
    const body = envelope([message({ Subject: 'Once' })]);
    const before = await stored();
    const first = await inject({ 'content-type': 'application/json', accept: 'application/json', 'idempotency-key': key }, body);
    const again = await inject({ ...XML_ACCEPT, 'idempotency-key': key }, body);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(postResponseOf(again.text)).toEqual(JSON.parse(first.text));
    const conflict = await inject({ ...XML_ACCEPT, 'idempotency-key': key }, envelope([message({ Subject: 'Twice' })]));
    expect([conflict.status, postResponseOf(conflict.text).ErrorCode]).toEqual([409, 'InvalidData']);
    expect(await stored()).toBe(before + 1);
  });

  it('answers TooManyErrors in XML once a client has failed authentication too often', async () => {
    // Earlier refusals of this file count too: fail until the limit (20 a minute) is reached.
    const wrong = envelope([message()], { ApiKey: `${'C'.repeat(20)}.${'D'.repeat(40)}` });
    const codes: string[] = [];
    while (codes.length <= 20 && codes[codes.length - 1] !== 'TooManyErrors') codes.push(postResponseOf((await inject(XML_ACCEPT, wrong)).text).ErrorCode);
    expect(codes.slice(0, -1).every((c) => c === 'InvalidAuthentication')).toBe(true);
    expect(codes[codes.length - 1]).toBe('TooManyErrors');
    const before = await stored();
    const r = await inject(XML_ACCEPT, envelope([message()]));
    expect(postResponseOf(r.text)).toMatchObject({ ErrorCode: 'TooManyErrors', MessageResults: [] });
    expect(await stored()).toBe(before);
  });
});

describe(`XML answers of the Marketing API (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let auth: string;
  const call = (method: string, path: string, accept: string | null, body?: unknown, authorization = auth) =>
    send(
      t,
      method,
      `/marketing/v1${path}`,
      {
        authorization,
        ...(accept === null ? {} : { accept }),
        ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      },
      body === undefined ? undefined : JSON.stringify(body),
    );
  const XML = 'application/xml';

  const NUMBERS = new Set(['listId', 'serverId', 'contactCount', 'contactId', 'customFieldNameId', 'total']);
  const ARRAYS: Record<string, string> = { lists: 'list', contacts: 'contact', customFields: 'customField' };
  /** An element read back into the JSON value it was written from (the names are the JSON names). */
  function jsonOf(name: string, el: unknown): unknown {
    if (typeof el === 'object' && el !== null && (el as Node)['@_xsi:nil'] === 'true') return null;
    if (name === 'customFields' && !(el === '' || Array.isArray((el as Node).customField))) {
      // A contact's map of values, as name/value entries.
      const entries = el === '' ? [] : (el as { field: { name: string; value: string }[] }).field;
      return Object.fromEntries(entries.map((f) => [f.name, f.value]));
    }
    if (ARRAYS[name] !== undefined) return el === '' ? [] : ((el as Node)[ARRAYS[name]] as unknown[]).map((i) => jsonOf(ARRAYS[name]!, i));
    if (typeof el === 'object' && el !== null) {
      return Object.fromEntries(
        Object.entries(el as Node)
          .filter(([k]) => !k.startsWith('@_'))
          .map(([k, v]) => [k, jsonOf(k, v)]),
      );
    }
    if (NUMBERS.has(name)) return Number(el);
    if (name === 'unsubscribed') return el === 'true';
    return el;
  }
  /** The document's root name and its value as JSON (an array root holds one element per item). */
  function readXml(xml: string, item?: string): [string, unknown] {
    const [name, root] = rootOf(xml);
    if (item === undefined) return [name, jsonOf(name, root)];
    return [name, ((root[item] as unknown[] | undefined) ?? []).map((i) => jsonOf(item, i))];
  }

  beforeAll(async () => {
    t = await startTestApp();
    const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    auth = `Basic ${Buffer.from(`${t.credentials.serverId}:${key}`).toString('base64')}`;
  });
  afterAll(async () => {
    await t.close();
  });

  it('lists, creates and reads in XML with the JSON names, and says the same as the JSON answer', async () => {
    const fresh = await createTenant(t.store, 'Empty tenant');
    const empty = await call('GET', '/lists', XML, undefined, `Basic ${Buffer.from(`${fresh.serverId}:${fresh.managementKey}`).toString('base64')}`);
    expect(empty.text).toBe('<?xml version="1.0" encoding="utf-8"?><lists xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"/>');

    const created = await call('POST', '/lists', XML, { name: 'News & <offers>' });
    expect([created.status, created.headers['content-type']]).toEqual([201, 'application/xml; charset=utf-8']);
    const [root, list] = readXml(created.text);
    expect(root).toBe('list');
    expect(list).toMatchObject({ name: 'News & <offers>', contactCount: 0, serverId: t.credentials.serverId });
    await call('POST', '/lists', null, { name: 'Second' });

    const xml = await call('GET', '/lists', 'text/xml');
    expect(xml.headers['content-type']).toBe('text/xml; charset=utf-8');
    expect(xml.headers.vary).toBe('Accept');
    const json = await call('GET', '/lists', 'application/json');
    expect(readXml(xml.text, 'list')).toEqual(['lists', JSON.parse(json.text)]);
    expect(JSON.parse(json.text)).toHaveLength(2);
  });

  it('writes a contact with null names as xsi:nil and its custom fields as name/value entries', async () => {
    expect((await call('POST', '/customfields/Team-1', null)).status).toBe(201);
    const created = await call('POST', '/contacts', null, { emailAddress: 'fan@example.com', firstName: 'Fan', customFields: { 'team-1': 'Reds' } });
    const id = (JSON.parse(created.text) as { contactId: number }).contactId;
    const xml = await call('GET', `/contacts/${id}`, XML);
    expect(xml.text).toContain('<lastName xsi:nil="true"/>');
    expect(xml.text).toContain('<customFields><field><name>Team-1</name><value>Reds</value></field></customFields>');
    expect(readXml(xml.text)).toEqual(['contact', JSON.parse((await call('GET', `/contacts/${id}`, null)).text)]);

    const search = await call('GET', '/contacts?startsWith=fan', XML);
    expect(readXml(search.text)).toEqual(['contactSearch', JSON.parse((await call('GET', '/contacts?startsWith=fan', null)).text)]);
    const fields = await call('GET', '/customfields', XML);
    expect(readXml(fields.text, 'customField')).toEqual(['customFields', JSON.parse((await call('GET', '/customfields', null)).text)]);
    expect(readXml((await call('PUT', '/lists/999999/contacts', XML, { emailAddress: 'fan@example.com' })).text)[0]).toBe('error');
  });

  it('answers every refusal as <error><message>, with the status and headers of the JSON answer', async () => {
    const before = await t.store.marketing.listLists(t.credentials.serverId);
    const cases: [string, () => Promise<Answer>, number, string][] = [
      ['no such list', () => call('PATCH', '/lists/999999', XML, { name: 'x' }), 404, 'no list 999999'],
      ['a bad body', () => call('POST', '/lists', XML, { name: 'x', extra: 1 }), 400, ''],
      ['a duplicate', () => call('POST', '/lists', XML, { name: 'Second' }), 409, 'a list named "Second" already exists'],
      ['no credentials', () => call('GET', '/lists', XML, undefined, 'Bearer nothing'), 401, ''],
      ['an unknown route', () => call('GET', '/nothing', XML), 404, 'no route GET /marketing/v1/nothing'],
      [
        'a body that is not JSON',
        () => send(t, 'POST', '/marketing/v1/lists', { authorization: auth, accept: XML, 'content-type': 'application/xml' }, '<name>x</name>'),
        415,
        'send the body as application/json',
      ],
    ];
    for (const [name, make, status, text] of cases) {
      const r = await make();
      expect([name, r.status, r.headers['content-type']]).toEqual([name, status, 'application/xml; charset=utf-8']);
      const [root, body] = readXml(r.text);
      // Postline adds <field> when one request field is refused (the bad body's unknown "extra").
      expect([name, root, Object.keys(body as object)]).toEqual([name, 'error', name === 'a bad body' ? ['message', 'field'] : ['message']]);
      if (text !== '') expect((body as { message: string }).message).toBe(text);
      if (status === 401) expect(r.headers['www-authenticate']).toBe('Basic realm="postline marketing"');
    }
    expect(await t.store.marketing.listLists(t.credentials.serverId)).toEqual(before);
  });

  it('answers JSON unless Accept prefers XML, and nothing at all for 204', async () => {
    for (const accept of [null, '*/*', 'application/json', 'application/json, application/xml', 'text/html']) {
      const r = await call('GET', '/lists', accept);
      expect([accept, r.headers['content-type']]).toEqual([accept, 'application/json; charset=utf-8']);
    }
    expect((await call('GET', '/lists', 'application/json;q=0.5, application/xml')).headers['content-type']).toBe('application/xml; charset=utf-8');
    const list = JSON.parse((await call('POST', '/lists', null, { name: 'Doomed' })).text) as { listId: number };
    const gone = await call('DELETE', `/lists/${list.listId}`, XML);
    expect([gone.status, gone.text]).toEqual([204, '']);
  });
});
