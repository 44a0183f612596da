import { afterEach, describe, expect, it, vi } from 'vitest';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { ensureBootstrap } from '../../src/accept/bootstrap.js';
import type { AcceptOutcome, AcceptUnit } from '../../src/store/store.js';
import { startSubmissionServer } from '../../src/smtp/submission-server.js';
import { startMxServer } from '../../src/mx/mx-server.js';
import { PATCHED_SMTP_SERVER_VERSION, SMTPServerWithoutGreetingPause } from '../../src/patches/smtp-server.js';
import { createTestDb } from '../helpers/stores.js';
import { RawSmtp } from './raw-client.js';

// The pause of smtp-server is a timer its connection schedules before the greeting. These tests
// record every timer that smtp-server's own code schedules between connect and greeting: none may
// be scheduled by Postline's listeners, whatever the greeting takes.

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  vi.restoreAllMocks();
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Connects, reads the greeting, and returns it with the delays of the timers smtp-server scheduled meanwhile. */
async function greetingAndLibraryTimers(port: number): Promise<{ greeting: { code: number; text: string }; timers: number[] }> {
  const timers: number[] = [];
  const realSetTimeout = globalThis.setTimeout as (fn: unknown, ms?: number, ...args: unknown[]) => NodeJS.Timeout;
  const spy = vi.spyOn(globalThis, 'setTimeout').mockImplementation(((fn: unknown, ms?: number, ...args: unknown[]) => {
    if ((new Error().stack ?? '').includes('/smtp-server/dist/')) timers.push(ms ?? 0);
    return realSetTimeout(fn, ms, ...args);
  }) as typeof setTimeout);
  try {
    const c = await RawSmtp.connect(port);
    const greeting = await c.reply();
    c.end();
    return { greeting, timers };
  } finally {
    spy.mockRestore();
  }
}

async function listen(server: SMTPServer): Promise<number> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return (server.server.address() as AddressInfo).port;
}

async function configFor(overrides: Partial<Config>) {
  const db = await createTestDb();
  const store = await db.open();
  await ensureBootstrap(store, db.dataDir, Date.now());
  cleanups.push(async () => {
    await store.close();
    await db.drop();
  });
  const config = loadConfig(
    {},
    {
      dataDir: db.dataDir,
      databaseUrl: db.databaseUrl,
      logLevel: 'silent',
      hostname: 'smtp.postline.test',
      smtpHost: '127.0.0.1',
      submissionPort: 0,
      mxPort: 0,
      ...overrides,
    },
  );
  return { store, config };
}

async function submission(overrides: Partial<Config> = {}) {
  const { store, config } = await configFor(overrides);
  const committer = new GroupCommitter<AcceptUnit, AcceptOutcome>((units) => store.queue.commitAccepts(units), { maxBatchItems: 256, maxInFlight: 1 });
  const server = await startSubmissionServer({ config, log: createLogger('silent'), store, committer, now: Date.now });
  cleanups.push(async () => {
    await server.close();
    await committer.close();
  });
  return server;
}

async function mx(overrides: Partial<Config> = {}) {
  const { store, config } = await configFor(overrides);
  const server = await startMxServer({ config, log: createLogger('silent'), store, now: Date.now });
  cleanups.push(() => server.close());
  return server;
}

describe('greeting without a fixed pause', () => {
  it('stock smtp-server schedules its 100 ms pause before the greeting (what the override removes)', async () => {
    // If this fails after an upgrade, the library no longer pauses: src/patches/smtp-server.ts can go.
    const port = await listen(new SMTPServer({ disableReverseLookup: true, logger: false, hideSTARTTLS: true }));
    const { greeting, timers } = await greetingAndLibraryTimers(port);
    expect(greeting.code).toBe(220);
    expect(timers).toEqual([100]);
  });

  it('the override is written against the installed smtp-server release', () => {
    const pkg = createRequire(import.meta.url).resolve('smtp-server/package.json');
    const installed = (JSON.parse(readFileSync(pkg, 'utf8')) as { version: string }).version;
    expect(
      installed,
      'smtp-server changed: re-read SMTPServer.connect and SMTPConnection.init of the new release against ' +
        'src/patches/smtp-server.ts, then update PATCHED_SMTP_SERVER_VERSION',
    ).toBe(PATCHED_SMTP_SERVER_VERSION);
  });

  it('the patched server greets with no timer scheduled by smtp-server', async () => {
    const port = await listen(new SMTPServerWithoutGreetingPause({ disableReverseLookup: true, logger: false, hideSTARTTLS: true, banner: 'now' }));
    const { greeting, timers } = await greetingAndLibraryTimers(port);
    expect(greeting).toMatchObject({ code: 220, text: expect.stringMatching(/ ESMTP now$/) as unknown as string });
    expect(timers).toEqual([]);
  });

  it('the submission listener greets with no pause by default (and no reverse DNS lookup, whose guard is a timer)', async () => {
    const server = await submission();
    const { greeting, timers } = await greetingAndLibraryTimers(server.port);
    expect(greeting).toEqual({ code: 220, text: 'smtp.postline.test ESMTP Postline' });
    expect(timers).toEqual([]);
  });

  it('the MX listener greets with no pause by default', async () => {
    const server = await mx();
    const { greeting, timers } = await greetingAndLibraryTimers(server.port);
    expect(greeting).toEqual({ code: 220, text: 'smtp.postline.test ESMTP Postline' });
    expect(timers).toEqual([]);
  });

  it('with POSTLINE_SMTP_REVERSE_DNS on, the lookup (and its timeout guard) runs again', async () => {
    const server = await submission({ smtpReverseDns: true });
    const { greeting, timers } = await greetingAndLibraryTimers(server.port);
    expect(greeting.code).toBe(220);
    expect(timers).toEqual([1500]);
  });

  for (const [name, start] of [
    ['submission', submission],
    ['MX', mx],
  ] as const) {
    it(`a configured greeting delay still refuses a ${name} client that talks first`, async () => {
      // The greeting waits a minute; the client's command arrives long before it.
      const server = await start({ smtpGreetingDelayMs: 60_000 });
      const c = await RawSmtp.connect(server.port);
      c.write('EHLO early.example\r\n');
      expect(await c.reply()).toEqual({ code: 421, text: 'smtp.postline.test You talk too soon' });
      c.end();
    });
  }
});
