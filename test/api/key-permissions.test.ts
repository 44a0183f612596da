import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTransport } from 'nodemailer';
import { inject, startAppDeliveringToSink, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows } from '../helpers/webhooks.js';
import { serverScopeOf } from '../../src/core/api-key.js';

interface KeyWire {
  keyId: string;
  scope: string;
  serverId: number | null;
  apiKey?: string;
}

describe(`keys with a set of permissions: injection, management or both (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let serverId: number;
  const keys = () => countRows(t.db, 'api_keys');
  const message = (key: string | undefined, to: string) => ({
    serverId,
    ...(key === undefined ? {} : { apiKey: key }),
    messages: [{ to: [{ emailAddress: to }], from: { emailAddress: 'app@example.com' }, subject: `to ${to}`, textBody: 'hello' }],
  });
  const smtp = (key: string) =>
    createTransport({
      host: '127.0.0.1',
      port: t.app.smtpPort!,
      secure: false,
      ignoreTLS: true,
      auth: { user: String(serverId), pass: key },
    });
  const create = (scope: unknown) =>
    v2<{ data: KeyWire } & V2Error>(t, 'POST', `/servers/${serverId}/api-keys`, {
      key: t.credentials.accountKey,
      body: { name: 'k', scope },
    });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startAppDeliveringToSink(
      sink,
      { pollMs: 50 },
      {
        roles: ['api', 'delivery', 'smtp'],
        config: { smtpHost: '127.0.0.1', submissionPort: 0, allowInsecureAuth: true },
      },
    );
    serverId = t.credentials.serverId;
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('serverScopeOf takes one permission, a list in any order or an array, and nothing else', () => {
    expect(serverScopeOf('injection')).toBe('injection');
    expect(serverScopeOf('Management')).toBe('management');
    expect(serverScopeOf('management, injection')).toBe('injection,management');
    expect(serverScopeOf(['management', 'injection'])).toBe('injection,management');
    for (const bad of ['account', 'injection,injection', 'injection,account', '', [], ['injection', 'bogus']]) expect(serverScopeOf(bad)).toBeNull();
  });

  it('a key with both permissions, created through /v2, sends mail (Injection API and SMTP AUTH) and manages (v2 and Marketing API)', async () => {
    const created = await create(['management', 'injection']);
    expect(created.status).toBe(201);
    expect(created.body.data).toMatchObject({ scope: 'injection,management', serverId });
    const key = created.body.data.apiKey!;
    const got = await v2<{ data: KeyWire }>(t, 'GET', `/servers/${serverId}/api-keys/${created.body.data.keyId}`, { key });
    expect(got.status).toBe(200);
    expect(got.body.data.scope).toBe('injection,management');

    expect((await inject(t, message(undefined, 'http-both@sink.test'), { headers: { authorization: `Bearer ${key}` } })).body.ErrorCode).toBe('Success');
    await smtp(key).sendMail({ from: 'app@example.com', to: 'smtp-both@sink.test', subject: 'by smtp', text: 'hello' });
    await vi.waitFor(
      () => {
        const to = sink.messages.flatMap((m) => m.rcptTo);
        expect(to).toEqual(expect.arrayContaining(['http-both@sink.test', 'smtp-both@sink.test']));
      },
      { timeout: 10_000 },
    );

    const added = await fetch(`${t.url}/v2/servers/${serverId}/suppressions`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ emailAddress: 'gone@example.com' }),
    });
    expect(added.status).toBe(200);
    expect((await v2(t, 'GET', '/servers', { key })).status).toBe(200);
    const lists = await fetch(`${t.url}/marketing/v1/lists`, { headers: { authorization: `Basic ${Buffer.from(`${serverId}:${key}`).toString('base64')}` } });
    expect(lists.status).toBe(200);
  });

  it('an injection-only key sends but is refused on v2 with the v2 error (403 insufficient_scope), under both prefixes', async () => {
    const { key } = await createKey(t.store, serverId, 'injection');
    expect((await inject(t, message(key, 'inj-only@sink.test'))).body.ErrorCode).toBe('Success');
    for (const path of [`/v2/servers/${serverId}/suppressions/search`, `/api/v2/servers/${serverId}/suppressions/search`, '/v2/servers']) {
      const res = await fetch(`${t.url}${path}`, { headers: { authorization: `Bearer ${key}` } });
      expect(res.status).toBe(403);
      expect(((await res.json()) as V2Error).error.code).toBe('insufficient_scope');
    }
  });

  it('a management-only key manages but is refused on the Injection API and by SMTP AUTH, and nothing is queued', async () => {
    const { key } = await createKey(t.store, serverId, 'management');
    expect((await v2(t, 'GET', `/servers/${serverId}/suppressions/search`, { key })).status).toBe(200);
    const messages = await countRows(t.db, 'messages');
    const refused = await inject(t, message(key, 'mgmt-only@sink.test'));
    expect(refused.body).toEqual({ ErrorCode: 'InvalidAuthentication', MessageResults: [], TransactionReceipt: expect.any(String) });
    expect(refused.headers.get('x-postline-error')).toContain('needs a key with the injection permission');
    await expect(smtp(key).sendMail({ from: 'app@example.com', to: 'mgmt-smtp@sink.test', subject: 's', text: 'x' })).rejects.toMatchObject({
      responseCode: 535,
    });
    expect(await countRows(t.db, 'messages')).toBe(messages);
  });

  it('a scope that names anything but server permissions is refused with validation_failed and no key is created', async () => {
    const before = await keys();
    for (const scope of ['account', 'injection,injection', 'bogus', ['injection', 'bogus'], [], 'injection,account', 42]) {
      const res = await create(scope);
      expect(res.status, JSON.stringify(scope)).toBe(400);
      expect(res.body.error.field).toBe('scope');
    }
    expect(await keys()).toBe(before);
  });
});
