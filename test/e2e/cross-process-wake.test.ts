import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ensureBootstrap, type Credentials } from '../../src/accept/bootstrap.js';
import { startApp, type RunningApp } from '../../src/app.js';
import { createLogger } from '../../src/core/log.js';
import type { Store } from '../../src/store/store.js';
import { testConfig } from '../helpers/app.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startReceiver, until, type WebhookReceiver } from '../helpers/webhooks.js';

/**
 * Three Postline processes' roles on one PostgreSQL, each with its own store connection: the API
 * accepts, another delivers, a third posts webhooks. The other two poll only every ten minutes, so
 * mail delivered and events posted within seconds were woken by the committing process's NOTIFY.
 */
const TEN_MINUTES = 10 * 60_000;

describe.skipIf(TEST_STORE_KIND !== 'postgres')('wake-ups across processes on PostgreSQL (LISTEN/NOTIFY)', () => {
  let db: TestDb;
  const stores: Store[] = [];
  const apps: RunningApp[] = [];
  let sink: SmtpSink;
  let receiver: WebhookReceiver;
  let credentials: Credentials;
  let apiUrl: string;

  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSmtpSink();
    receiver = await startReceiver();
    // The receiver is on loopback.
    const config = testConfig(db, { outboundPort: sink.port, webhookAllowPrivate: true });
    const open = async () => {
      const s = await db.open();
      stores.push(s);
      return s;
    };
    const apiStore = await open();
    ({ credentials } = await ensureBootstrap(apiStore, db.dataDir, Date.now()));
    await apiStore.webhooks.createEndpoint(
      {
        serverId: credentials.serverId,
        url: receiver.url,
        eventTypes: [],
        format: 'json',
        secretKey: 'K',
        signingSecret: `whsec_${Buffer.alloc(32, 7).toString('base64')}`,
        enabled: true,
        disabledReason: null,
        validatedAt: Date.now(),
      },
      Date.now(),
    );
    const log = createLogger('silent');
    const api = await startApp({ config, log, store: apiStore, now: Date.now }, ['api']);
    apps.push(api);
    apiUrl = `http://127.0.0.1:${api.httpPort}`;
    apps.push(
      await startApp(
        {
          config,
          log,
          store: await open(),
          now: Date.now,
          dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
          delivery: { pollMs: TEN_MINUTES },
        },
        ['delivery'],
      ),
    );
    apps.push(await startApp({ config, log, store: await open(), now: Date.now, webhooks: { pollMs: TEN_MINUTES } }, ['webhooks']));
    // Let each idle loop finish its first look and go to sleep for its ten minutes.
    await new Promise((r) => setTimeout(r, 500));
  });

  afterAll(async () => {
    for (const a of apps.reverse()) await a.stop();
    for (const s of stores) await s.close();
    await sink?.close();
    await receiver?.close();
    await db?.drop();
  });

  it('a message accepted by one process is delivered by another, and its events posted by a third, without waiting for a poll', async () => {
    const res = await fetch(`${apiUrl}/api/v1/email`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        ServerId: credentials.serverId,
        ApiKey: credentials.apiKey,
        Messages: [{ From: { EmailAddress: 'shop@example.com' }, To: [{ EmailAddress: 'ann@sink.test' }], Subject: 'Woken', TextBody: 'hi' }],
      }),
    });
    expect(((await res.json()) as { ErrorCode: string }).ErrorCode).toBe('Success');
    await until(
      () => (sink.messages.some((m) => m.rcptTo.includes('ann@sink.test')) ? true : undefined),
      () => ({ sunk: sink.messages.length }),
      30_000,
    );
    const types = await until(
      () => {
        const t = receiver.events().map((e) => e.Type);
        return t.includes('Queued') && t.includes('Delivered') ? t : undefined;
      },
      () => receiver.events().map((e) => e.Type),
      30_000,
    );
    expect(types).toEqual(expect.arrayContaining(['Queued', 'Delivered']));
  });
});
