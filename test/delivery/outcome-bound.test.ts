import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import type { Store } from '../../src/store/store.js';
import { DeliveryWorker } from '../../src/delivery/worker.js';
import { MxResolver } from '../../src/delivery/mx.js';
import { SmtpPool } from '../../src/delivery/smtp-pool.js';
import { classifySmtpReply } from '../../src/bounce/classify.js';
import { createLogger } from '../../src/core/log.js';
import { newId } from '../../src/core/ids.js';
import { loadVerpKeyring } from '../../src/bounce/verp-keys.js';
import { withAreaOverrides } from '../helpers/store-overrides.js';

const MAX_IN_FLIGHT = 10;
const RECIPIENTS = 60;

/**
 * Delivered but not yet recorded counts against maxInFlight: while outcomes cannot be written,
 * the worker sends at most maxInFlight recipients and claims nothing more, so a crash at that
 * moment could repeat at most maxInFlight deliveries. Once recording works again, everything is
 * delivered exactly once.
 */
describe(`unrecorded outcomes hold their slots (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let store: Store;
  let sink: SmtpSink;
  let serverId: number;
  beforeAll(async () => {
    db = await createTestDb();
    store = await db.open();
    sink = await startSmtpSink();
    const account = await store.tenancy.createAccount('A', Date.now());
    serverId = (await store.tenancy.createServer({ accountId: account.id, name: 'S' }, Date.now())).id;
  });
  afterAll(async () => {
    await sink.close();
    await store.close();
    await db.drop();
  });

  it('sends at most maxInFlight while recording fails, then delivers the rest once each', async () => {
    const now = Date.now();
    const addresses = Array.from({ length: RECIPIENTS }, (_, i) => `bound${i}@sink.test`);
    await store.queue.commitAccepts([
      {
        idempotency: null,
        messages: [
          {
            id: newId(now),
            serverId,
            createdAt: now,
            source: 'api',
            isMerge: false,
            sizeBytes: 10,
            metadata: [],
            tags: [],
            template: {
              from: { email: 'f@example.com', name: null },
              replyTo: null,
              to: [],
              cc: [],
              bcc: [],
              subject: 's',
              textBody: 'b',
              htmlBody: null,
              ampBody: null,
              charset: null,
              headers: [],
              attachments: [],
              messageId: null,
              mailingId: null,
              globalMerge: [],
            },
            recipients: addresses.map((address) => ({ id: newId(now), address, kind: 'to' as const, merge: null, mailingId: null, messageId: null })),
          },
        ],
      },
    ]);

    let failing = true;
    let failedRecords = 0;
    // The real store, except that recording outcomes fails while `failing`.
    const flaky = withAreaOverrides(store, 'queue', () =>
      failing
        ? {
            recordOutcomes: async () => {
              failedRecords++;
              throw new Error('database unavailable');
            },
          }
        : {},
    );
    const pool = new SmtpPool({ heloName: 'postline.test', maxConnections: 4, maxPerDestination: 4, rateLimiter: null });
    const worker = new DeliveryWorker({
      store: flaky,
      log: createLogger('silent'),
      now: Date.now,
      pool,
      classify: classifySmtpReply,
      sign: async (m) => m,
      resolver: new MxResolver(fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }), sink.port, null),
      workerId: 'bound-worker',
      hostname: 'postline.test',
      bounceDomain: 'postline.test',
      lifetimeMs: 3_600_000,
      maxInFlight: MAX_IN_FLIGHT,
      claimBatch: MAX_IN_FLIGHT,
      pollMs: 20,
      verp: await loadVerpKeyring(store),
    });
    worker.start();
    try {
      // Two failed flushes (the second a second after the first): the worker has had every chance to claim more.
      while (failedRecords < 2) await new Promise((r) => setTimeout(r, 20));
      expect(sink.messages.length).toBe(MAX_IN_FLIGHT);
      expect(worker.inFlightCount).toBe(MAX_IN_FLIGHT);
      expect(await store.queue.countRecipientsByStatus()).toEqual({ delivering: MAX_IN_FLIGHT, queued: RECIPIENTS - MAX_IN_FLIGHT });

      failing = false;
      while ((await store.queue.countRecipientsByStatus()).delivered !== RECIPIENTS) await new Promise((r) => setTimeout(r, 50));
      const perAddress = new Map<string, number>();
      for (const m of sink.messages) for (const a of m.rcptTo) perAddress.set(a, (perAddress.get(a) ?? 0) + 1);
      expect([...perAddress.keys()].sort()).toEqual([...addresses].sort());
      expect([...perAddress.values()].every((n) => n === 1)).toBe(true);
    } finally {
      await worker.stop();
    }
  });
});
