/**
 * POST /api/v2/servers/:serverId/webhooks/:webhookId/test against the real store and a real HTTP
 * receiver on loopback: the outcome is answered (success and failure alike) and nothing changes.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows, startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';

interface Outcome {
  eventId: string;
  type: string;
  attemptedOn: string;
  ok: boolean;
  status: number | null;
  durationMs: number;
  error: string | null;
  response: string | null;
}
interface Endpoint {
  id: number;
  enabled: boolean;
  disabledReason: string | null;
  validatedOn: string | null;
  lastUpdate: string;
  secretKey: string;
  signingSecret?: string;
}

describe(`webhook test event, POST /api/v2/servers/:serverId/webhooks/:id/test (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let key: string;
  let base: string;
  let receiver: WebhookReceiver;
  let endpoint: Endpoint;

  beforeAll(async () => {
    // The receiver is on loopback: allowed explicitly, as an operator would for an internal receiver.
    t = await startTestApp({ config: { webhookAllowCidrs: ['127.0.0.1'] } });
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    base = `/servers/${t.credentials.serverId}/webhooks`;
    receiver = await startReceiver();
    const made = await v2<{ data: Endpoint }>(t, 'POST', base, { key, body: { url: receiver.url } });
    expect(made.status).toBe(200);
    endpoint = made.body.data;
  });
  beforeEach(() => {
    receiver.status = 200;
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await receiver.close();
    await t.close();
  });

  it('sends a signed Validation payload and answers the 2xx outcome; nothing is written', async () => {
    const attempts = await countRows(t.db, 'webhook_attempts');
    const r = await v2<{ data: Outcome }>(t, 'POST', `${base}/${endpoint.id}/test`, { key });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ type: 'Validation', ok: true, status: 200, error: null, response: 'ok' });
    expect(r.body.data.durationMs).toBeGreaterThanOrEqual(0);
    expect(Date.parse(r.body.data.attemptedOn)).not.toBeNaN();
    expect(receiver.received).toHaveLength(1);
    const got = receiver.received[0]!;
    expect(got.json).toMatchObject({ Type: 'Validation', ServerId: t.credentials.serverId, SecretKey: endpoint.secretKey, EventId: r.body.data.eventId });
    expect(verify(got.headers, got.body, [endpoint.signingSecret!])).toEqual({ ok: true });
    expect(await countRows(t.db, 'webhook_attempts')).toBe(attempts);
  });

  it("answers a receiver's failure as an outcome (ok false, its status and answer) and leaves the endpoint as it was", async () => {
    const before = (await v2<{ data: Endpoint }>(t, 'GET', `${base}/${endpoint.id}`, { key })).body.data;
    receiver.status = 500;
    const r = await v2<{ data: Outcome }>(t, 'POST', `${base}/${endpoint.id}/test`, { key });
    expect(r.status).toBe(200);
    expect(r.body.data).toMatchObject({ ok: false, status: 500, error: 'HTTP 500', response: 'status 500' });
    const after = (await v2<{ data: Endpoint }>(t, 'GET', `${base}/${endpoint.id}`, { key })).body.data;
    expect(after).toEqual(before);
  });

  it('tests a disabled endpoint without enabling it', async () => {
    expect((await v2(t, 'PATCH', `${base}/${endpoint.id}`, { key, body: { enabled: false } })).status).toBe(200);
    const r = await v2<{ data: Outcome }>(t, 'POST', `${base}/${endpoint.id}/test`, { key });
    expect(r.body.data).toMatchObject({ ok: true, status: 200 });
    const after = (await v2<{ data: Endpoint }>(t, 'GET', `${base}/${endpoint.id}`, { key })).body.data;
    expect(after).toMatchObject({ enabled: false, disabledReason: 'disabled through the API' });
    expect((await v2(t, 'PATCH', `${base}/${endpoint.id}`, { key, body: { enabled: true } })).status).toBe(200);
  });

  it('refuses an unknown endpoint (404), a missing key and an injection key, sending nothing', async () => {
    const missing = await v2<V2Error>(t, 'POST', `${base}/999999/test`, { key });
    expect([missing.status, missing.body.error.code, missing.body.error.field]).toEqual([404, 'not_found', 'webhookId']);
    expect((await v2<V2Error>(t, 'POST', `${base}/${endpoint.id}/test`, { key: null })).status).toBe(401);
    const injection = await v2<V2Error>(t, 'POST', `${base}/${endpoint.id}/test`, { key: t.credentials.apiKey });
    expect([injection.status, injection.body.error.code]).toEqual([403, 'insufficient_scope']);
    expect(receiver.received).toHaveLength(0);
  });

  it('is in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, Record<string, unknown>> };
    const paths = doc.paths;
    const path = Object.keys(paths).find((p) => p.endsWith('/webhooks/{webhookId}/test'));
    expect(path).toBeDefined();
    expect(Object.keys(paths[path!]!)).toContain('post');
  });
});
