import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { startSmtpSink, type ConnectionGauge, type SmtpSink } from '../helpers/smtp-sink.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import type { StoredRecipient } from '../../src/store/store.js';

/**
 * Provider-aware traffic shaping against real SMTP servers on loopback addresses. A test
 * provider is named by its MX hosts' addresses in an operator's shaping file (the shipped
 * providers are named by host names, which loopback cannot stand for).
 */
const dir = mkdtempSync(join(tmpdir(), 'postline-shaping-'));
let files = 0;
function shapingFile(content: unknown): string {
  const file = join(dir, `shaping-${++files}.json`);
  writeFileSync(file, JSON.stringify(content));
  return file;
}

async function send(t: TestApp, to: string[]): Promise<string> {
  const res = await inject(t, {
    ServerId: t.credentials.serverId,
    ApiKey: t.credentials.apiKey,
    Messages: [{ To: to.map((EmailAddress) => ({ EmailAddress })), From: { EmailAddress: 'news@example.com' }, Subject: 'S', TextBody: 'T' }],
  });
  expect(res.body.ErrorCode, res.text).toBe('Success');
  return newestMessageId(t.store);
}

const settled = (rs: StoredRecipient[]) => rs.every((r) => r.status === 'delivered' || r.status === 'deferred' || r.status === 'failed');

async function until(what: string, done: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await done())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A sink on each address, all on one port (POSTLINE_OUTBOUND_PORT is one for every MX host). */
async function sinksOn(hosts: string[], gauges: (ConnectionGauge | undefined)[] = []): Promise<SmtpSink[]> {
  const first = await startSmtpSink({ host: hosts[0]!, gauge: gauges[0] });
  const rest = [];
  for (let i = 1; i < hosts.length; i++) rest.push(await startSmtpSink({ host: hosts[i]!, port: first.port, gauge: gauges[i] }));
  return [first, ...rest];
}

describe(`traffic shaping: limits per provider and per connection (${TEST_STORE_KIND})`, () => {
  const provider: ConnectionGauge = { open: 0, peak: 0 };
  let sinks: SmtpSink[];
  let t: TestApp;

  beforeAll(async () => {
    // a.test and b.test: two domains whose MX hosts are one provider's; c.test: a destination of no provider; d.test: another provider.
    sinks = await sinksOn(['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5'], [provider, provider]);
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: {
        outboundPort: sinks[0]!.port,
        perDestinationConcurrency: 10,
        shapingFile: shapingFile({
          providers: [
            { name: 'two-domains', mx: ['127.0.0.2', '127.0.0.3'], connections: 2, messagesPerConnection: 100, perSecond: null },
            { name: 'short-connections', mx: ['127.0.0.5'], connections: 1, messagesPerConnection: 3, perSecond: null },
          ],
        }),
      },
      dns: fakeDns({
        'a.test': { mx: [{ exchange: '127.0.0.2', priority: 10 }] },
        'b.test': { mx: [{ exchange: '127.0.0.3', priority: 10 }] },
        'c.test': { mx: [{ exchange: '127.0.0.4', priority: 10 }] },
        'd.test': { mx: [{ exchange: '127.0.0.5', priority: 10 }] },
      }),
      delivery: { pollMs: 50 },
    });
  });
  afterAll(async () => {
    await t.close();
    for (const s of sinks) await s.close();
  });

  it("holds a provider's connections across its domains, while an unknown destination keeps its own limit", async () => {
    // slow*: the sink takes a quarter second per message, so sends pile up and the caps show.
    const to = [...Array.from({ length: 8 }, (_, i) => `slow${i}@a.test`), ...Array.from({ length: 8 }, (_, i) => `slow${i}@b.test`)];
    const other = Array.from({ length: 8 }, (_, i) => `slow${i}@c.test`);
    const id = await send(t, [...to, ...other]);
    const rs = await waitForRecipients(t.store, id, (x) => x.every((r) => r.status === 'delivered'), 30_000);
    expect(rs).toHaveLength(24);
    expect(sinks[0]!.messages.length + sinks[1]!.messages.length).toBe(16);
    // Counted at the servers: at most two connections open at once to the two hosts together.
    expect(provider.peak).toBe(2);
    expect(sinks[0]!.connections).toBeGreaterThanOrEqual(1);
    expect(sinks[1]!.connections).toBeGreaterThanOrEqual(1);
    // The unknown destination is limited on its own (POSTLINE_PER_DESTINATION_CONCURRENCY), not with the provider.
    expect(sinks[2]!.gauge.peak).toBeGreaterThan(2);
    const v = await v2<{ data: { providers: { name: string; limits: { connections: number }; state: { connectionsOpen: number; sentLastHour: number } }[] } }>(
      t,
      'GET',
      '/delivery/shaping',
      { key: t.credentials.accountKey },
    );
    const two = v.body.data.providers.find((p) => p.name === 'two-domains')!;
    expect(two.limits.connections).toBe(2);
    expect(two.state.sentLastHour).toBe(16);
    expect(two.state.connectionsOpen).toBeLessThanOrEqual(2);
  });

  it("closes a connection after the provider's messages per connection", async () => {
    const before = sinks[3]!.connections;
    const id = await send(
      t,
      Array.from({ length: 7 }, (_, i) => `m${i}@d.test`),
    );
    await waitForRecipients(t.store, id, (x) => x.every((r) => r.status === 'delivered'));
    // One connection at a time, three messages each: 3 + 3 + 1.
    expect(sinks[3]!.connections - before).toBe(3);
    expect(sinks[3]!.gauge.peak).toBe(1);
  });
});

