import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { createTestDb, TEST_STORE_KIND, type TestDb } from '../helpers/stores.js';
import { cli, exited, serve, type ServeProcess } from '../helpers/process.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { WORKER_DEAD_AFTER_MS } from '../../src/workers/registry.js';
import { untilDoneOrStalled } from './progress.js';

/** Recipients injected, split between the two processes. */
const RECIPIENTS = 8_000;
/** Recipients per injected message (one message per request). */
const PER_MESSAGE = 500;
/** The kill comes once the sink has this many deliveries: both processes are sending by then. */
const KILL_AFTER_DELIVERIES = 2_000;
/** maxInFlight of a process with the default POSTLINE_DELIVERY_CONCURRENCY (100): the most it can have sent and not recorded. */
const DUPLICATE_BOUND = 400;
/** After the kill, the survivor takes the dead process's claims once its heartbeat is WORKER_DEAD_AFTER_MS old (not after the 900 s claim timeout). */
const TAKEOVER_MS = WORKER_DEAD_AFTER_MS + 10_000;
/** The rest of the queue may take long on a loaded machine; the wait fails when deliveries stop for this long. */
const STALL_MS = 30_000;

/**
 * Two `postline serve` processes on one PostgreSQL under load, one killed with SIGKILL while
 * both deliver: nothing accepted is lost, the survivor takes the dead process's claims over
 * without waiting for the claim timeout (900 s), duplicates stay within the dead process's
 * maxInFlight, and no transaction ever deadlocked (PostgreSQL's own count for the database).
 */
describe.skipIf(TEST_STORE_KIND !== 'postgres')('crash: two processes on one PostgreSQL, one killed', () => {
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

  it('loses nothing, bounds duplicates by maxInFlight, never deadlocks', async () => {
    const base = { POSTLINE_DATA_DIR: db.dataDir, POSTLINE_DATABASE_URL: db.databaseUrl ?? undefined };
    const creds = JSON.parse((await cli(['init', '--json'], base)).stdout) as { serverId: number; apiKey: string };
    const env = { ...base, POSTLINE_RELAY_HOST: `127.0.0.1:${sink.port}`, POSTLINE_SUBMISSION_PORT: '0', POSTLINE_MX_PORT: '0' };
    const [a, b] = await Promise.all([serve(env), serve(env)]);
    let survivor: ServeProcess | null = b;
    try {
      const addresses: string[] = [];
      const requests: Promise<void>[] = [];
      for (let m = 0; m < RECIPIENTS / PER_MESSAGE; m++) {
        const to = Array.from({ length: PER_MESSAGE }, (_, i) => `r${m * PER_MESSAGE + i}@two.test`);
        addresses.push(...to);
        const p = m % 2 === 0 ? a : b;
        requests.push(
          (async () => {
            const res = await fetch(`http://127.0.0.1:${p.port}/api/v1/email`, {
              method: 'POST',
              headers: { 'content-type': 'application/json', authorization: `Bearer ${creds.apiKey}` },
              body: JSON.stringify({
                ServerId: creds.serverId,
                Messages: [{ To: to.map((e) => ({ EmailAddress: e })), From: { EmailAddress: 'f@example.com' }, Subject: `m${m}`, TextBody: 'T' }],
              }),
            });
            expect(((await res.json()) as { ErrorCode: string }).ErrorCode).toBe('Success');
          })(),
        );
      }
      await Promise.all(requests);

      while (sink.messages.length < KILL_AFTER_DELIVERIES) await new Promise((r) => setTimeout(r, 10));
      a.child.kill('SIGKILL');
      await exited(a.child);
      const killedAt = Date.now();

      // What the killed process held at the kill (its worker ids carry its pid): only these may arrive twice.
      const store = await db.open();
      const held = new Set<string>();
      const heldIds: string[] = [];
      try {
        for (const messageId of new Set((await store.events.list({ limit: 10_000_000 })).map((e) => e.messageId))) {
          for (const r of await store.queue.listRecipients(messageId)) {
            if (r.status === 'delivering' && r.lockedBy?.includes(`:${a.child.pid}:`)) {
              held.add(r.address);
              heldIds.push(r.id);
            }
          }
        }
      } finally {
        await store.close();
      }
      expect(held.size).toBeGreaterThan(0); // the kill cut the process while it held claims
      expect(held.size).toBeLessThanOrEqual(DUPLICATE_BOUND);

      // The survivor takes the dead process's claims over in seconds.
      const c = new pg.Client({ connectionString: db.databaseUrl! });
      await c.connect();
      const stillHeld = async () =>
        Number(
          (
            await c.query<{ n: string }>("SELECT count(*) AS n FROM recipients WHERE id = ANY($1) AND status = 'delivering' AND locked_by LIKE $2", [
              heldIds,
              `%:${a.child.pid}:%`,
            ])
          ).rows[0]!.n,
        );
      try {
        while (Date.now() - killedAt < TAKEOVER_MS && (await stillHeld()) > 0) await new Promise((r) => setTimeout(r, 250));
        expect(await stillHeld(), `claims of the killed process not taken over ${TAKEOVER_MS} ms after the kill`).toBe(0);
      } finally {
        await c.end();
      }

      const got = () => new Set(sink.messages.map((m) => m.rcptTo[0]!));
      await untilDoneOrStalled(
        () => got().size >= addresses.length,
        () => sink.messages.length,
        STALL_MS,
      );
      const delivered = got();
      expect(
        addresses.filter((x) => !delivered.has(x)),
        'lost',
      ).toEqual([]);
      const perAddress = new Map<string, number>();
      for (const m of sink.messages) perAddress.set(m.rcptTo[0]!, (perAddress.get(m.rcptTo[0]!) ?? 0) + 1);
      const duplicated = [...perAddress].filter(([, c]) => c > 1).map(([x]) => x);
      expect(
        duplicated.filter((x) => !held.has(x)),
        'duplicated but not held by the killed process',
      ).toEqual([]);
      expect(duplicated.length).toBeLessThanOrEqual(DUPLICATE_BOUND);

      survivor = null;
      b.child.kill('SIGTERM');
      await exited(b.child);
      for (const p of [a, b]) expect(p.stdout() + p.stderr()).not.toMatch(/deadlock/i);
      // A deadlock that a retry absorbed leaves no log line; PostgreSQL counts it per database
      // (written when a connection ends: all of both processes' connections have ended now).
      const name = new URL(db.databaseUrl!).pathname.slice(1);
      const stats = new pg.Client({ connectionString: db.databaseUrl! });
      await stats.connect();
      try {
        const row = (await stats.query<{ deadlocks: string }>('SELECT deadlocks FROM pg_stat_database WHERE datname = $1', [name])).rows[0];
        expect(Number(row?.deadlocks)).toBe(0);
      } finally {
        await stats.end();
      }
    } finally {
      if (a.child.exitCode === null && a.child.signalCode === null) a.child.kill('SIGKILL');
      if (survivor) {
        survivor.child.kill('SIGKILL');
        await exited(survivor.child);
      }
    }
  });
});
