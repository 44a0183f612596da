import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, setServerStatus, v2, type V2Error } from '../helpers/api-v2.js';

/**
 * What every v2 route shares: management-key authentication (401 vs 403), the error shape, and
 * the refusal of unknown fields and malformed bodies before anything is written. Exercised on
 * the suppression routes, the first v2 resource.
 */
describe(`management API v2 conventions (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let serverId: number;
  let mgmt: string;
  let other: { serverId: number; key: string };
  const stored = async () => (await t.store.suppressions.search(serverId, { sort: 'address', direction: 'asc', limit: 100, offset: 0 })).total;
  const add = (key: string | null, body: unknown = { emailAddress: 'x@example.com' }, sid = serverId) =>
    v2<V2Error>(t, 'POST', `/servers/${sid}/suppressions`, { key, body });

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    mgmt = (await createKey(t.store, serverId, 'management')).key;
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const s2 = await t.store.tenancy.createServer({ accountId: account.id, name: 'Other' }, Date.now());
    other = { serverId: s2.id, key: (await createKey(t.store, s2.id, 'management')).key };
  });
  afterAll(async () => {
    await t.close();
  });

  describe('authentication', () => {
    it('accepts a management key as Bearer, or as the password of Basic with any user name', async () => {
      expect((await add(mgmt)).status).toBe(200);
      const basic = `Basic ${Buffer.from(`anyone:${mgmt}`).toString('base64')}`;
      const r = await v2(t, 'GET', `/servers/${serverId}/suppressions`, { authorization: basic, query: { emailAddress: 'x@example.com' } });
      expect(r.status).toBe(200);
      const blankUser = `Basic ${Buffer.from(`:${mgmt}`).toString('base64')}`;
      expect((await v2(t, 'GET', `/servers/${serverId}/suppressions`, { authorization: blankUser, query: { emailAddress: 'x@example.com' } })).status).toBe(
        200,
      );
      await t.store.suppressions.remove(serverId, ['x@example.com']);
    });

    it('answers 401 unauthorized, with a Bearer challenge, for a missing, malformed or unknown key, and stores nothing', async () => {
      const cases: (string | undefined)[] = [
        undefined,
        'Token abc',
        'Bearer',
        'Bearer not-a-key',
        `Basic ${Buffer.from('no-colon').toString('base64')}`,
        `Bearer ${'A'.repeat(20)}.${'b'.repeat(40)}`,
        `Bearer ${mgmt.slice(0, 21)}${'x'.repeat(40)}`,
      ];
      for (const authorization of cases) {
        const r = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, { authorization, body: { emailAddress: 'x@example.com' } });
        expect(r.status, String(authorization)).toBe(401);
        expect(r.body.error.code).toBe('unauthorized');
        expect(r.body.error.message.length).toBeGreaterThan(5);
        expect(r.headers.get('www-authenticate')).toBe('Bearer realm="postline"');
      }
      expect(await stored()).toBe(0);
    });

    it('answers 401 for a revoked management key', async () => {
      const k = await createKey(t.store, serverId, 'management');
      expect((await add(k.key)).status).toBe(200);
      await t.store.suppressions.remove(serverId, ['x@example.com']);
      await t.store.tenancy.revokeApiKey(k.publicId, Date.now());
      const r = await add(k.key);
      expect(r.status).toBe(401);
      expect(r.body.error).toEqual({ code: 'unauthorized', message: 'the API key was revoked' });
      expect(await stored()).toBe(0);
    });

    it('answers 403 insufficient_scope for an injection key, also of the right server', async () => {
      const r = await add(t.credentials.apiKey);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('insufficient_scope');
      expect(r.body.error.message).toContain('management');
      expect(await stored()).toBe(0);
    });

    it("answers 403 wrong_server for another server's management key, whether or not the path's server exists", async () => {
      const r = await add(other.key);
      expect(r.status).toBe(403);
      expect(r.body.error.code).toBe('wrong_server');
      const ghost = await add(mgmt, undefined, 99_999);
      expect(ghost.status).toBe(403);
      expect(ghost.body.error.code).toBe('wrong_server');
      expect(await stored()).toBe(0);
      expect((await t.store.suppressions.search(other.serverId, { sort: 'address', direction: 'asc', limit: 1, offset: 0 })).total).toBe(0);
    });

    it('answers 403 server_disabled when the server is disabled', async () => {
      await setServerStatus(t.db, other.serverId, 'disabled');
      try {
        const r = await add(other.key, undefined, other.serverId);
        expect(r.status).toBe(403);
        expect(r.body.error.code).toBe('server_disabled');
      } finally {
        await setServerStatus(t.db, other.serverId, 'active');
      }
      expect((await t.store.suppressions.search(other.serverId, { sort: 'address', direction: 'asc', limit: 1, offset: 0 })).total).toBe(0);
    });

    it('authenticates before it validates: a stranger learns nothing about the body', async () => {
      const r = await add(null, { bogus: true });
      expect(r.status).toBe(401);
      const injection = await add(t.credentials.apiKey, 'not even an object');
      expect(injection.status).toBe(403);
    });

    it('answers 404 not_found for a path ServerId that is not a number', async () => {
      const r = await v2<V2Error>(t, 'GET', '/servers/abc/suppressions/search', { key: mgmt });
      expect(r.status).toBe(404);
      expect(r.body.error).toMatchObject({ code: 'not_found', field: 'serverId' });
    });
  });

  describe('errors and validation', () => {
    it('answers unknown routes with the JSON error shape', async () => {
      const r = await v2<V2Error>(t, 'GET', `/servers/${serverId}/nothing-here`, { key: mgmt });
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ error: { code: 'not_found', message: `no route GET /api/v2/servers/${serverId}/nothing-here` } });
    });

    it('refuses unknown body fields and unknown query parameters with unknown_field, naming them', async () => {
      const body = await add(mgmt, { emailAddress: 'y@example.com', colour: 'blue' });
      expect(body.status).toBe(400);
      expect(body.body.error).toEqual({ code: 'unknown_field', message: 'unknown body field "colour"', field: 'colour' });
      const query = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, {
        key: mgmt,
        body: { emailAddress: 'y@example.com' },
        query: { dryRun: 1 },
      });
      expect(query.status).toBe(400);
      expect(query.body.error).toEqual({ code: 'unknown_field', message: 'unknown query parameter "dryRun"', field: 'dryRun' });
      const search = await v2<V2Error>(t, 'GET', `/servers/${serverId}/suppressions/search`, { key: mgmt, query: { pagesize: 10 } });
      expect(search.body.error).toMatchObject({ code: 'unknown_field', field: 'pagesize' });
      expect(await stored()).toBe(0);
    });

    it('refuses malformed, empty, non-object and non-JSON bodies, and storing nothing', async () => {
      const bad = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, { key: mgmt, raw: '{"emailAddress": ' });
      expect(bad.status).toBe(400);
      expect(bad.body.error.code).toBe('invalid_body');
      const empty = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, { key: mgmt, raw: '' });
      expect(empty.body.error.code).toBe('invalid_body');
      const array = await add(mgmt, ['y@example.com']);
      expect(array.body.error).toEqual({ code: 'invalid_body', message: 'the body must be a JSON object' });
      const none = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, { key: mgmt });
      expect(none.body.error.code).toBe('invalid_body');
      const form = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, {
        key: mgmt,
        raw: 'emailAddress=y@example.com',
        contentType: 'application/x-www-form-urlencoded',
      });
      expect(form.status).toBe(415);
      expect(form.body.error.code).toBe('unsupported_media_type');
      const text = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, {
        key: mgmt,
        raw: '{"emailAddress":"y@example.com"}',
        contentType: 'text/plain',
      });
      expect(text.status).toBe(415);
      expect(text.body.error).toEqual({ code: 'unsupported_media_type', message: 'send the body as application/json' });
      const huge = await v2<V2Error>(t, 'POST', `/servers/${serverId}/suppressions`, {
        key: mgmt,
        raw: JSON.stringify({ emailAddress: 'y@example.com', pad: 'x'.repeat(1_100_000) }),
      });
      expect(huge.status).toBe(413);
      expect(huge.body.error.code).toBe('payload_too_large');
      expect(await stored()).toBe(0);
    });

    it('names the field and the rule for missing, mistyped and out-of-range values', async () => {
      const missing = await add(mgmt, {});
      expect(missing.body.error).toEqual({ code: 'validation_failed', message: 'body field "emailAddress" is required', field: 'emailAddress' });
      const typed = await add(mgmt, { emailAddress: 42 });
      expect(typed.body.error).toMatchObject({ code: 'validation_failed', field: 'emailAddress' });
      const paging = await v2<V2Error>(t, 'GET', `/servers/${serverId}/suppressions/search`, { key: mgmt, query: { pageSize: 101 } });
      expect(paging.status).toBe(400);
      expect(paging.body.error).toEqual({ code: 'validation_failed', message: 'pageSize must be <= 100', field: 'pageSize' });
      const negative = await v2<V2Error>(t, 'GET', `/servers/${serverId}/suppressions/search`, { key: mgmt, query: { pageNumber: -1 } });
      expect(negative.body.error).toMatchObject({ code: 'validation_failed', field: 'pageNumber' });
      const word = await v2<V2Error>(t, 'GET', `/servers/${serverId}/suppressions/search`, { key: mgmt, query: { pageSize: 'ten' } });
      expect(word.body.error).toEqual({ code: 'validation_failed', message: 'pageSize must be integer', field: 'pageSize' });
      const sort = await v2<V2Error>(t, 'GET', `/servers/${serverId}/suppressions/search`, { key: mgmt, query: { sortField: 'reason' } });
      expect(sort.body.error).toEqual({
        code: 'validation_failed',
        message: 'sortField must be one of: emailAddress, suppressionLastUpdate',
        field: 'sortField',
      });
      const dir = await v2<V2Error>(t, 'GET', `/servers/${serverId}/suppressions/search`, { key: mgmt, query: { sortDirection: 'up' } });
      expect(dir.body.error).toEqual({ code: 'validation_failed', message: 'sortDirection must be one of: asc, dsc, desc', field: 'sortDirection' });
      expect(await stored()).toBe(0);
    });
  });
});