describe(`traffic shaping: a provider that asks to slow down (${TEST_STORE_KIND})`, () => {
  let google: SmtpSink;
  let other: SmtpSink;
  let t: TestApp;
  // The app's clock: the wall clock plus what the test adds, so the suspension ends when the test says.
  let offset = 0;
  const now = () => Date.now() + offset;
  const metric = async (name: string, labels: string): Promise<number | null> => {
    const text = await (await fetch(`${t.url}/metrics`)).text();
    const m = new RegExp(`^${name}\\{${labels.replace(/[.]/g, '\\.')}\\} (\\S+)$`, 'm').exec(text);
    return m ? Number(m[1]) : null;
  };
  interface ShapingWire {
    enabled: boolean;
    providers: {
      name: string;
      state: {
        perSecondNow: number | null;
        slowedUntil: string | null;
        slowDowns: number;
        lastSlowDown: { sourceIp: string; reply: string; pattern: string } | null;
        suspensions: { sourceIp: string; since: string; until: string; reply: string; pattern: string }[];
      };
    }[];
  }
  const shapingState = async () => {
    const r = await v2<{ data: ShapingWire }>(t, 'GET', '/delivery/shaping', { key: t.credentials.accountKey });
    expect(r.status, r.text).toBe(200);
    return r.body.data.providers.find((p) => p.name === 'test-google')!;
  };

  beforeAll(async () => {
    const sinks = await sinksOn(['127.0.0.6', '127.0.0.7']);
    google = sinks[0]!;
    other = sinks[1]!;
    t = await startTestApp({
      roles: ['api', 'delivery'],
      now,
      config: {
        outboundPort: google!.port,
        shapingFile: shapingFile({ providers: [{ name: 'test-google', mx: ['127.0.0.6'], connections: 5, perSecond: 50 }] }),
      },
      dns: fakeDns({
        'g.test': { mx: [{ exchange: '127.0.0.6', priority: 10 }] },
        'o.test': { mx: [{ exchange: '127.0.0.7', priority: 10 }] },
      }),
      // One second between attempts; the shipped backoff (60 s) is ended by moving the clock.
      delivery: { pollMs: 50, retrySchedule: [1_000] },
    });
  });
  afterAll(async () => {
    await t.close();
    await google.close();
    await other.close();
  });

  it('suspends the provider on 421 4.7.28, closes its idle connections, shows it in /metrics and the API', async () => {
    // Connections to it (slow*: a quarter second each, so they overlap), left idle after their messages.
    await waitForRecipients(t.store, await send(t, ['slow1@g.test', 'slow2@g.test', 'slow3@g.test', 'slow4@g.test']), (x) =>
      x.every((r) => r.status === 'delivered'),
    );
    expect(google.gauge.open).toBeGreaterThanOrEqual(2);

    google.dataReply = () => ({
      code: 421,
      message: '4.7.28 [127.0.0.1 15] Our system has detected an unusual rate of unsolicited mail originating from your IP address. - gsmtp',
    });
    const [first] = await waitForRecipients(t.store, await send(t, ['first@g.test']), settled);
    expect(first).toMatchObject({ status: 'deferred', lastMx: '127.0.0.6' });
    expect(first!.lastReply).toMatch(/^421 4\.7\.28 /);
    // All go: the one the server closed with its 421, and the idle ones Postline closes.
    await until('the idle connection to close', () => google.gauge.open === 0);

    expect(await metric('postline_shaping_suspended', 'provider="test-google",source_ip="127.0.0.1"')).toBe(1);
    expect(await metric('postline_shaping_slowdown_replies_total', 'provider="test-google"')).toBe(1);
    const state = (await shapingState()).state;
    expect(state.slowDowns).toBe(1);
    expect(state.suspensions).toHaveLength(1);
    expect(state.suspensions[0]).toMatchObject({ sourceIp: '127.0.0.1', pattern: 'gmail-unusual-rate', reply: expect.stringMatching(/^421 4\.7\.28 /) });
    const untilMs = Date.parse(state.suspensions[0]!.until);
    expect(untilMs - Date.parse(state.suspensions[0]!.since)).toBe(60_000);

    // The route is for admins: a server's management key is refused, and nobody without a key.
    const server = await v2<V2Error>(t, 'GET', '/delivery/shaping', { key: (await createKey(t.store, t.credentials.serverId, 'management')).key });
    expect([server.status, server.body.error.code]).toEqual([403, 'insufficient_scope']);
    expect((await v2(t, 'GET', '/delivery/shaping', { key: null })).status).toBe(401);
    expect((await v2<V2Error>(t, 'GET', '/delivery/shaping', { key: t.credentials.accountKey, query: { verbose: 1 } })).body.error.code).toBe('unknown_field');
  });

  it("defers the provider's recipients without connecting while other providers deliver", async () => {
    google.dataReply = null; // it would take them now: Postline must not ask
    const connections = google.connections;
    const id = await send(t, ['a@g.test', 'b@g.test', 'c@g.test', 'x@o.test', 'y@o.test']);
    const rs = await waitForRecipients(t.store, id, (x) => x.every((r) => (r.domain === 'o.test' ? r.status === 'delivered' : r.status === 'deferred')));
    const state = (await shapingState()).state;
    const untilMs = Date.parse(state.suspensions[0]!.until);
    for (const r of rs.filter((x) => x.domain === 'g.test')) {
      expect(r).toMatchObject({ status: 'deferred', failureCode: 1006, lastMx: null });
      expect(r.lastReply).toMatch(/^held by traffic shaping: test-google asked 127\.0\.0\.1 to slow down \(421 4\.7\.28 .*\); nothing is sent to it until /);
      // Retried after the release, not before.
      expect(r.nextAttemptAt!).toBeGreaterThanOrEqual(untilMs);
    }
    const deferred = (await t.store.events.list({ messageId: id })).find((e) => e.type === 'Deferred')!;
    expect(deferred.data).toMatchObject({ FailureCode: 1006, BounceStatus: '4.7.28', RemoteMta: null });
    expect(google.connections).toBe(connections);
    expect(other.messages.filter((m) => m.rcptTo[0]!.endsWith('@o.test'))).toHaveLength(2);
  });

  it('releases the provider by itself when the suspension ends, at half its rate for a while, and delivers what waited', async () => {
    offset += 65_000;
    await until('the release', async () => (await metric('postline_shaping_suspended', 'provider="test-google",source_ip="127.0.0.1"')) === 0);
    const state = (await shapingState()).state;
    expect(state.suspensions).toEqual([]);
    expect(state.perSecondNow).toBe(25);
    expect(state.slowedUntil).not.toBeNull();
    await until(
      'the held recipients to be delivered',
      async () => ['first', 'a', 'b', 'c'].every((l) => google.messages.some((m) => m.rcptTo[0] === `${l}@g.test`)),
      20_000,
    );
  });
});

