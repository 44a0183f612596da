import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows, startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';
import { MAX_WEBHOOK_ENDPOINTS_PER_SERVER } from '../../src/core/api-v2-limits.js';

interface Wire {
  id: number;
  url: string;
  eventTypes: string[];
  format: string;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
  secretKey: string;
  validationKey: string | null;
  createdOn: string;
  lastUpdate: string;
  validatedOn: string | null;
  signingSecret?: string;
  previousSecretExpiresOn?: string;
}
type One = { data: Wire } & V2Error;

describe(`webhook endpoint routes, /api/v2/servers/:serverId/webhooks (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let key: string;
  let base: string;
  let receiver: WebhookReceiver;
  const endpoints = () => countRows(t.db, 'webhook_endpoints');
  const create = (body: unknown) => v2<One>(t, 'POST', base, { key, body });

  beforeAll(async () => {
    t = await startTestApp({ config: { webhookAllowCidrs: ['127.0.0.1'] } });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    base = `/servers/${serverId}/webhooks`;
    receiver = await startReceiver();
  });
  beforeEach(async () => {
    for (const e of (await t.store.webhooks.listEndpoints(serverId, { limit: 100, offset: 0, direction: 'asc' })).rows)
      await t.store.webhooks.deleteEndpoint(serverId, e.id);
    receiver.status = 200;
    receiver.answer = 'ok';
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('every route refuses a missing, injection-scope or foreign key and changes nothing', async () => {
    const existing = (await create({ url: receiver.url })).body.data.id;
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const foreign = await createKey(t.store, (await t.store.tenancy.createServer({ accountId: account.id, name: 'Foreign' }, Date.now())).id, 'management');
    const routes = [
      ['POST', base, { body: { url: receiver.url } }],
      ['GET', base, {}],
      ['GET', `${base}/${existing}`, {}],
      ['PATCH', `${base}/${existing}`, { body: { enabled: false } }],
      ['DELETE', `${base}/${existing}`, {}],
      ['POST', `${base}/${existing}/validate`, {}],
      ['POST', `${base}/${existing}/rotate-secret`, {}],
      ['GET', `${base}/${existing}/attempts`, {}],
      ['POST', `${base}/${existing}/replay`, { body: { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' } }],
    ] as const;
    const before = await t.store.webhooks.getEndpoint(serverId, existing);
    for (const [method, path, opts] of routes) {
      for (const [k, status, code] of [
        [null, 401, 'unauthorized'],
        [t.credentials.apiKey, 403, 'insufficient_scope'],
        [foreign.key, 403, 'wrong_server'],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { ...opts, key: k });
        expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, status, code]);
      }
    }
    expect(await endpoints()).toBe(1);
    expect(await t.store.webhooks.getEndpoint(serverId, existing)).toEqual(before);
    expect(receiver.received).toHaveLength(1);
  });

  describe('create', () => {
    it('validates with a handshake and answers the endpoint with its secrets', async () => {
      // A form endpoint given its receiver's ValidationKey validates at once (the receiver answers the key).
      receiver.answer = 'receiver-key-0001';
      const r = await create({ url: receiver.url, eventTypes: ['Delivered', 'Failed'], format: 'form', validationKey: 'receiver-key-0001' });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({
        url: receiver.url,
        eventTypes: ['Delivered', 'Failed'],
        format: 'form',
        enabled: true,
        disabledReason: null,
        failingSince: null,
        validationKey: 'receiver-key-0001',
      });
      expect(r.body.data.secretKey).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(r.body.data.validatedOn).not.toBeNull();
      const [v] = receiver.received;
      expect(v!.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(verify(v!.headers, v!.body, [r.body.data.signingSecret!])).toEqual({ ok: true });
      // The signing secret is never shown again.
      const got = await v2<One>(t, 'GET', `${base}/${r.body.data.id}`, { key });
      expect(got.body.data.signingSecret).toBeUndefined();
      expect(got.text).not.toContain(r.body.data.signingSecret!);
      expect(got.body.data.secretKey).toBe(r.body.data.secretKey);
    });

    it('with validate: false, stores it disabled until validated', async () => {
      const r = await create({ url: receiver.url, validate: false });
      expect(r.body.data).toMatchObject({ enabled: false, validatedOn: null });
      expect(r.body.data.disabledReason).toMatch(/not validated/);
      expect(receiver.received).toHaveLength(0);
      // Enabling a never-validated endpoint runs the handshake.
      const on = await v2<One>(t, 'PATCH', `${base}/${r.body.data.id}`, { key, body: { enabled: true } });
      expect(on.body.data).toMatchObject({ enabled: true, disabledReason: null });
      expect(receiver.received.map((x) => x.json!.Type)).toEqual(['Validation']);
    });

    it.each([
      [{}, 'validation_failed', 'url', /"url" is required/],
      [{ url: 'ftp://example.com/x' }, 'validation_failed', 'url', /http or https/],
      [{ url: 'not a url' }, 'validation_failed', 'url', /not a valid absolute URL/],
      [{ url: 'http://user:pw@example.com/' }, 'validation_failed', 'url', /user name or password/],
      [{ url: 'http://10.1.2.3/hook' }, 'validation_failed', 'url', /refused: 10\.1\.2\.3 is private/],
      [{ url: 'http://169.254.169.254/' }, 'validation_failed', 'url', /link-local/],
      [{ url: `http://x.test/${'a'.repeat(2100)}` }, 'validation_failed', 'url', /2048/],
      [{ url: 'http://127.0.0.1:1/x', eventTypes: ['Opened'] }, 'validation_failed', 'eventTypes[0]', /must be one of/],
      [{ url: 'http://127.0.0.1:1/x', eventTypes: ['Validation'] }, 'validation_failed', 'eventTypes[0]', /must be one of/],
      [{ url: 'http://127.0.0.1:1/x', eventTypes: ['Queued', 'Queued'] }, 'validation_failed', 'eventTypes', /duplicate/],
      [{ url: 'http://127.0.0.1:1/x', format: 'xml' }, 'validation_failed', 'format', /json, form/],
      [{ url: 'http://127.0.0.1:1/x', secret: 'x' }, 'unknown_field', 'secret', /unknown body field/],
    ] as const)('refuses %j with %s and stores nothing', async (body, code, field, message) => {
      const r = await create(body);
      expect(r.status).toBe(400);
      expect(r.body.error).toMatchObject({ code, field });
      expect(r.body.error.message).toMatch(message);
      expect(await endpoints()).toBe(0);
    });

    it('refuses an endpoint that fails the handshake (non-2xx or unreachable), storing nothing', async () => {
      receiver.status = 500;
      const r = await create({ url: receiver.url });
      expect(r.status).toBe(422);
      expect(r.body.error).toMatchObject({ code: 'endpoint_validation_failed', field: 'url' });
      expect(r.body.error.message).toMatch(/HTTP 500/);
      const down = await create({ url: 'http://127.0.0.1:1/nothing-listens' });
      expect(down.body.error.code).toBe('endpoint_validation_failed');
      expect(down.body.error.message).toMatch(/ECONNREFUSED/);
      expect(await endpoints()).toBe(0);
    });

    it(`refuses more than ${MAX_WEBHOOK_ENDPOINTS_PER_SERVER} endpoints per server`, async () => {
      for (let i = 0; i < MAX_WEBHOOK_ENDPOINTS_PER_SERVER; i++) expect((await create({ url: `${receiver.url}/${i}`, validate: false })).status).toBe(200);
      const r = await create({ url: receiver.url, validate: false });
      expect([r.status, r.body.error.code]).toEqual([409, 'limit_reached']);
      expect(await endpoints()).toBe(MAX_WEBHOOK_ENDPOINTS_PER_SERVER);
    });
  });

  it('private addresses: refused by default, allowed with webhookAllowPrivate', async () => {
    for (const [config, status] of [
      [{}, 400],
      [{ webhookAllowPrivate: true }, 200],
    ] as const) {
      const other = await startTestApp({ config });
      try {
        const k = (await createKey(other.store, other.credentials.serverId, 'management')).key;
        const r = await v2<One>(other, 'POST', `/servers/${other.credentials.serverId}/webhooks`, { key: k, body: { url: receiver.url } });
        expect(r.status).toBe(status);
        if (status === 400) expect(r.body.error.message).toMatch(/127\.0\.0\.1 is loopback/);
      } finally {
        await other.close();
      }
    }
  });

  it('lists a page at a time with the total; gets one; 404 for an unknown or malformed id', async () => {
    const ids: number[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ url: `${receiver.url}/${i}`, validate: false })).body.data.id);
    const page = await v2<{ data: Wire[]; total: number }>(t, 'GET', base, { key, query: { pageSize: 2, pageNumber: 1 } });
    expect(page.body).toMatchObject({ total: 3 });
    expect(page.body.data.map((e) => e.id)).toEqual([ids[2]]);
    const desc = await v2<{ data: Wire[] }>(t, 'GET', base, { key, query: { sortDirection: 'dsc' } });
    expect(desc.body.data.map((e) => e.id)).toEqual([...ids].reverse());
    expect((await v2<One>(t, 'GET', `${base}/${ids[0]}`, { key })).body.data.id).toBe(ids[0]);
    for (const [path, code] of [
      [`${base}/999999`, 'not_found'],
      [`${base}/abc`, 'validation_failed'],
    ] as const) {
      expect((await v2<V2Error>(t, 'GET', path, { key })).body.error.code).toBe(code);
    }
    expect((await v2<V2Error>(t, 'GET', base, { key, query: { pageSize: 0 } })).body.error).toMatchObject({ code: 'validation_failed', field: 'pageSize' });
    expect((await v2<V2Error>(t, 'GET', base, { key, query: { sortField: 'url' } })).body.error).toMatchObject({
      code: 'validation_failed',
      field: 'sortField',
    });
  });

  describe('update, delete', () => {
    it('changes the given fields; a new URL must pass the handshake, else nothing changes', async () => {
      const e = (await create({ url: receiver.url })).body.data;
      const r = await v2<One>(t, 'PATCH', `${base}/${e.id}`, { key, body: { eventTypes: ['Failed'], format: 'form' } });
      expect(r.body.data).toMatchObject({ eventTypes: ['Failed'], format: 'form', url: receiver.url });
      // Now a form endpoint, it has a ValidationKey its receiver must answer (to the handshake below too).
      receiver.answer = r.body.data.validationKey!;
      const off = await v2<One>(t, 'PATCH', `${base}/${e.id}`, { key, body: { enabled: false } });
      expect(off.body.data).toMatchObject({ enabled: false, disabledReason: 'disabled through the API' });
      const on = await v2<One>(t, 'PATCH', `${base}/${e.id}`, { key, body: { enabled: true } });
      expect(on.body.data).toMatchObject({ enabled: true, disabledReason: null });
      receiver.received.length = 0;
      const moved = await v2<One>(t, 'PATCH', `${base}/${e.id}`, { key, body: { url: `${receiver.url}/v2` } });
      expect(moved.body.data.url).toBe(`${receiver.url}/v2`);
      expect(receiver.received.map((x) => x.json!.Type)).toEqual(['Validation']);
      const before = await t.store.webhooks.getEndpoint(serverId, e.id);
      for (const [body, status, code] of [
        [{ url: 'http://127.0.0.1:1/down' }, 422, 'endpoint_validation_failed'],
        [{ url: 'http://10.0.0.1/' }, 400, 'validation_failed'],
        [{}, 400, 'validation_failed'],
        [{ enabled: 'yes' }, 400, 'validation_failed'],
        [{ secretKey: 'x' }, 400, 'unknown_field'],
        [{ eventTypes: ['Nope'] }, 400, 'validation_failed'],
      ] as const) {
        const bad = await v2<V2Error>(t, 'PATCH', `${base}/${e.id}`, { key, body });
        expect([JSON.stringify(body), bad.status, bad.body.error.code]).toEqual([JSON.stringify(body), status, code]);
      }
      expect(await t.store.webhooks.getEndpoint(serverId, e.id)).toEqual(before);
      expect((await v2<V2Error>(t, 'PATCH', `${base}/999999`, { key, body: { enabled: false } })).body.error.code).toBe('not_found');
    });

    it('deletes an endpoint; it is gone afterwards', async () => {
      const e = (await create({ url: receiver.url })).body.data;
      expect((await v2<{ data: { id: number; deleted: boolean } }>(t, 'DELETE', `${base}/${e.id}`, { key })).body.data).toEqual({ id: e.id, deleted: true });
      expect(await endpoints()).toBe(0);
      expect((await v2<V2Error>(t, 'DELETE', `${base}/${e.id}`, { key })).status).toBe(404);
    });
  });

  describe('validate, rotate-secret, attempts, replay', () => {
    it('validate runs the handshake again; a failure changes nothing', async () => {
      const e = (await create({ url: receiver.url })).body.data;
      receiver.status = 503;
      const bad = await v2<V2Error>(t, 'POST', `${base}/${e.id}/validate`, { key });
      expect([bad.status, bad.body.error.code]).toEqual([422, 'endpoint_validation_failed']);
      expect((await t.store.webhooks.getEndpoint(serverId, e.id))!.validatedAt).toBe(Date.parse(e.validatedOn!));
      receiver.status = 200;
      expect((await v2<One>(t, 'POST', `${base}/${e.id}/validate`, { key })).status).toBe(200);
      expect((await v2<V2Error>(t, 'POST', `${base}/999999/validate`, { key })).status).toBe(404);
    });

    it('rotate-secret: the new secret is shown once; both sign during the overlap', async () => {
      const e = (await create({ url: receiver.url })).body.data;
      const r = await v2<One>(t, 'POST', `${base}/${e.id}/rotate-secret`, { key });
      const fresh = r.body.data.signingSecret!;
      expect(fresh).toMatch(/^whsec_/);
      expect(fresh).not.toBe(e.signingSecret);
      const expires = Date.parse(r.body.data.previousSecretExpiresOn!);
      expect(expires - Date.now()).toBeGreaterThan(23 * 3_600_000);
      receiver.received.length = 0;
      await v2(t, 'POST', `${base}/${e.id}/validate`, { key });
      const [v] = receiver.received;
      expect(String(v!.headers['webhook-signature']).split(' ')).toHaveLength(2);
      expect(verify(v!.headers, v!.body, [fresh])).toEqual({ ok: true });
      expect(verify(v!.headers, v!.body, [e.signingSecret!])).toEqual({ ok: true });
      // A second rotation drops the first secret.
      const again = (await v2<One>(t, 'POST', `${base}/${e.id}/rotate-secret`, { key })).body.data.signingSecret!;
      expect((await t.store.webhooks.getEndpoint(serverId, e.id))!.signingSecrets).toEqual([again, fresh]);
    });

    it('attempts: an empty log for a new endpoint; paging parameters are checked', async () => {
      const e = (await create({ url: receiver.url })).body.data;
      expect((await v2<{ data: unknown[]; total: number }>(t, 'GET', `${base}/${e.id}/attempts`, { key })).body).toEqual({ data: [], total: 0 });
      expect((await v2<V2Error>(t, 'GET', `${base}/${e.id}/attempts`, { key, query: { pageSize: 101 } })).body.error.field).toBe('pageSize');
      expect((await v2<V2Error>(t, 'GET', `${base}/${e.id}/attempts`, { key, query: { eventId: 'x' } })).body.error.code).toBe('unknown_field');
      expect((await v2<V2Error>(t, 'GET', `${base}/999999/attempts`, { key })).status).toBe(404);
    });

    it("replay queues the endpoint's events of a range again and says how many; bad ranges are refused", async () => {
      // Disabled (never validated): no outbox rows at accept time.
      const e = (await create({ url: receiver.url, validate: false, eventTypes: ['Queued'] })).body.data;
      const before = new Date(Date.now() - 1000).toISOString();
      expect(
        (
          await inject(t, {
            ServerId: serverId,
            ApiKey: t.credentials.apiKey,
            Messages: [
              {
                To: [{ EmailAddress: 'a@example.com' }, { EmailAddress: 'b@example.com' }],
                From: { EmailAddress: 's@example.com' },
                Subject: 'S',
                TextBody: 'B',
              },
            ],
          })
        ).body.ErrorCode,
      ).toBe('Success');
      const after = new Date(Date.now() + 1000).toISOString();
      expect(await countRows(t.db, 'webhook_deliveries')).toBe(0);
      const r = await v2<{ data: { queued: number; from: string; to: string } }>(t, 'POST', `${base}/${e.id}/replay`, {
        key,
        body: { from: before, to: after },
      });
      expect(r.body.data).toEqual({ queued: 2, from: before, to: after });
      expect(await countRows(t.db, 'webhook_deliveries')).toBe(2);
      for (const [body, field, message] of [
        [{ from: after, to: before }, 'to', /later than from/],
        [{ from: '2024-01-01T00:00:00Z', to: '2024-01-09T00:00:00Z' }, 'to', /longer than 7 days/],
        [{ from: 'yesterday', to: after }, 'from', /date-time/],
        [{ from: before }, 'to', /required/],
        [{ from: before, to: after, types: [] }, 'types', /unknown/],
      ] as const) {
        const bad = await v2<V2Error>(t, 'POST', `${base}/${e.id}/replay`, { key, body });
        expect([bad.status, bad.body.error.field]).toEqual([400, field]);
        expect(bad.body.error.message).toMatch(message);
      }
      expect(await countRows(t.db, 'webhook_deliveries')).toBe(2);
      expect((await v2<V2Error>(t, 'POST', `${base}/999999/replay`, { key, body: { from: before, to: after } })).status).toBe(404);
    });
  });
});
