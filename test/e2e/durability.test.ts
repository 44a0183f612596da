import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { cli, exited, serve } from '../helpers/process.js';

/**
 * Accepted means durable: every request answered Success survives a SIGKILL of the server
 * that answered it, because the answer is sent only after the commit.
 */
describe(`durability under SIGKILL (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  beforeAll(async () => {
    db = await createTestDb();
  });
  afterAll(async () => {
    await db.drop();
  });

  it('keeps every message it answered Success for when killed mid-load', async () => {
    const env = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    const init = await cli(['init', '--json'], env);
    expect(init.status).toBe(0);
    const creds = JSON.parse(init.stdout);
    const p = await serve(env);
    const url = `http://127.0.0.1:${p.port}/api/v1/email`;
    const accepted: string[] = [];
    let failed = 0;
    const send = async (i: number) => {
      const rows = i % 5 === 0 ? Array.from({ length: 200 }, (_, j) => [{ Field: 'DeliveryAddress', Value: `u${j}@example.com` }]) : null;
      try {
        const res = await fetch(url, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.apiKey}` },
          body: JSON.stringify({
            ServerId: creds.serverId,
            Messages: [
              {
                To: [{ EmailAddress: rows ? '%%DeliveryAddress%%' : `r${i}@example.com` }],
                From: { EmailAddress: 'f@example.com' },
                Subject: 'S',
                TextBody: 'T',
                MessageId: `req-${i}`,
                MergeData: rows ? { PerMessage: rows } : null,
              },
            ],
          }),
        });
        const body = (await res.json()) as { ErrorCode: string };
        if (body.ErrorCode === 'Success') accepted.push(`req-${i}`);
      } catch {
        failed++; // connection cut by the kill: never answered, so never promised
      }
    };
    const inflight: Promise<void>[] = [];
    let i = 0;
    const pump = (async () => {
      while (p.child.exitCode === null && i < 5000) {
        inflight.push(send(i++));
        if (inflight.length % 16 === 0) await new Promise((r) => setTimeout(r, 1));
      }
    })();
    const t0 = Date.now();
    while (accepted.length < 150) {
      if (Date.now() - t0 > 20_000) throw new Error(`only ${accepted.length} accepted, ${failed} failed, ${i} sent; server: ${p.stderr()}`);
      await new Promise((r) => setTimeout(r, 5));
    }
    p.child.kill('SIGKILL');
    await exited(p.child);
    await pump;
    await Promise.all(inflight);
    expect(accepted.length).toBeGreaterThanOrEqual(150);
    expect(failed).toBeGreaterThan(0); // the kill did cut requests in flight

    const store = await db.open();
    try {
      // Count stored recipients and their accept events per request (MessageId is unique per
      // request). The accept event is Queued, or Failed with FailureType 2 for an address that an
      // earlier delivery put on the suppression list (example.com publishes a null MX).
      const events = await store.events.list({ limit: 10_000_000 });
      const atAccept = (e: (typeof events)[number]) => e.type === 'Queued' || (e.type === 'Failed' && (e.data as { FailureType?: number }).FailureType === 2);
      const queued = new Set(events.filter(atAccept).map((e) => e.recipientId));
      const perRequest = new Map<string, number>();
      for (const messageId of new Set(events.map((e) => e.messageId))) {
        for (const r of await store.queue.listRecipients(messageId)) {
          expect(queued.has(r.id)).toBe(true);
          perRequest.set(r.messageId_!, (perRequest.get(r.messageId_!) ?? 0) + 1);
        }
      }
      for (const id of accepted) {
        expect(perRequest.get(id), id).toBe(Number(id.slice(4)) % 5 === 0 ? 200 : 1);
      }
    } finally {
      await store.close();
    }
  });
});