describe(`traffic shaping: per-domain limits (${TEST_STORE_KIND})`, () => {
  it("applies a recipient domain's connections and hourly limit besides its provider's", async () => {
    const gauge: ConnectionGauge = { open: 0, peak: 0 };
    const [sink] = await sinksOn(['127.0.0.8'], [gauge]);
    const t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink!.port, shapingFile: shapingFile({ domains: { 'one.test': { connections: 1 }, 'hourly.test': { perHour: 3 } } }) },
      dns: fakeDns({
        'one.test': { mx: [{ exchange: '127.0.0.8', priority: 10 }] },
        'hourly.test': { mx: [{ exchange: '127.0.0.8', priority: 10 }] },
      }),
      delivery: { pollMs: 50, retrySchedule: [3_600_000] },
    });
    try {
      const one = await send(
        t,
        Array.from({ length: 4 }, (_, i) => `slow${i}@one.test`),
      );
      await waitForRecipients(t.store, one, (x) => x.every((r) => r.status === 'delivered'));
      expect(gauge.peak).toBe(1);
      const hourly = await send(
        t,
        Array.from({ length: 5 }, (_, i) => `h${i}@hourly.test`),
      );
      const rs = await waitForRecipients(t.store, hourly, settled);
      expect(rs.filter((r) => r.status === 'delivered')).toHaveLength(3);
      const held = rs.filter((r) => r.status === 'deferred');
      expect(held).toHaveLength(2);
      for (const r of held) {
        expect(r.failureCode).toBe(1006);
        expect(r.lastReply).toMatch(/^held by traffic shaping: the hourly limit of 3 messages to hourly\.test is reached; there is room again at /);
      }
    } finally {
      await t.close();
      await sink!.close();
    }
  });
});
