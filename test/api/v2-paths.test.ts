import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';

/**
 * SocketLabs' literal paths: every v2 route answers at `/v2/...` (SocketLabs') and `/api/v2/...`
 * (the alias), with a management key as Bearer or as Basic (any user, the key as password), and
 * anything unknown under an API prefix answers in that API's own error shape.
 */
const PREFIXES = ['/v2', '/api/v2'] as const;
const AUTH_STYLES = ['bearer', 'basic'] as const;
type Envelope = 'data' | 'page' | 'csv';

describe(`SocketLabs' v2 paths and every API prefix's error shape (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let managementKey: string;

  const authorization = (style: (typeof AUTH_STYLES)[number], key: string) =>
    style === 'bearer' ? `Bearer ${key}` : `Basic ${Buffer.from(`any-user:${key}`).toString('base64')}`;
  const call = async (method: string, path: string, headers: Record<string, string> = {}, body?: unknown) => {
    const res = await fetch(`${t.url}${path}`, {
      method,
      headers: body === undefined ? headers : { ...headers, 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    const json = (res.headers.get('content-type') ?? '').startsWith('application/json') ? (JSON.parse(text) as Record<string, unknown>) : null;
    return { status: res.status, headers: res.headers, text, json };
  };
  const checkEnvelope = (r: Awaited<ReturnType<typeof call>>, envelope: Envelope, what: string) => {
    expect(r.status, `${what}: ${r.text.slice(0, 300)}`).toBe(200);
    if (envelope === 'csv') {
      expect(r.headers.get('content-type'), what).toMatch(/^text\/csv/);
      expect(r.text.split('\n')[0], what).toMatch(/emailAddress/i);
      return;
    }
    expect(r.json, what).not.toBeNull();
    if (envelope === 'page') {
      expect(Object.keys(r.json!).sort(), what).toEqual(['data', 'total']);
      expect(Array.isArray(r.json!.data), what).toBe(true);
      expect(typeof r.json!.total, what).toBe('number');
    } else {
      expect(Object.keys(r.json!), what).toEqual(['data']);
      expect(typeof r.json!.data, what).toBe('object');
    }
  };

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    managementKey = (await createKey(t.store, serverId, 'management')).key;
  });
  afterAll(async () => {
    await t.close();
  });

  it('every read of a server answers at /v2 and /api/v2, by Bearer and by Basic, in the same envelope', async () => {
    const s = `/servers/${serverId}`;
    const reads: [string, Envelope][] = [
      ['/servers', 'page'],
      [s, 'data'],
      [`${s}/suppressions/search?pageSize=50&pageNumber=0&sortField=emailAddress&sortDirection=dsc`, 'page'],
      [`${s}/suppressions/download?sortField=suppressionLastUpdate&sortDirection=dsc`, 'csv'],
      [`${s}/reports/recipient-search/?toEmailAddress=a@example.com&pageNumber=0&pageSize=10&sortField=queuedTime&sortDirection=dsc`, 'page'],
      [`${s}/reports/recipient-search?pageSize=10`, 'page'],
      [`${s}/reports/messages/detail?pageSize=10&pageNumber=0`, 'page'],
      [`${s}/reports/statistics?startDate=2026-01-01&endDate=2026-01-31`, 'data'],
      [`${s}/dkim/generate?domain=example.com&selector=dkim1`, 'data'],
      [`${s}/api-keys`, 'page'],
      [`${s}/webhooks`, 'page'],
      [`${s}/sending-domains`, 'page'],
      [`${s}/bounce-domains`, 'page'],
      [`${s}/tracking-domains`, 'page'],
      [`${s}/inbound-routes`, 'page'],
    ];
    for (const prefix of PREFIXES) {
      for (const style of AUTH_STYLES) {
        for (const [path, envelope] of reads) {
          checkEnvelope(await call('GET', `${prefix}${path}`, { authorization: authorization(style, managementKey) }), envelope, `${prefix}${path} (${style})`);
        }
      }
    }
    // One route table: the same read answers the same at both prefixes.
    const a = await call('GET', `/v2${s}`, { authorization: `Bearer ${managementKey}` });
    const b = await call('GET', `/api/v2${s}`, { authorization: `Bearer ${managementKey}` });
    expect(a.json).toEqual(b.json);
  });

  it('the suppression resource adds, looks up, removes and bulk-removes at both prefixes, by Bearer and by Basic', async () => {
    const s = `/servers/${serverId}/suppressions`;
    for (const prefix of PREFIXES) {
      for (const style of AUTH_STYLES) {
        const headers = { authorization: authorization(style, managementKey) };
        const address = `${style}${prefix.replace(/\//g, '-')}@example.com`;
        checkEnvelope(await call('POST', `${prefix}${s}`, headers, { emailAddress: address }), 'data', `add ${address}`);
        const found = await call('GET', `${prefix}${s}?emailAddress=${address}`, headers);
        checkEnvelope(found, 'data', `lookup ${address}`);
        expect((found.json!.data as { emailAddress: string }).emailAddress).toBe(address);
        checkEnvelope(await call('DELETE', `${prefix}${s}?emailAddress=${address}`, headers), 'data', `remove ${address}`);
        expect((await call('GET', `${prefix}${s}?emailAddress=${address}`, headers)).status).toBe(404);
        checkEnvelope(await call('POST', `${prefix}${s}`, headers, { emailAddress: address }), 'data', `add ${address} again`);
        const bulk = await call('POST', `${prefix}${s}/bulk-remove`, headers, { emailAddresses: [address] });
        checkEnvelope(bulk, 'data', `bulk-remove ${address}`);
        expect(bulk.json!.data).toEqual({ requested: 1, removed: 1 });
      }
    }
  });

  it('the injection credentials and the sub-account family answer at /v2 and /api/v2, by Bearer and by Basic', async () => {
    for (const prefix of PREFIXES) {
      for (const style of AUTH_STYLES) {
        const manager = { authorization: authorization(style, managementKey) };
        const account = { authorization: authorization(style, t.credentials.accountKey) };
        const what = `${prefix} (${style})`;
        const credentials = await call('GET', `${prefix}/servers/${serverId}/credentials/injection-api`, manager);
        checkEnvelope(credentials, 'data', `credentials ${what}`);
        expect(Object.keys(credentials.json!.data as object).sort()).toEqual(['apiKey', 'gateway', 'serverId']);
        const created = await call('POST', `${prefix}/subaccount`, account, { name: `Customer ${what}`, useRuleEngine: true });
        checkEnvelope(created, 'data', `create ${what}`);
        const id = (created.json!.data as { subaccountId: number }).subaccountId;
        checkEnvelope(await call('POST', `${prefix}/subaccount/${id}/credentials/injection-api`, account), 'data', `sub-account credentials ${what}`);
        checkEnvelope(
          await call('GET', `${prefix}/subaccount/${id}/dkim/generate?domain=example.com&selector=dkim1`, account),
          'data',
          `dkim/generate ${what}`,
        );
        checkEnvelope(await call('GET', `${prefix}/subaccount/${id}/suppressions/download`, account), 'csv', `download ${what}`);
        checkEnvelope(
          await call('POST', `${prefix}/subaccount/${id}/suppressions/bulk-remove`, account, { emailAddresses: ['a@example.com'] }),
          'data',
          `bulk-remove ${what}`,
        );
      }
    }
  });

  it('refusals at /v2 are the v2 envelope: no key 401, a bad body 400, as at /api/v2', async () => {
    for (const prefix of PREFIXES) {
      const none = await call('GET', `${prefix}/servers/${serverId}/suppressions/search`);
      expect(none.status).toBe(401);
      expect((none.json as unknown as V2Error).error.code).toBe('unauthorized');
      const bad = await call(
        'POST',
        `${prefix}/servers/${serverId}/suppressions`,
        { authorization: `Bearer ${managementKey}` },
        { emailAddress: 'not an address' },
      );
      expect(bad.status).toBe(400);
      expect((bad.json as unknown as V2Error).error).toMatchObject({ code: 'validation_failed', field: 'emailAddress' });
    }
  });

  it('unknown paths under /v2 and /api/v2 are 404 not_found and wrong methods 405 method_not_allowed with Allow, naming the path as sent; nothing is written', async () => {
    const headers = { authorization: `Bearer ${managementKey}` };
    const suppressed = await countRows(t.db, 'suppressions');
    for (const prefix of PREFIXES) {
      for (const path of [`${prefix}/nope`, `${prefix}/servers/${serverId}/nope`, `${prefix}/subaccounts`, prefix]) {
        const r = await call('GET', path, headers);
        expect(r.status, path).toBe(404);
        expect(r.json, path).toEqual({ error: { code: 'not_found', message: `no route GET ${path}` } });
      }
      const wrong = await call('DELETE', `${prefix}/servers`, headers);
      expect(wrong.status).toBe(405);
      expect(wrong.headers.get('allow')).toBe('GET, HEAD, POST');
      expect(wrong.json).toEqual({ error: { code: 'method_not_allowed', message: `${prefix}/servers does not take DELETE; it takes GET, HEAD, POST` } });
      const put = await call('PUT', `${prefix}/servers/${serverId}/suppressions/`, headers, { emailAddress: 'put@example.com' });
      expect(put.status).toBe(405);
      expect((put.json as unknown as V2Error).error.code).toBe('method_not_allowed');
      expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD, POST');
    }
    expect(await countRows(t.db, 'suppressions')).toBe(suppressed);
  });

  it('unknown paths and methods under /api/v1 answer in the Injection API shape (404, 405 with Allow: POST)', async () => {
    const unknown = await call('POST', '/api/v1/emails', { authorization: `Bearer ${t.credentials.apiKey}` }, { serverId });
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ ErrorCode: 'InvalidData', MessageResults: [], TransactionReceipt: expect.any(String) });
    expect(unknown.headers.get('x-postline-error')).toBe('no route POST /api/v1/emails; the Injection API is POST /api/v1/email');
    const wrong = await call('GET', '/api/v1/email');
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
    expect(wrong.json).toEqual({ ErrorCode: 'InvalidData', MessageResults: [], TransactionReceipt: expect.any(String) });
    expect(await countRows(t.db, 'messages')).toBe(0);
  });

  it('unknown paths and methods under /marketing/v1 answer in the Marketing API shape ({message}, 404, 405 with Allow)', async () => {
    const basic = { authorization: `Basic ${Buffer.from(`${serverId}:${managementKey}`).toString('base64')}` };
    const unknown = await call('GET', '/marketing/v1/nope', basic);
    expect(unknown.status).toBe(404);
    expect(unknown.json).toEqual({ message: 'no route GET /marketing/v1/nope' });
    const wrong = await call('DELETE', '/marketing/v1/lists', basic);
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toContain('GET');
    expect(wrong.json).toEqual({ message: expect.stringMatching(/^\/marketing\/v1\/lists does not take DELETE; it takes .*GET/) });
    // Credentials come first, as on every Marketing route: a stranger learns nothing about paths.
    const stranger = await call('GET', '/marketing/v1/nope');
    expect(stranger.status).toBe(401);
    expect(Object.keys(stranger.json!)).toEqual(['message']);
  });

  it("nothing under an API prefix answers Fastify's bare not-found message", async () => {
    for (const path of ['/v2/x', '/api/v2/x', '/api/v1/x', '/marketing/v1/x']) {
      for (const method of ['GET', 'POST', 'PATCH']) {
        const r = await call(method, path, { authorization: `Basic ${Buffer.from(`${serverId}:${managementKey}`).toString('base64')}` });
        expect(r.text, `${method} ${path}`).not.toMatch(/Route .* not found/);
        expect(r.json, `${method} ${path}`).not.toHaveProperty('statusCode');
      }
    }
  });
});
