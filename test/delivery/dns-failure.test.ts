import { createServer, type Server } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import type { StoredRecipient } from '../../src/store/store.js';

/**
 * Recipients to a domain whose DNS fails, resolved through a real DNS server on loopback
 * (POSTLINE_DNS_SERVERS): one lookup for all of them, deferred together with one retry time, and
 * delivered once DNS answers again after the cached failure expires. The app runs on a clock the
 * test moves, so nothing waits for minutes.
 */
describe(`a domain whose DNS fails (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let dns: TestDnsServer;
  let t: TestApp;
  /** An MX host that takes connections and drops them before its greeting (127.0.0.2, the sink's port). */
  let dead: Server;
  let deadConnections = 0;
  let clock = Date.UTC(2030, 0, 1);

  const send = async (local: string, n: number, domain: string) => {
    const res = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          To: Array.from({ length: n }, (_, i) => ({ EmailAddress: `${local}${i}@${domain}` })),
          From: { EmailAddress: 'f@example.com' },
          Subject: 's',
          TextBody: 'b',
        },
      ],
    });
    expect(res.body.ErrorCode).toBe('Success');
    sent.push(await newestMessageId(t.store));
  };
  const sent: string[] = [];
  /** The recipients of `domain` among the messages sent, once `done` holds for them (or after 10 s). */
  const recipientsOf = async (domain: string, done: (rs: StoredRecipient[]) => boolean): Promise<StoredRecipient[]> => {
    let mine: StoredRecipient[] = [];
    for (let i = 0; i < 400; i++) {
      const all: StoredRecipient[] = [];
      for (const id of sent) all.push(...(await waitForRecipients(t.store, id, () => true)));
      mine = all.filter((r) => r.domain === domain);
      if (done(mine)) break;
      await new Promise((r) => setTimeout(r, 25));
    }
    return mine;
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    dead = createServer((c) => {
      deadConnections++;
      c.destroy();
    });
    await new Promise<void>((r) => dead.listen(sink.port, '127.0.0.2', r));
    dns = await startDnsServer({
      'down.test': { fail: 'REFUSED' },
      'up.test': { MX: [{ exchange: '127.0.0.1', priority: 10 }] },
      'dead.test': { MX: [{ exchange: '127.0.0.2', priority: 10 }] },
    });
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port, dnsServers: [dns.address], perDestinationConcurrency: 2 },
      now: () => clock,
      delivery: { pollMs: 20 },
    });
  });
  afterAll(async () => {
    await t?.close();
    await sink?.close();
    await dns?.close();
    await new Promise((r) => dead?.close(r));
  });

  it('N recipients cost one lookup and are deferred together; they are delivered when DNS answers again after the cache expires', async () => {
    await send('a', 40, 'down.test');
    const deferred = await recipientsOf('down.test', (rs) => rs.length === 40 && rs.every((r) => r.status === 'deferred'));
    expect(deferred.map((r) => r.status)).toEqual(Array(40).fill('deferred'));
    // One lookup: queryMx asks the one server twice (its two tries) for the domain, whatever N is.
    expect(dns.asked('MX down.test')).toBe(2);
    expect(new Set(deferred.map((r) => [r.attempts, r.nextAttemptAt, r.failureCode, r.lastReply].join('|'))).size).toBe(1);
    const first = deferred[0]!;
    expect(first).toMatchObject({ attempts: 1, failureCode: 4999 });
    expect(first.lastReply).toBe('MX lookup for down.test failed: EREFUSED');
    // Retried per the schedule (a minute, ±10 %), counted from the failure.
    expect(first.nextAttemptAt - clock).toBeGreaterThanOrEqual(54_000);
    expect(first.nextAttemptAt - clock).toBeLessThanOrEqual(66_000);
    const events = await t.store.events.list({ messageId: sent[0]! });
    expect(events.filter((e) => e.type === 'Deferred').map((e) => (e.data as { FailureCode: number }).FailureCode)).toEqual(Array(40).fill(4999));

    // More mail to the failing domain while the failure is kept: deferred without asking DNS again.
    await send('b', 10, 'down.test');
    const more = await recipientsOf('down.test', (rs) => rs.length === 50 && rs.every((r) => r.status === 'deferred'));
    expect(more.filter((r) => r.status === 'deferred')).toHaveLength(50);
    expect(dns.asked('MX down.test')).toBe(2);

    // A working domain beside it is delivered meanwhile.
    await send('c', 3, 'up.test');
    expect((await recipientsOf('up.test', (rs) => rs.length === 3 && rs.every((r) => r.status === 'delivered'))).map((r) => r.status)).toEqual(
      Array(3).fill('delivered'),
    );

    // DNS comes back. Past the failure's 30 s the cache is stale but nothing is due yet: no query.
    dns.set('down.test', { MX: [{ exchange: '127.0.0.1', priority: 10 }] });
    clock += 31_000;
    await new Promise((r) => setTimeout(r, 200));
    expect(dns.asked('MX down.test')).toBe(2);
    // At the retry time every deferred recipient is claimed, one lookup answers for all, and they are delivered.
    clock = first.nextAttemptAt + 7_000;
    const delivered = await recipientsOf('down.test', (rs) => rs.every((r) => r.status === 'delivered'));
    expect(delivered.map((r) => r.status)).toEqual(Array(50).fill('delivered'));
    expect(dns.asked('MX down.test')).toBe(3);
    expect(delivered.every((r) => r.attempts === 2)).toBe(true);
    expect(sink.messages.filter((m) => m.rcptTo.some((a) => a.endsWith('@down.test')))).toHaveLength(50);
  });

  it('a domain whose MX host takes no connection: its other recipients are deferred without trying, together', async () => {
    await send('d', 30, 'dead.test');
    const rs = await recipientsOf('dead.test', (xs) => xs.length === 30 && xs.every((r) => r.status === 'deferred'));
    expect(rs.map((r) => r.status)).toEqual(Array(30).fill('deferred'));
    // At most one connection per pooled slot (perDestinationConcurrency 2) was tried, not one per recipient.
    expect(deadConnections).toBeGreaterThanOrEqual(1);
    expect(deadConnections).toBeLessThanOrEqual(2);
    expect(rs.every((r) => r.attempts === 1 && r.lastReply!.startsWith('127.0.0.2:'))).toBe(true);
  });
});
