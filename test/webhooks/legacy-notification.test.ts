import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { countRows, startLegacyReceiver, startReceiver, until } from '../helpers/webhooks.js';

interface Endpoint {
  id: number;
  format: string;
  eventTypes: string[];
  enabled: boolean;
  disabledReason: string | null;
  secretKey: string;
  validationKey: string | null;
  validatedOn: string | null;
}
interface Attempt {
  type: string;
  ok: boolean;
  status: number | null;
  error: string | null;
  response: string | null;
}
interface ApiError {
  errorCode?: string;
  error?: { code: string; message: string; field?: string };
  [k: string]: unknown;
}

/** The legacy Notification API (docs/webhooks.md): form bodies, the ValidationKey handshake on every answer, LocalIp. */
describe(`legacy Notification API: form endpoints and their ValidationKey (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let key: string;
  let base: string;
  const send = (to: string) =>
    inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: [{ EmailAddress: to }], From: { EmailAddress: 'sender@example.com' }, Subject: 'Hello', TextBody: 'Body' }],
    });
  const create = (body: Record<string, unknown>) => v2<{ data: Endpoint & { signingSecret: string } } & ApiError>(t, 'POST', base, { key, body });
  const get = async (id: number) => (await v2<{ data: Endpoint }>(t, 'GET', `${base}/${id}`, { key })).body.data;
  const attempts = async (id: number) =>
    (await v2<{ data: Attempt[]; total: number }>(t, 'GET', `${base}/${id}/attempts`, { key, query: { sortDirection: 'asc', pageSize: 100 } })).body;
  const errorOf = (body: ApiError) => JSON.stringify(body);

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery', 'webhooks'],
      config: { outboundPort: sink.port, webhookAllowCidrs: ['127.0.0.1'] },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
      // Short waits between attempts, so a retry is seen within the test.
      webhooks: { pollMs: 50, retrySchedule: Array.from({ length: 14 }, () => 100) },
    });
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    base = `/servers/${t.credentials.serverId}/webhooks`;
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it("a receiver answering its ValidationKey is validated, then gets Delivered (never Queued) form-encoded with SocketLabs' field names and LocalIp", async () => {
    const receiver = await startLegacyReceiver();
    try {
      // No key given: Postline makes one, which the receiver cannot know yet, so it is not validated now.
      const r = await create({ url: receiver.url, format: 'form' });
      expect(r.status).toBe(200);
      const ep = r.body.data;
      expect(ep).toMatchObject({ format: 'form', enabled: false, validatedOn: null, eventTypes: [] });
      expect(ep.validationKey).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(receiver.requests).toHaveLength(0);
      expect((await get(ep.id)).validationKey).toBe(ep.validationKey);

      // The owner configures the receiver with both keys, then validates.
      receiver.secretKey = ep.secretKey;
      receiver.validationKey = ep.validationKey;
      const validated = await v2<{ data: Endpoint }>(t, 'POST', `${base}/${ep.id}/validate`, { key });
      expect(validated.status).toBe(200);
      expect(validated.body.data).toMatchObject({ enabled: true, disabledReason: null });
      const validation = receiver.requests[0]!;
      expect(validation.contentType).toBe('application/x-www-form-urlencoded');
      expect([...validation.fields.keys()]).toEqual(['Type', 'DateTime', 'ServerId', 'SecretKey', 'Address', 'MailingId', 'MessageId']);
      expect(validation.fields.get('Type')).toBe('Validation');
      // The ValidationKey is answered, never sent.
      expect(validation.fields.toString()).not.toContain(ep.validationKey!);

      expect((await send('legacy-1@sink.test')).body.ErrorCode).toBe('Success');
      const delivered = await until(
        () => receiver.accepted().find((f) => f.get('Type') === 'Delivered'),
        () => receiver.requests.map((x) => x.fields.toString()),
      );
      expect([...delivered.keys()]).toEqual([
        'Type',
        'DateTime',
        'ServerId',
        'SecretKey',
        'Address',
        'MailingId',
        'MessageId',
        'Response',
        'LocalIp',
        'RemoteMta',
      ]);
      expect(delivered.get('Address')).toBe('legacy-1@sink.test');
      expect(delivered.get('SecretKey')).toBe(ep.secretKey);
      expect(delivered.get('LocalIp')).toBe('127.0.0.1');
      expect(delivered.get('RemoteMta')).toBe('127.0.0.1');
      expect(delivered.get('MailingId')).toBe('');
      expect(delivered.get('Response')).toMatch(/^250/);
      const log = await until(
        async () => {
          const a = await attempts(ep.id);
          return a.data.length >= 1 ? a : undefined;
        },
        () => null,
      );
      expect(log.data.map((a) => [a.type, a.ok])).toEqual([['Delivered', true]]);
      // Queued never went to the legacy endpoint: the attempt log above holds Delivered only.
      expect(receiver.requests.some((x) => x.fields.get('Type') === 'Queued')).toBe(false);
      // A replay queues only what a legacy endpoint receives: the Delivered event again, not the Queued one.
      const range = { from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 1_000).toISOString() };
      const replayed = await v2<{ data: { queued: number } }>(t, 'POST', `${base}/${ep.id}/replay`, { key, body: range });
      expect(replayed.body.data.queued).toBe(1);
      await until(
        () => (receiver.accepted().filter((f) => f.get('Type') === 'Delivered').length === 2 ? true : undefined),
        () => receiver.requests.length,
      );
      expect(receiver.requests.some((x) => x.fields.get('Type') === 'Queued')).toBe(false);
      expect((await v2(t, 'DELETE', `${base}/${ep.id}`, { key })).status).toBe(200);
    } finally {
      await receiver.close();
    }
  });

  it('a receiver answering 200 without the key fails validation with a clear error, and nothing is stored', async () => {
    const receiver = await startLegacyReceiver();
    try {
      const before = await countRows(t.db, 'webhook_endpoints');
      const r = await create({ url: receiver.url, format: 'form', validationKey: 'moved-from-socketlabs-1' });
      expect(r.status).toBe(422);
      expect(errorOf(r.body)).toContain('endpoint_validation_failed');
      expect(errorOf(r.body)).toContain("without the endpoint's ValidationKey");
      expect(errorOf(r.body)).toContain('moved-from-socketlabs-1');
      expect(receiver.requests.map((x) => [x.fields.get('Type'), x.status])).toEqual([['Validation', 200]]);
      expect(await countRows(t.db, 'webhook_endpoints')).toBe(before);
    } finally {
      await receiver.close();
    }
  });

  it('an answer without the key is a failed delivery, retried until the receiver answers the key again', async () => {
    const receiver = await startLegacyReceiver();
    try {
      // A receiver moved from SocketLabs keeps its key: given at creation, it validates at once.
      receiver.validationKey = 'moved-from-socketlabs-2';
      const r = await create({ url: receiver.url, format: 'form', validationKey: 'moved-from-socketlabs-2', eventTypes: ['Delivered'] });
      expect(r.status).toBe(200);
      const id = r.body.data.id;
      expect(r.body.data).toMatchObject({ enabled: true, validationKey: 'moved-from-socketlabs-2' });

      receiver.validationKey = null; // now it answers a plain "ok"
      await send('legacy-2@sink.test');
      const failing = await until(
        async () => {
          const a = await attempts(id);
          return a.total >= 2 ? a : undefined;
        },
        () => null,
      );
      for (const a of failing.data) {
        expect(a).toMatchObject({ type: 'Delivered', ok: false, status: 200, response: 'ok' });
        expect(a.error).toContain("without the endpoint's ValidationKey");
      }
      receiver.validationKey = 'moved-from-socketlabs-2';
      const done = await until(
        async () => {
          const a = await attempts(id);
          return a.data.some((x) => x.ok) ? a : undefined;
        },
        () => null,
      );
      expect(done.data.at(-1)).toMatchObject({ type: 'Delivered', ok: true, status: 200 });
      // The same event every time.
      expect(new Set(receiver.requests.slice(1).map((x) => x.fields.get('Address')))).toEqual(new Set(['legacy-2@sink.test']));
      await v2(t, 'DELETE', `${base}/${id}`, { key });
    } finally {
      await receiver.close();
    }
  });

  it('rotates or sets the ValidationKey of a form endpoint; refuses it for a JSON endpoint, a bad key and legacy-less types, changing nothing', async () => {
    const receiver = await startLegacyReceiver();
    try {
      const ep = (await create({ url: receiver.url, format: 'form', validate: false })).body.data;
      const rotated = await v2<{ data: Endpoint }>(t, 'POST', `${base}/${ep.id}/rotate-validation-key`, { key });
      expect(rotated.status).toBe(200);
      expect(rotated.body.data.validationKey).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(rotated.body.data.validationKey).not.toBe(ep.validationKey);
      const patched = await v2<{ data: Endpoint }>(t, 'PATCH', `${base}/${ep.id}`, { key, body: { validationKey: 'patched-key-41' } });
      expect(patched.body.data.validationKey).toBe('patched-key-41');
      const set = await v2<{ data: Endpoint }>(t, 'POST', `${base}/${ep.id}/rotate-validation-key`, { key, body: { validationKey: 'my-own-key-42' } });
      expect(set.body.data.validationKey).toBe('my-own-key-42');

      const tooShort = await v2<ApiError>(t, 'POST', `${base}/${ep.id}/rotate-validation-key`, { key, body: { validationKey: 'short' } });
      expect(tooShort.status).toBe(400);
      expect(errorOf(tooShort.body)).toContain('validationKey');
      expect((await get(ep.id)).validationKey).toBe('my-own-key-42');

      const json = (await create({ url: receiver.url, validate: false })).body.data;
      expect(json.validationKey).toBeNull();
      const refused = await v2<ApiError>(t, 'POST', `${base}/${json.id}/rotate-validation-key`, { key });
      expect(refused.status).toBe(400);
      expect(errorOf(refused.body)).toContain('only a form');
      expect((await get(json.id)).validationKey).toBeNull();

      const before = await countRows(t.db, 'webhook_endpoints');
      const queued = await create({ url: receiver.url, format: 'form', eventTypes: ['Queued', 'Delivered'], validate: false });
      expect(queued.status).toBe(400);
      expect(errorOf(queued.body)).toContain('cannot receive Queued');
      const keyOnJson = await create({ url: receiver.url, validationKey: 'my-own-key-43', validate: false });
      expect(keyOnJson.status).toBe(400);
      expect(errorOf(keyOnJson.body)).toContain('validationKey is for form');
      expect(await countRows(t.db, 'webhook_endpoints')).toBe(before);

      // A JSON endpoint asking for Deferred cannot become a form endpoint; one that can gets a key.
      const withDeferred = (await create({ url: receiver.url, eventTypes: ['Deferred'], validate: false })).body.data;
      const toForm = await v2<ApiError>(t, 'PATCH', `${base}/${withDeferred.id}`, { key, body: { format: 'form' } });
      expect(toForm.status).toBe(400);
      expect(await get(withDeferred.id)).toMatchObject({ format: 'json', validationKey: null });
      const switched = await v2<{ data: Endpoint }>(t, 'PATCH', `${base}/${json.id}`, { key, body: { format: 'form' } });
      expect(switched.status).toBe(200);
      expect(switched.body.data.validationKey).toMatch(/^[A-Za-z0-9]{20}$/);
      // Back to json: no key in use; to form again: the same key as before.
      const back = await v2<{ data: Endpoint }>(t, 'PATCH', `${base}/${json.id}`, { key, body: { format: 'json' } });
      expect(back.body.data.validationKey).toBeNull();
      const again = await v2<{ data: Endpoint }>(t, 'PATCH', `${base}/${json.id}`, { key, body: { format: 'form' } });
      expect(again.body.data.validationKey).toBe(switched.body.data.validationKey);
      expect(receiver.requests).toHaveLength(0);
      for (const id of [ep.id, json.id, withDeferred.id]) await v2(t, 'DELETE', `${base}/${id}`, { key });
    } finally {
      await receiver.close();
    }
  });

  it('an endpoint switched from json to form gives up its waiting Queued events instead of sending a legacy receiver a type it does not know', async () => {
    const receiver = await startReceiver();
    try {
      const id = (await create({ url: receiver.url })).body.data.id;
      receiver.status = 500;
      await send('legacy-3@sink.test');
      // Both events of the recipient wait: Queued failing, Delivered behind it.
      await until(
        async () => ((await attempts(id)).total >= 2 ? true : undefined),
        () => null,
      );
      const switched = await v2<{ data: Endpoint }>(t, 'PATCH', `${base}/${id}`, { key, body: { format: 'form' } });
      expect(switched.status).toBe(200);
      receiver.answer = switched.body.data.validationKey!;
      receiver.status = 200;
      const delivered = await until(
        () => receiver.received.find((x) => new URLSearchParams(x.body).get('Type') === 'Delivered'),
        () => receiver.received.length,
      );
      expect(delivered.headers['content-type']).toBe('application/x-www-form-urlencoded');
      // No Queued event in the legacy form. (A JSON attempt already under way when the endpoint was
      // switched may still arrive once the receiver answers 200: it left before the switch.)
      const asForm = receiver.received.filter((x) => x.headers['content-type'] === 'application/x-www-form-urlencoded');
      expect(asForm.some((x) => new URLSearchParams(x.body).get('Type') === 'Queued')).toBe(false);
      const log = (await attempts(id)).data;
      const gaveUp = log.filter((a) => a.type === 'Queued' && a.status === null);
      expect(gaveUp.at(-1)!.error).toContain('a legacy (form) endpoint does not receive Queued events');
      await v2(t, 'DELETE', `${base}/${id}`, { key });
    } finally {
      await receiver.close();
    }
  });
});
