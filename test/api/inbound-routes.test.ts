import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { countRows, queryRows, startReceiver, type WebhookReceiver } from '../helpers/webhooks.js';
import { verify } from '../../src/net/standard-signature.js';
import { newId } from '../../src/core/ids.js';
import type { InboundRoute } from '../../src/store/inbound.js';

interface Wire {
  id: number;
  match: string;
  kind: string;
  url: string;
  enabled: boolean;
  secretKey: string;
  createdOn: string;
  lastUpdate: string;
  validatedOn: string | null;
  signingSecret?: string;
  previousSecretExpiresOn?: string;
}
type One = { data: Wire } & V2Error;
interface MessageWire {
  id: number;
  messageId: string;
  rcptTo: string;
  mailFrom: string;
  size: number;
  receivedOn: string;
  status: string;
  attempts: number;
}

const SECRET = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw';
const RAW = Buffer.from('Subject: hi\r\n\r\nthe message text\r\n');

describe(`inbound route routes, /api/v2/servers/:serverId/inbound-routes (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let key: string;
  let base: string;
  let receiver: WebhookReceiver;
  let other: { serverId: number; key: string; route: InboundRoute };
  const routes = () => countRows(t.db, 'inbound_routes');
  const create = (body: unknown) => v2<One>(t, 'POST', base, { key, body });

  /** A received message with one post for the route, `at` its receive time; optionally one recorded failed attempt. */
  async function receive(route: { id: number; serverId: number }, at: number, opts: { attempt?: boolean; rcptTo?: string } = {}): Promise<number> {
    const id = newId(at);
    await t.store.inbound.commitMessages([
      {
        id,
        mailFrom: 'a@sender.example',
        remoteIp: '192.0.2.1',
        helo: 'relay.example',
        receivedAt: at,
        raw: RAW,
        posts: [{ routeId: route.id, serverId: route.serverId, rcptTo: opts.rcptTo ?? 'x@customer.example' }],
      },
    ]);
    const [post] = await queryRows<{ id: number }>(t.db, `SELECT id FROM inbound_posts WHERE message_id = '${id}'`);
    if (opts.attempt) {
      const claimed = await t.store.inbound.claimPosts('test', 100, Date.now(), 0);
      await t.store.inbound.recordAttempts(
        'test',
        claimed.map((w) => ({
          postId: w.postId,
          routeId: w.route.id,
          ok: false,
          httpStatus: 503,
          durationMs: 3,
          error: 'HTTP 503',
          responseSnippet: 'busy',
          next: { status: 'gave_up' as const, attempts: w.attempts + 1, nextAttemptAt: Date.now() },
        })),
        Date.now(),
      );
    }
    return Number(post!.id);
  }

  beforeAll(async () => {
    t = await startTestApp({ config: { webhookAllowCidrs: ['127.0.0.1'] } });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    base = `/servers/${serverId}/inbound-routes`;
    receiver = await startReceiver();
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const s2 = await t.store.tenancy.createServer({ accountId: account.id, name: 'Other' }, Date.now());
    const route = (await t.store.inbound.createRoute(
      {
        serverId: s2.id,
        match: 'other.example',
        kind: 'domain',
        url: receiver.url,
        secretKey: 'OtherSecretKey000000',
        signingSecret: SECRET,
        enabled: true,
        validatedAt: null,
      },
      Date.now(),
    ))!;
    other = { serverId: s2.id, key: (await createKey(t.store, s2.id, 'management')).key, route };
  });
  beforeEach(async () => {
    for (const r of (await t.store.inbound.listRoutes(serverId, { limit: 100, offset: 0, direction: 'asc' })).rows)
      await t.store.inbound.deleteRoute(serverId, r.id);
    receiver.status = 200;
    receiver.received.length = 0;
  });
  afterAll(async () => {
    await receiver?.close();
    await t?.close();
  });

  it('every route refuses a missing, injection-scope or foreign key and changes nothing', async () => {
    const existing = (await create({ match: 'customer.example', url: receiver.url })).body.data.id;
    const post = await receive({ id: existing, serverId }, Date.now());
    const routesList = [
      ['POST', base, { body: { match: 'b.example', url: receiver.url } }],
      ['GET', base, {}],
      ['GET', `${base}/${existing}`, {}],
      ['PATCH', `${base}/${existing}`, { body: { enabled: false } }],
      ['DELETE', `${base}/${existing}`, {}],
      ['POST', `${base}/${existing}/validate`, {}],
      ['POST', `${base}/${existing}/rotate-secret`, {}],
      ['GET', `${base}/${existing}/messages`, {}],
      ['GET', `${base}/${existing}/messages/${post}/attempts`, {}],
      ['POST', `${base}/${existing}/replay`, { body: { from: '2024-01-01T00:00:00Z', to: '2024-01-02T00:00:00Z' } }],
    ] as const;
    const before = await t.store.inbound.getRoute(serverId, existing);
    for (const [method, path, opts] of routesList) {
      for (const [k, status, code] of [
        [null, 401, 'unauthorized'],
        [t.credentials.apiKey, 403, 'insufficient_scope'],
        [other.key, 403, 'wrong_server'],
      ] as const) {
        const r = await v2<V2Error>(t, method, path, { ...opts, key: k });
        expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, status, code]);
      }
    }
    expect(await routes()).toBe(2);
    expect(await t.store.inbound.getRoute(serverId, existing)).toEqual(before);
    expect(receiver.received).toHaveLength(1); // the create's handshake only
  });

  it("another server's route id under one's own server: 404 on every route, nothing changed", async () => {
    const foreignPost = await receive(other.route, Date.now(), { rcptTo: 'x@other.example' });
    const id = other.route.id;
    const paths = [
      ['GET', `${base}/${id}`, {}],
      ['PATCH', `${base}/${id}`, { body: { enabled: false } }],
      ['DELETE', `${base}/${id}`, {}],
      ['POST', `${base}/${id}/validate`, {}],
      ['POST', `${base}/${id}/rotate-secret`, {}],
      ['GET', `${base}/${id}/messages`, {}],
      ['GET', `${base}/${id}/messages/${foreignPost}/attempts`, {}],
      ['POST', `${base}/${id}/replay`, { body: { from: new Date(Date.now() - 60_000).toISOString(), to: new Date(Date.now() + 60_000).toISOString() } }],
    ] as const;
    const before = await t.store.inbound.getRoute(other.serverId, id);
    const postBefore = await t.store.inbound.getPost(other.serverId, id, foreignPost);
    for (const [method, path, opts] of paths) {
      const r = await v2<V2Error>(t, method, path, { ...opts, key });
      expect([method, path, r.status, r.body.error?.code]).toEqual([method, path, 404, 'not_found']);
    }
    expect(await t.store.inbound.getRoute(other.serverId, id)).toEqual(before);
    expect(await t.store.inbound.getPost(other.serverId, id, foreignPost)).toEqual(postBefore);
    expect(receiver.received).toHaveLength(0);
  });

  describe('create', () => {
    it('validates with a handshake and answers the route with its secrets (shown once)', async () => {
      const r = await create({ match: 'Support@Customer.Example', url: receiver.url });
      expect(r.status).toBe(200);
      expect(r.body.data).toMatchObject({ match: 'support@customer.example', kind: 'address', url: receiver.url, enabled: true });
      expect(r.body.data.secretKey).toMatch(/^[A-Za-z0-9]{20}$/);
      expect(r.body.data.signingSecret).toMatch(/^whsec_/);
      const [v] = receiver.received;
      expect(v!.json).toMatchObject({ Type: 'Validation', SecretKey: r.body.data.secretKey, ServerId: serverId });
      expect(verify(v!.headers, v!.body, [r.body.data.signingSecret!])).toEqual({ ok: true });
      const got = await v2<One>(t, 'GET', `${base}/${r.body.data.id}`, { key });
      expect(got.body.data).toEqual({ ...r.body.data, signingSecret: undefined, lastUpdate: got.body.data.lastUpdate });
      expect(got.text).not.toContain(r.body.data.signingSecret!);
      const domain = await create({ match: 'customer.example', url: receiver.url, enabled: false });
      expect(domain.body.data).toMatchObject({ kind: 'domain', enabled: false });
    });

    it.each([
      [{ url: 'http://127.0.0.1:1/x' }, 400, 'validation_failed', 'match', /"match" is required/],
      [{ match: 'customer.example' }, 400, 'validation_failed', 'url', /"url" is required/],
      [{ match: 'not a domain', url: 'http://127.0.0.1:1/x' }, 400, 'validation_failed', 'match', /neither a domain name/],
      [{ match: 'localhost', url: 'http://127.0.0.1:1/x' }, 400, 'validation_failed', 'match', /neither a domain name/],
      [{ match: 'a@@b.example', url: 'http://127.0.0.1:1/x' }, 400, 'validation_failed', 'match', /not a valid email address/],
      [{ match: 'postline.test', url: 'http://127.0.0.1:1/x' }, 400, 'validation_failed', 'match', /bounce domain/],
      [{ match: 'b@postline.test', url: 'http://127.0.0.1:1/x' }, 400, 'validation_failed', 'match', /bounce domain/],
      [{ match: 'customer.example', url: 'ftp://example.com/x' }, 400, 'validation_failed', 'url', /http or https/],
      [{ match: 'customer.example', url: 'http://10.1.2.3/hook' }, 400, 'validation_failed', 'url', /10\.1\.2\.3 is private/],
      [{ match: 'customer.example', url: 'http://127.0.0.1:1/x', enabled: 'yes' }, 400, 'validation_failed', 'enabled', /boolean/],
      [{ match: 'customer.example', url: 'http://127.0.0.1:1/x', secret: 'x' }, 400, 'unknown_field', 'secret', /unknown body field/],
      [{ match: 'customer.example', url: 'http://127.0.0.1:1/nothing-listens' }, 422, 'endpoint_validation_failed', 'url', /ECONNREFUSED/],
    ] as const)('refuses %j with %s %s and stores nothing', async (body, status, code, field, message) => {
      const r = await create(body);
      expect(r.status).toBe(status);
      expect(r.body.error).toMatchObject({ code, field });
      expect(r.body.error.message).toMatch(message);
      expect(await routes()).toBe(1); // the other server's
    });

    it('refuses a match already routed, by this server or another (409 already_routed), storing nothing', async () => {
      expect((await create({ match: 'customer.example', url: receiver.url })).status).toBe(200);
      for (const match of ['CUSTOMER.example', 'other.example']) {
        const r = await create({ match, url: receiver.url });
        expect([r.status, r.body.error.code, r.body.error.field]).toEqual([409, 'already_routed', 'match']);
      }
      expect(await routes()).toBe(2);
    });

    it('refuses when the endpoint answers the handshake with non-2xx (422), storing nothing', async () => {
      receiver.status = 500;
      const r = await create({ match: 'customer.example', url: receiver.url });
      expect([r.status, r.body.error.code]).toEqual([422, 'endpoint_validation_failed']);
      expect(r.body.error.message).toMatch(/HTTP 500/);
      expect(await routes()).toBe(1);
    });
  });

  it('lists a page at a time with the total; refuses bad paging; 404 for unknown, 400 for malformed ids', async () => {
    for (const m of ['a.example', 'b.example', 'c.example']) expect((await create({ match: m, url: receiver.url })).status).toBe(200);
    const page = await v2<{ data: Wire[]; total: number }>(t, 'GET', base, { key, query: { pageSize: 2, pageNumber: 1 } });
    expect(page.body).toMatchObject({ total: 3, data: [{ match: 'c.example' }] });
    const desc = await v2<{ data: Wire[]; total: number }>(t, 'GET', base, { key, query: { pageSize: 1, sortDirection: 'dsc' } });
    expect(desc.body.data.map((r) => r.match)).toEqual(['c.example']);
    for (const [query, code, field] of [
      [{ pageSize: 0 }, 'validation_failed', 'pageSize'],
      [{ pagesize: 2 }, 'unknown_field', 'pagesize'],
      [{ sortField: 'match' }, 'validation_failed', 'sortField'],
    ] as const) {
      const r = await v2<V2Error>(t, 'GET', base, { key, query });
      expect([r.status, r.body.error.code, r.body.error.field]).toEqual([400, code, field]);
    }
    expect((await v2<V2Error>(t, 'GET', `${base}/999999`, { key })).body.error.code).toBe('not_found');
    const bad = await v2<V2Error>(t, 'GET', `${base}/abc`, { key });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  });

  describe('update', () => {
    it('changes enabled, and a new URL only after its handshake', async () => {
      const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
      const off = await v2<One>(t, 'PATCH', `${base}/${r.id}`, { key, body: { enabled: false } });
      expect(off.body.data).toMatchObject({ enabled: false, url: receiver.url });
      const moved = await v2<One>(t, 'PATCH', `${base}/${r.id}`, { key, body: { url: `${receiver.url}/v2`, enabled: true } });
      expect(moved.body.data).toMatchObject({ enabled: true, url: `${receiver.url}/v2` });
      expect(receiver.received.map((x) => x.json!.Type)).toEqual(['Validation', 'Validation']);
    });

    it.each([
      [{}, 400, 'validation_failed', undefined, /at least 1/],
      [{ match: 'x.example' }, 400, 'unknown_field', 'match', /unknown body field/],
      [{ url: 'http://10.0.0.1/x' }, 400, 'validation_failed', 'url', /private/],
      [{ url: 'http://127.0.0.1:1/nothing-listens' }, 422, 'endpoint_validation_failed', 'url', /ECONNREFUSED/],
    ] as const)('refuses %j with %s %s and changes nothing', async (body, status, code, field, message) => {
      const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
      const before = await t.store.inbound.getRoute(serverId, r.id);
      const res = await v2<V2Error>(t, 'PATCH', `${base}/${r.id}`, { key, body });
      expect(res.status).toBe(status);
      expect(res.body.error).toMatchObject({ code, ...(field ? { field } : {}) });
      expect(res.body.error.message).toMatch(message);
      expect(await t.store.inbound.getRoute(serverId, r.id)).toEqual(before);
    });
  });

  it('delete removes the route with its messages and attempts; 404 after', async () => {
    const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
    await receive({ id: r.id, serverId }, Date.now(), { attempt: true });
    const otherMessages = (await countRows(t.db, 'inbound_messages')) - 1;
    const del = await v2<{ data: { id: number; deleted: boolean } }>(t, 'DELETE', `${base}/${r.id}`, { key });
    expect(del.body.data).toEqual({ id: r.id, deleted: true });
    expect(await t.store.inbound.getRoute(serverId, r.id)).toBeUndefined();
    expect(await queryRows(t.db, `SELECT id FROM inbound_posts WHERE route_id = ${r.id}`)).toHaveLength(0);
    expect(await queryRows(t.db, `SELECT id FROM inbound_attempts WHERE route_id = ${r.id}`)).toHaveLength(0);
    expect(await countRows(t.db, 'inbound_messages')).toBe(otherMessages);
    expect((await v2<V2Error>(t, 'DELETE', `${base}/${r.id}`, { key })).status).toBe(404);
    const bad = await v2<V2Error>(t, 'DELETE', `${base}/0`, { key });
    expect([bad.status, bad.body.error.code]).toEqual([400, 'validation_failed']);
  });

  it('validate re-runs the handshake; a failure (422) changes nothing', async () => {
    const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
    const ok = await v2<One>(t, 'POST', `${base}/${r.id}/validate`, { key });
    expect(ok.status).toBe(200);
    expect(Date.parse(ok.body.data.validatedOn!)).toBeGreaterThanOrEqual(Date.parse(r.validatedOn!));
    receiver.status = 503;
    const before = await t.store.inbound.getRoute(serverId, r.id);
    const bad = await v2<V2Error>(t, 'POST', `${base}/${r.id}/validate`, { key });
    expect([bad.status, bad.body.error.code]).toEqual([422, 'endpoint_validation_failed']);
    expect(await t.store.inbound.getRoute(serverId, r.id)).toEqual(before);
    const unknown = await v2<V2Error>(t, 'POST', `${base}/${r.id}/validate`, { key, query: { force: 1 } });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'unknown_field']);
  });

  it('rotate-secret: a new secret shown once; the previous one keeps signing for the overlap', async () => {
    const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
    const rot = await v2<One>(t, 'POST', `${base}/${r.id}/rotate-secret`, { key });
    expect(rot.status).toBe(200);
    expect(rot.body.data.signingSecret).toMatch(/^whsec_/);
    expect(rot.body.data.signingSecret).not.toBe(r.signingSecret);
    expect(rot.body.data.previousSecretExpiresOn).not.toBeNull();
    expect(rot.body.data.secretKey).toBe(r.secretKey);
    const stored = await t.store.inbound.getRoute(serverId, r.id);
    expect(stored!.signingSecrets).toEqual([rot.body.data.signingSecret, r.signingSecret]);
    const unknown = await v2<V2Error>(t, 'POST', `${base}/${r.id}/rotate-secret`, { key, query: { x: 1 } });
    expect([unknown.status, unknown.body.error.code]).toEqual([400, 'unknown_field']);
    expect((await t.store.inbound.getRoute(serverId, r.id))!.signingSecrets).toEqual(stored!.signingSecrets);
  });

  it("messages and attempts: paged, newest first, never the bytes; 404 for another route's message", async () => {
    const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
    const now = Date.now();
    const first = await receive({ id: r.id, serverId }, now - 2_000, { attempt: true, rcptTo: 'one@customer.example' });
    await receive({ id: r.id, serverId }, now - 1_000, { rcptTo: 'two@customer.example' });
    const page = await v2<{ data: MessageWire[]; total: number }>(t, 'GET', `${base}/${r.id}/messages`, { key, query: { pageSize: 1 } });
    expect(page.body.total).toBe(2);
    expect(page.body.data).toMatchObject([{ rcptTo: 'two@customer.example', mailFrom: 'a@sender.example', status: 'pending', attempts: 0, size: RAW.length }]);
    expect(page.text).not.toContain('the message text');
    const old = await v2<{ data: MessageWire[] }>(t, 'GET', `${base}/${r.id}/messages`, { key, query: { pageSize: 1, pageNumber: 1 } });
    expect(old.body.data).toMatchObject([{ id: first, rcptTo: 'one@customer.example', status: 'gave_up', attempts: 1 }]);
    const attempts = await v2<{ data: unknown[]; total: number }>(t, 'GET', `${base}/${r.id}/messages/${first}/attempts`, { key });
    expect(attempts.body).toMatchObject({ total: 1, data: [{ ok: false, status: 503, durationMs: 3, error: 'HTTP 503', response: 'busy' }] });
    const bad = await v2<V2Error>(t, 'GET', `${base}/${r.id}/messages`, { key, query: { sortField: 'size' } });
    expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'validation_failed', 'sortField']);
    const r2 = (await create({ match: 'second.example', url: receiver.url })).body.data;
    const cross = await v2<V2Error>(t, 'GET', `${base}/${r2.id}/messages/${first}/attempts`, { key });
    expect([cross.status, cross.body.error.code]).toEqual([404, 'not_found']);
  });

  it('replay queues the range again, leaves waiting messages, and refuses bad ranges changing nothing', async () => {
    const r = (await create({ match: 'customer.example', url: receiver.url })).body.data;
    const now = Date.now();
    const done = await receive({ id: r.id, serverId }, now - 5_000, { attempt: true });
    await receive({ id: r.id, serverId }, now - 4_000); // pending: left alone
    const outside = await receive({ id: r.id, serverId }, now - 60_000);
    await t.store.inbound.claimPosts('test2', 100, now, 0).then((w) =>
      t.store.inbound
        .recordAttempts(
          'test2',
          w
            .filter((x) => x.postId === outside)
            .map((x) => ({
              postId: x.postId,
              routeId: x.route.id,
              ok: true,
              httpStatus: 200,
              durationMs: 1,
              error: null,
              responseSnippet: null,
              next: { status: 'delivered' as const, attempts: 1, nextAttemptAt: now },
            })),
          now,
        )
        .then(() =>
          t.store.inbound.releasePosts(
            'test2',
            w.map((x) => x.postId),
          ),
        ),
    );
    const path = `${base}/${r.id}/replay`;
    const iso = (ms: number) => new Date(ms).toISOString();
    for (const [body, code, field] of [
      [{ from: iso(now), to: iso(now - 1) }, 'validation_failed', 'to'],
      [{ from: iso(now - 8 * 86_400_000), to: iso(now) }, 'validation_failed', 'to'],
      [{ from: 'yesterday', to: iso(now) }, 'validation_failed', 'from'],
      [{ from: iso(now - 10_000) }, 'validation_failed', 'to'],
      [{ from: iso(now - 10_000), to: iso(now), all: true }, 'unknown_field', 'all'],
    ] as const) {
      const res = await v2<V2Error>(t, 'POST', path, { key, body });
      expect([res.status, res.body.error.code, res.body.error.field]).toEqual([400, code, field]);
    }
    expect((await t.store.inbound.getPost(serverId, r.id, done))!.status).toBe('gave_up');
    const ok = await v2<{ data: { queued: number } }>(t, 'POST', path, { key, body: { from: iso(now - 10_000), to: iso(now) } });
    expect(ok.body.data.queued).toBe(1);
    expect(await t.store.inbound.getPost(serverId, r.id, done)).toMatchObject({ status: 'pending', attempts: 0 });
    expect((await t.store.inbound.getPost(serverId, r.id, outside))!.status).toBe('delivered');
  });
});
