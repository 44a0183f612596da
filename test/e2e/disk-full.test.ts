import { execFileSync } from 'node:child_process';
import { mkdtempSync, openSync, rmSync, unlinkSync, writeSync, closeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { sql, type Kysely } from 'kysely';
import { createTransport } from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { startApp, type RunningApp } from '../../src/app.js';
import { ensureBootstrap, type Credentials } from '../../src/accept/bootstrap.js';
import { SqliteStore } from '../../src/store/sqlite/sqlite-store.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';

/**
 * A real full disk under the SQLite store: the data directory on a 4 MiB tmpfs that a filler file
 * then fills (as root; elsewhere SQLite's max_page_count stops the database from growing, which
 * fails writes with the same SQLITE_FULL). Requests through the Injection API and SMTP get a clear
 * retryable answer, /readyz says not ready and why, nothing is half-written; once space is freed,
 * /readyz is ready again and accepts work.
 */
/**
 * A small file system of its own (root only). 16 MB, not less: once the filler goes, the
 * checkpoint grows the database while the WAL still holds its pages, and each accept writes the
 * subject index too; with 4 MB that growth filled the disk again under load.
 */
function tryMountTmpfs(dir: string): boolean {
  if (process.getuid?.() !== 0) return false;
  try {
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=16m', 'tmpfs', dir], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe.skipIf(TEST_STORE_KIND !== 'sqlite')('a full disk under the SQLite store', () => {
  let dir: string;
  let mounted = false;
  let store: SqliteStore;
  let app: RunningApp;
  let credentials: Credentials;
  let url: string;
  const logs: { event?: string; level: number }[] = [];
  const filler = () => join(dir, 'filler');

  /** Fills the file system (or caps the database at its current size). */
  async function fill(): Promise<void> {
    if (mounted) {
      const fd = openSync(filler(), 'w');
      const chunk = Buffer.alloc(16 * 1024, 1);
      try {
        for (;;) writeSync(fd, chunk);
      } catch (err) {
        expect((err as NodeJS.ErrnoException).code).toBe('ENOSPC');
      } finally {
        closeSync(fd);
      }
    } else {
      const db = (store as unknown as { db: Kysely<unknown> }).db;
      const pages = Number((await sql<{ page_count: number }>`PRAGMA page_count`.execute(db)).rows[0]!.page_count);
      await sql.raw(`PRAGMA max_page_count = ${pages}`).execute(db);
    }
  }
  async function free(): Promise<void> {
    if (mounted) unlinkSync(filler());
    else await sql.raw('PRAGMA max_page_count = 1073741823').execute((store as unknown as { db: Kysely<unknown> }).db);
  }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'postline-full-'));
    mounted = tryMountTmpfs(dir);
    const config = loadConfig(
      {},
      {
        dataDir: dir,
        httpHost: '127.0.0.1',
        httpPort: 0,
        hostname: 'postline.test',
        mxPort: 0,
        submissionPort: 0,
        allowInsecureAuth: true,
      },
    );
    store = new SqliteStore(join(dir, 'postline.db'));
    await store.migrate();
    credentials = (await ensureBootstrap(store, dir, Date.now())).credentials;
    const log = createLogger(
      'info',
      new Writable({
        write(chunk, _enc, done) {
          logs.push(JSON.parse(String(chunk)) as { event?: string; level: number });
          done();
        },
      }),
    );
    app = await startApp({ config, log, store, now: Date.now }, ['api', 'smtp']);
    url = `http://127.0.0.1:${app.httpPort}`;
  });
  afterAll(async () => {
    await app?.stop();
    await store?.close();
    if (mounted) execFileSync('umount', ['-l', dir]);
    rmSync(dir, { recursive: true, force: true });
  });

  const body = (n: number) => ({
    ServerId: credentials.serverId,
    ApiKey: credentials.apiKey,
    Messages: [{ To: [{ EmailAddress: `r${n}@example.org` }], From: { EmailAddress: 'from@example.com' }, Subject: `m${n}`, TextBody: 'x'.repeat(100_000) }],
  });
  const inject = async (n: number) => {
    const r = await fetch(`${url}/api/v1/email`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body(n)) });
    return {
      status: r.status,
      body: (await r.json()) as { ErrorCode: string },
      detail: r.headers.get('x-postline-error'),
      retryAfter: r.headers.get('retry-after'),
    };
  };
  const readyz = async () => {
    const r = await fetch(`${url}/readyz`);
    return { status: r.status, body: (await r.json()) as Record<string, unknown> };
  };
  const smtpSend = (n: number) =>
    createTransport({
      host: '127.0.0.1',
      port: app.smtpPort!,
      ignoreTLS: true,
      auth: { user: String(credentials.serverId), pass: credentials.apiKey },
    })
      .sendMail({ from: 'from@example.com', to: `s${n}@example.org`, subject: `s${n}`, text: 'y'.repeat(50_000) })
      .then(
        (info) => ({ code: 250, response: info.response }),
        (err: { responseCode?: number; response?: string }) => ({ code: err.responseCode, response: err.response }),
      );

  /** A message for a routed inbound domain at the MX listener (storing it is a write). */
  const mxSend = (n: number) =>
    createTransport({ host: '127.0.0.1', port: app.mxPort!, ignoreTLS: true })
      .sendMail({
        envelope: { from: 'someone@example.org', to: [`in${n}@in.example`] },
        raw: `From: someone@example.org\r\nTo: in${n}@in.example\r\nSubject: in ${n}\r\n\r\n${'z'.repeat(50_000)}\r\n`,
      })
      .then(
        (info) => ({ code: 250, response: info.response }),
        (err: { responseCode?: number; response?: string }) => ({ code: err.responseCode, response: err.response }),
      );

  it('answers a clear retryable error, says so in /readyz, writes nothing half, and recovers when space is freed', async () => {
    await store.inbound.createRoute(
      {
        serverId: credentials.serverId,
        match: 'in.example',
        kind: 'domain',
        url: 'https://hook.example/in',
        secretKey: 's',
        signingSecret: 'whsec_x',
        enabled: true,
        validatedAt: null,
      },
      Date.now(),
    );
    app.inboundRoutes.invalidate();
    expect((await readyz()).status).toBe(200);
    expect((await inject(0)).body.ErrorCode).toBe('Success');
    await fill();

    // Space already in the WAL may take a few more writes; the first refusal comes soon after.
    let accepted = 1;
    let refused: Awaited<ReturnType<typeof inject>> | null = null;
    for (let n = 1; n <= 200 && refused === null; n++) {
      const r = await inject(n);
      if (r.body.ErrorCode === 'Success') accepted++;
      else refused = r;
    }
    expect(refused).toEqual({
      status: 200,
      body: { ErrorCode: 'InternalError', MessageResults: [], TransactionReceipt: expect.any(String) },
      detail: 'storage is full: the request was not accepted; retry later',
      retryAfter: '30',
    });
    // Every request answered Success is stored whole; the refused ones left nothing.
    expect(await store.queue.countMessages()).toBe(accepted);
    const events = await store.events.list({ limit: 1_000_000 });
    expect(events.map((e) => e.type)).toEqual(new Array(accepted).fill('Queued'));

    expect(await readyz()).toEqual({ status: 503, body: { status: 'unavailable', reason: 'disk_full', error: 'database or disk is full' } });
    expect(await smtpSend(1)).toEqual({ code: 452, response: '452 4.3.1 Insufficient system storage; try again later' });
    expect(await mxSend(1)).toEqual({ code: 452, response: '452 4.3.1 Insufficient system storage; try again later' });
    expect(await store.queue.countMessages()).toBe(accepted);
    expect(logs.some((l) => l.event === 'mx.internal_error' || l.event === 'mx.inbound_stored')).toBe(false);
    // Logged once, however many requests failed.
    expect(logs.filter((l) => l.event === 'store.disk_full')).toHaveLength(1);
    expect(logs.some((l) => l.event === 'injection.internal_error' || l.event === 'smtp.internal_error')).toBe(false);

    await free();
    expect(await readyz()).toEqual({ status: 200, body: { status: 'ready', store: 'sqlite' } });
    expect(logs.filter((l) => l.event === 'store.disk_space_recovered')).toHaveLength(1);
    expect((await inject(1000)).body.ErrorCode).toBe('Success');
    expect((await smtpSend(2)).code).toBe(250);
    expect((await mxSend(2)).code).toBe(250);
    expect(logs.filter((l) => l.event === 'mx.inbound_stored')).toHaveLength(1);
    expect(await store.queue.countMessages()).toBe(accepted + 2);
    const check = await sql<{ integrity_check: string }>`PRAGMA integrity_check`.execute((store as unknown as { db: Kysely<unknown> }).db);
    expect(check.rows).toEqual([{ integrity_check: 'ok' }]);
  });
});
