import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createAccountKey, createKey, v2 } from '../helpers/api-v2.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { publish, type WireRecord } from './publish.js';

/** The verified-From rule on both accept paths: servers with requireVerifiedDomain send only from verified sending domains. */
describe(`the verified-From rule (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let accountId: number;

  const newServer = async (opts: { sandbox?: boolean; requireVerifiedDomain?: boolean }) => {
    const server = await t.store.tenancy.createServer({ accountId, name: `S${Math.random()}`, ...opts }, Date.now());
    return {
      id: server.id,
      injection: (await createKey(t.store, server.id, 'injection')).key,
      management: (await createKey(t.store, server.id, 'management')).key,
    };
  };
  const message = (from: string, to = 'reader@dest.example') => ({ to: [{ emailAddress: to }], from: { emailAddress: from }, subject: 'S', textBody: 'x' });
  const send = (s: { id: number; injection: string }, ...messages: ReturnType<typeof message>[]) =>
    inject(t, { serverId: s.id, apiKey: s.injection, messages });
  const verifyDomain = async (s: { id: number; management: string }, domain: string) => {
    const base = `/servers/${s.id}/sending-domains`;
    const d = (await v2<{ data: { id: number } }>(t, 'POST', base, { key: s.management, body: { domain } })).body.data;
    publish(dns, (await v2<{ data: { records: WireRecord[] } }>(t, 'GET', `${base}/${d.id}/dns-records`, { key: s.management })).body.data.records);
    const r = await v2<{ data: { verified: boolean } }>(t, 'POST', `${base}/${d.id}/verify`, { key: s.management });
    expect(r.body.data.verified).toBe(true);
    return d.id;
  };
  const smtp = (s: { id: number; injection: string }, from: string) => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: t.app.smtpPort!,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: String(s.id), pass: s.injection },
    });
    return transport
      .sendMail({ from, to: 'reader@dest.example', subject: 'S', text: 'x' })
      .then(
        (info) => ({ ok: true as const, response: info.response }),
        (err: { responseCode?: number; response?: string }) => ({ ok: false as const, code: err.responseCode, response: err.response ?? '' }),
      )
      .finally(() => transport.close());
  };

  beforeAll(async () => {
    dns = await startDnsServer();
    t = await startTestApp({ roles: ['api', 'smtp'], config: { dnsServers: [dns.address], submissionPort: 0, smtpHost: '127.0.0.1' } });
    accountId = (await t.store.tenancy.listAccounts())[0]!.id;
  });
  afterAll(async () => {
    await t.close();
    await dns.close();
  });

  it('refuses an unverified From domain on the Injection API with InvalidFrom and stores nothing; accepts it once verified', async () => {
    const s = await newServer({ requireVerifiedDomain: true });
    const refused = await send(s, message('news@brand.example'));
    expect(refused.body.ErrorCode).toBe('Warning');
    expect(refused.body.MessageResults).toEqual([{ Index: 0, ErrorCode: 'InvalidFrom', AddressResults: [] }]);
    expect(refused.headers.get('x-postline-error')).toBe(
      `Messages[0] InvalidFrom: brand.example is not a verified sending domain of server ${s.id}; verify it (docs: docs/sending-domains.md) or turn off requireVerifiedDomain`,
    );
    expect(await t.store.queue.countMessages(s.id)).toBe(0);

    // Added but not verified yet: still refused.
    await v2(t, 'POST', `/servers/${s.id}/sending-domains`, { key: s.management, body: { domain: 'pending.example' } });
    expect((await send(s, message('a@pending.example'))).body.MessageResults[0]!.ErrorCode).toBe('InvalidFrom');
    expect(await t.store.queue.countMessages(s.id)).toBe(0);

    // Verified: accepted at once (the verify refreshed the rule in this process); other domains still refused, each message on its own.
    await verifyDomain(s, 'brand.example');
    const mixed = await send(s, message('news@Brand.Example'), message('x@elsewhere.example'));
    expect(mixed.body.ErrorCode).toBe('Warning');
    expect(mixed.body.MessageResults).toEqual([{ Index: 1, ErrorCode: 'InvalidFrom', AddressResults: [] }]);
    expect(await t.store.queue.countMessages(s.id)).toBe(1);
  });

  it('never refuses for a sandbox server or a server with the switch off (the trial server)', async () => {
    const sandbox = await newServer({ requireVerifiedDomain: true, sandbox: true });
    expect((await send(sandbox, message('a@unverified.example'))).body.ErrorCode).toBe('Success');
    expect(await t.store.queue.countMessages(sandbox.id)).toBe(1);
    const trial = { id: t.credentials.serverId, injection: t.credentials.apiKey };
    expect((await t.store.tenancy.getServer(trial.id))!.requireVerifiedDomain).toBe(false);
    expect((await send(trial, message('a@unverified.example'))).body.ErrorCode).toBe('Success');
    const off = await newServer({ requireVerifiedDomain: false });
    expect((await send(off, message('a@unverified.example'))).body.ErrorCode).toBe('Success');
    expect(await t.store.queue.countMessages(off.id)).toBe(1);
  });

  it('refuses an unverified From domain over SMTP with 550 5.7.1 at the end of DATA and stores nothing', async () => {
    const s = await newServer({ requireVerifiedDomain: true });
    const r = await smtp(s, 'News <news@smtp-brand.example>');
    expect(r.ok).toBe(false);
    expect(r.ok ? null : r.code).toBe(550);
    expect(r.ok ? '' : r.response).toBe(
      `550 5.7.1 smtp-brand.example is not a verified sending domain of server ${s.id}; verify it (docs: docs/sending-domains.md) or turn off requireVerifiedDomain`,
    );
    expect(await t.store.queue.countMessages(s.id)).toBe(0);
    await verifyDomain(s, 'smtp-brand.example');
    const ok = await smtp(s, 'News <news@smtp-brand.example>');
    expect(ok.response).toMatch(/^250 /);
    expect(await t.store.queue.countMessages(s.id)).toBe(1);
    const sandbox = await newServer({ requireVerifiedDomain: true, sandbox: true });
    expect((await smtp(sandbox, 'a@unverified.example')).ok).toBe(true);
  });

  it('un-verifying a domain (a record removed, verify again) refuses its mail again', async () => {
    const s = await newServer({ requireVerifiedDomain: true });
    const id = await verifyDomain(s, 'fickle.example');
    expect((await send(s, message('a@fickle.example'))).body.ErrorCode).toBe('Success');
    dns.remove('fickle.example');
    const r = await v2<{ data: { verified: boolean } }>(t, 'POST', `/servers/${s.id}/sending-domains/${id}/verify`, { key: s.management });
    expect(r.body.data.verified).toBe(false);
    expect((await send(s, message('a@fickle.example'))).body.MessageResults[0]!.ErrorCode).toBe('InvalidFrom');
    expect(await t.store.queue.countMessages(s.id)).toBe(1);
  });

  it('a server created through the API refuses by default, and turning the rule off through the API applies at once', async () => {
    const accountKey = (await createAccountKey(t.store, accountId)).key;
    const created = await v2<{ data: { serverId: number; requireVerifiedDomain: boolean } }>(t, 'POST', '/servers', {
      key: accountKey,
      body: { name: 'API-made server' },
    });
    expect(created.status).toBe(201);
    expect(created.body.data.requireVerifiedDomain).toBe(true);
    const id = created.body.data.serverId;
    const s = { id, injection: (await createKey(t.store, id, 'injection')).key };
    expect((await send(s, message('a@api-made.example'))).body.MessageResults[0]!.ErrorCode).toBe('InvalidFrom');
    // Within the cache's lifetime: the PATCH itself must refresh this process's view of the server.
    expect((await v2(t, 'PATCH', `/servers/${id}`, { key: accountKey, body: { requireVerifiedDomain: false } })).status).toBe(200);
    expect((await send(s, message('a@api-made.example'))).body.ErrorCode).toBe('Success');
    expect((await v2(t, 'PATCH', `/servers/${id}`, { key: accountKey, body: { requireVerifiedDomain: true } })).status).toBe(200);
    expect((await send(s, message('b@api-made.example'))).body.MessageResults[0]!.ErrorCode).toBe('InvalidFrom');
    expect(await t.store.queue.countMessages(id)).toBe(1);
  });
});
