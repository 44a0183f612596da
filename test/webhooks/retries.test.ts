import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import type { Deps } from '../../src/app.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { queryRows, startReceiver, until } from '../helpers/webhooks.js';

interface Endpoint {
  id: number;
  enabled: boolean;
  disabledReason: string | null;
  failingSince: string | null;
}
interface Attempt {
  eventId: string;
  type: string;
  attemptedOn: string;
  ok: boolean;
  status: number | null;
  durationMs: number;
  error: string | null;
}

describe(`webhook retries, ordering and disabling (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  const apps: TestApp[] = [];
  const start = async (webhooks: Deps['webhooks']) => {
    const t = await startTestApp({
      roles: ['api', 'delivery', 'webhooks'],
      config: { outboundPort: sink.port, webhookAllowCidrs: ['127.0.0.1'] },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { pollMs: 50 },
      webhooks,
    });
    apps.push(t);
    const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    const base = `/servers/${t.credentials.serverId}/webhooks`;
    return {
      t,
      key,
      base,
      send: (to: string) =>
        inject(t, {
          ServerId: t.credentials.serverId,
          ApiKey: t.credentials.apiKey,
          Messages: [{ To: [{ EmailAddress: to }], From: { EmailAddress: 'sender@example.com' }, Subject: 'Hi', TextBody: 'Body' }],
        }),
      get: async (id: number) => (await v2<{ data: Endpoint }>(t, 'GET', `${base}/${id}`, { key })).body.data,
      attempts: async (id: number) =>
        (await v2<{ data: Attempt[]; total: number }>(t, 'GET', `${base}/${id}/attempts`, { key, query: { sortDirection: 'asc', pageSize: 100 } })).body,
    };
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    for (const t of apps) await t.close();
    await sink.close();
  });

  it('retries with backoff while the receiver refuses connections or answers 500, keeps each message in order, and delivers once it is back', async () => {
    const a = await start({ pollMs: 50, retrySchedule: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100] });
    const receiver = await startReceiver();
    try {
      const id = (await v2<{ data: Endpoint }>(a.t, 'POST', a.base, { key: a.key, body: { url: receiver.url } })).body.data.id;
      await receiver.down();
      await a.send('dave@sink.test');
      // Refused connections first: visible as failed attempts through the API.
      const refused = await until(
        async () => {
          const r = await a.attempts(id);
          return r.total >= 2 ? r : undefined;
        },
        () => null,
      );
      expect(refused.data[0]).toMatchObject({ type: 'Queued', ok: false, status: null });
      expect(refused.data[0]!.error).toMatch(/ECONNREFUSED|connect/);
      // Delivered is recorded by now but waits behind the failing Queued event of its message.
      expect(refused.data.every((x) => x.type === 'Queued')).toBe(true);
      // Then 500s, then success.
      let failures = 0;
      receiver.status = (r) => (r.json?.Type === 'Queued' && failures++ < 2 ? 500 : 200);
      await receiver.up();
      const events = await until(
        () => (receiver.events().length >= 2 ? receiver.events() : undefined),
        () => receiver.events(),
      );
      expect(events.map((e) => e.Type)).toEqual(['Queued', 'Delivered']);
      // The receiver has both; the dispatcher records the second attempt right after.
      const log = await until(
        async () => {
          const l = await a.attempts(id);
          return l.data.at(-1)?.type === 'Delivered' ? l : undefined;
        },
        () => null,
      );
      const statuses = log.data.map((x) => [x.type, x.status]);
      expect(statuses.filter(([, s]) => s === 500)).toEqual([
        ['Queued', 500],
        ['Queued', 500],
      ]);
      expect(statuses.slice(-2)).toEqual([
        ['Queued', 200],
        ['Delivered', 200],
      ]);
      expect(log.data.at(-1)!.eventId).toBe(events[1]!.EventId);
      expect(await a.get(id)).toMatchObject({ enabled: true, failingSince: null });
    } finally {
      await receiver.close();
    }
  });

  it("a receiver down for a while, then up: every event of many recipients arrives exactly once, each recipient's in order", async () => {
    const a = await start({ pollMs: 50, retrySchedule: Array(30).fill(100) });
    const receiver = await startReceiver();
    try {
      const id = (await v2<{ data: Endpoint }>(a.t, 'POST', a.base, { key: a.key, body: { url: receiver.url } })).body.data.id;
      await receiver.down();
      for (let i = 0; i < 10; i++) expect((await a.send(`many${i}@sink.test`)).body.ErrorCode).toBe('Success');
      await until(
        async () => {
          const r = await a.attempts(id);
          return r.total >= 10 ? r : undefined;
        },
        () => null,
      );
      await receiver.up();
      const events = await until(
        () => (receiver.events().length >= 20 ? receiver.events() : undefined),
        () => receiver.events().length,
      );
      // Let any straggler arrive before counting: the dispatcher has nothing left once every row is delivered.
      await until(
        async () => ((await queryRows(a.t.db, "SELECT COUNT(*) AS n FROM webhook_deliveries WHERE status <> 'delivered'"))[0]!.n === 0 ? true : undefined),
        () => null,
      );
      const ids = receiver.events().map((e) => e.EventId as string);
      expect(ids).toHaveLength(20);
      expect(new Set(ids).size).toBe(20);
      for (let i = 0; i < 10; i++) {
        expect(events.filter((e) => e.Address === `many${i}@sink.test`).map((e) => e.Type)).toEqual(['Queued', 'Delivered']);
      }
    } finally {
      await receiver.close();
    }
  });

  it('gives an event up after the last attempt of its schedule', async () => {
    const a = await start({ pollMs: 50, retrySchedule: [50, 50] });
    const receiver = await startReceiver();
    try {
      const id = (await v2<{ data: Endpoint }>(a.t, 'POST', a.base, { key: a.key, body: { url: receiver.url, eventTypes: ['Queued'] } })).body.data.id;
      receiver.status = 503;
      await a.send('erin@sink.test');
      await until(
        async () => {
          const rows = await queryRows<{ status: string; attempts: number }>(a.t.db, 'SELECT status, attempts FROM webhook_deliveries');
          return rows[0]?.status === 'gave_up' ? rows : undefined;
        },
        () => null,
      );
      const log = await a.attempts(id);
      expect(log.data.map((x) => x.status)).toEqual([503, 503, 503]);
      // Failing, but not for long enough (72 h) to be disabled.
      expect(await a.get(id)).toMatchObject({ enabled: true });
      expect((await a.get(id)).failingSince).not.toBeNull();
    } finally {
      await receiver.close();
    }
  });

  it('disables an endpoint that keeps failing past the window, with the reason through the API; validating re-enables it', async () => {
    // A window of 0: the first failure is already "failing for the whole window".
    const a = await start({ pollMs: 50, retrySchedule: [50, 50], disableAfterMs: 0 });
    const receiver = await startReceiver();
    try {
      const id = (await v2<{ data: Endpoint }>(a.t, 'POST', a.base, { key: a.key, body: { url: receiver.url, eventTypes: ['Queued'] } })).body.data.id;
      receiver.status = 503;
      await a.send('gina@sink.test');
      const disabled = await until(
        async () => {
          const e = await a.get(id);
          return e.enabled ? undefined : e;
        },
        () => null,
      );
      expect(disabled.disabledReason).toMatch(/^every attempt has failed since .*; last error: HTTP 503$/);
      // The dispatcher disables the endpoint before it records the batch's attempts (so no other
      // loop can claim the retry in between): wait for the record as well.
      const attempts = await until(
        async () => {
          const l = await a.attempts(id);
          return l.total > 0 ? l : undefined;
        },
        () => null,
      );
      expect(attempts.total).toBe(1);
      // Disabled: the retry is not claimed, the row waits.
      const [row] = await queryRows<{ status: string }>(a.t.db, 'SELECT status FROM webhook_deliveries');
      expect(row!.status).toBe('failed');
      // Validating again (the receiver is back) re-enables it, and the waiting event goes out.
      receiver.status = 200;
      const again = await v2<{ data: Endpoint }>(a.t, 'POST', `${a.base}/${id}/validate`, { key: a.key });
      expect(again.body.data).toMatchObject({ enabled: true, disabledReason: null, failingSince: null });
      await until(
        () => (receiver.events().length >= 1 ? true : undefined),
        () => receiver.received,
      );
      expect(receiver.events().map((e) => e.Address)).toEqual(['gina@sink.test']);
    } finally {
      await receiver.close();
    }
  });

  it('disables at once on 410 Gone', async () => {
    const a = await start({ pollMs: 50, retrySchedule: [50, 50, 50, 50] });
    const receiver = await startReceiver();
    try {
      const id = (await v2<{ data: Endpoint }>(a.t, 'POST', a.base, { key: a.key, body: { url: receiver.url } })).body.data.id;
      receiver.status = 410;
      await a.send('frank@sink.test');
      const disabled = await until(
        async () => {
          const e = await a.get(id);
          return e.enabled ? undefined : e;
        },
        () => null,
      );
      expect(disabled.disabledReason).toMatch(/410 Gone/);
      // The endpoint is disabled before its attempt is recorded (so no retry slips in between).
      const attempts = await until(
        async () => {
          const n = (await a.attempts(id)).total;
          return n >= 1 ? n : undefined;
        },
        () => null,
      );
      expect(attempts).toBe(1);
    } finally {
      await receiver.close();
    }
  });
});
