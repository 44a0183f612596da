import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { cli, exited, serve, type ServeProcess } from '../helpers/process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { sendOverSmtp } from './smtp-load.js';
import { untilDoneOrStalled } from './progress.js';
import { WORKER_DEAD_AFTER_MS } from '../../src/workers/registry.js';

/**
 * Time after the restart for what the killed process had in flight (at most 400 messages) to
 * arrive: its claims go to the new process once its worker counts as dead (at once on SQLite,
 * whose restarted process is the file's only one), then a few seconds of sending. Without the
 * worker registry they would wait for the claim timeout (900 s).
 */
const RECOVERY_MS = WORKER_DEAD_AFTER_MS + 10_000;
/** The rest of the queue may take longer on a loaded machine; the wait fails when deliveries stop for this long. */
const STALL_MS = 30_000;
/** maxInFlight of a process with the default POSTLINE_DELIVERY_CONCURRENCY (100): the most it can have sent and not recorded. */
const DUPLICATE_BOUND = 400;

/**
 * `npm run test:crash`: under load through the Injection API and SMTP, the server is killed with
 * SIGKILL and restarted, with the default claim timeout (900 s). Every message answered Success or
 * 250 must reach the sink within RECOVERY_MS of the restart (the worker registry, not the claim
 * timeout, frees the dead process's claims); the only duplicates allowed are deliveries that were
 * in flight at the kill, at most maxInFlight.
 */
describe(`crash: SIGKILL under load, then restart (${TEST_STORE_KIND})`, () => {
  let db: TestDb;
  let sink: SmtpSink;
  beforeAll(async () => {
    db = await createTestDb();
    sink = await startSmtpSink();
  });
  afterAll(async () => {
    await sink.close();
    await db.drop();
  });

  it('loses nothing it accepted', async () => {
    const base = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    const creds = JSON.parse((await cli(['init', '--json'], base)).stdout) as { serverId: number; apiKey: string };
    const env = {
      ...base,
      POSTLINE_RELAY_HOST: `127.0.0.1:${sink.port}`,
      POSTLINE_SUBMISSION_PORT: '0',
      POSTLINE_MX_PORT: '0',
      POSTLINE_TRUSTED_NETWORKS: `127.0.0.0/8=${creds.serverId}`,
      POSTLINE_SMTP_HOST: '127.0.0.1',
    };
    let p: ServeProcess = await serve(env);
    const accepted = new Set<string>();
    let cut = 0;
    let n = 0;
    const http = async (i: number) => {
      const to = `api${i}@crash.test`;
      try {
        const res = await fetch(`http://127.0.0.1:${p.port}/api/v1/email`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.apiKey}` },
          body: JSON.stringify({
            ServerId: creds.serverId,
            Messages: [{ To: [{ EmailAddress: to }], From: { EmailAddress: 'f@example.com' }, Subject: `n${i}`, TextBody: 'T' }],
          }),
        });
        if (((await res.json()) as { ErrorCode: string }).ErrorCode === 'Success') accepted.add(to);
      } catch {
        cut++;
      }
    };
    const smtp = async (i: number) => {
      const to = `smtp${i}@crash.test`;
      if (p.smtpPort === null) return;
      if (await sendOverSmtp(p.smtpPort, to).catch(() => false)) accepted.add(to);
      else cut++;
    };
    const load: Promise<void>[] = [];
    const pump = (async () => {
      while (p.child.exitCode === null && p.child.signalCode === null && n < 20_000) {
        const i = n++;
        load.push(i % 4 === 3 ? smtp(i) : http(i));
        if (i % 8 === 0) await new Promise((r) => setTimeout(r, 2));
      }
    })();
    const t0 = Date.now();
    while (accepted.size < 400 && Date.now() - t0 < 30_000) await new Promise((r) => setTimeout(r, 10));
    p.child.kill('SIGKILL');
    await exited(p.child);
    await pump;
    await Promise.all(load);
    expect(accepted.size).toBeGreaterThanOrEqual(400);
    expect([...accepted].filter((a) => a.startsWith('smtp')).length).toBeGreaterThan(20); // both paths were under load
    expect(cut).toBeGreaterThan(0); // the kill did cut requests in flight

    // What was in flight at the kill: only these may arrive twice.
    const store = await db.open();
    const inFlight = new Set<string>();
    const counts = await store.queue.countRecipientsByStatus();
    const ev = await store.events.list({ limit: 10_000_000 });
    for (const messageId of new Set(ev.map((e) => e.messageId))) {
      for (const r of await store.queue.listRecipients(messageId)) if (r.status === 'delivering') inFlight.add(r.address);
    }
    await store.close();
    const before = new Map<string, number>();
    for (const m of sink.messages) before.set(m.rcptTo[0]!, (before.get(m.rcptTo[0]!) ?? 0) + 1);

    const sunkBefore = sink.messages.length;
    p = await serve(env);
    try {
      const restarted = Date.now();
      const got = () => new Set(sink.messages.map((m) => m.rcptTo[0]!));
      // What was in flight arrives promptly (the recovery time), not after the claim timeout.
      while (Date.now() - restarted < RECOVERY_MS && [...inFlight].some((a) => !got().has(a))) await new Promise((r) => setTimeout(r, 100));
      expect(
        [...inFlight].filter((a) => !got().has(a)),
        `in flight at the kill, missing ${RECOVERY_MS} ms after the restart`,
      ).toEqual([]);
      await untilDoneOrStalled(
        () => [...accepted].every((a) => got().has(a)),
        () => sink.messages.length,
        STALL_MS,
      );
      const missing = [...accepted].filter((a) => !got().has(a));
      expect(missing, `missing after restart (queue before restart: ${JSON.stringify(counts)}; ${sink.messages.length - sunkBefore} delivered since)`).toEqual(
        [],
      );
      const perAddress = new Map<string, number>();
      for (const m of sink.messages) perAddress.set(m.rcptTo[0]!, (perAddress.get(m.rcptTo[0]!) ?? 0) + 1);
      const duplicated = [...perAddress].filter(([, c]) => c > 1).map(([a]) => a);
      expect(duplicated.filter((a) => !inFlight.has(a))).toEqual([]);
      expect(inFlight.size).toBeLessThanOrEqual(DUPLICATE_BOUND);
    } finally {
      p.child.kill('SIGTERM');
      await exited(p.child);
    }
  });
});
