import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createServer, type AddressInfo } from 'node:net';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { ensureBootstrap } from '../../src/accept/bootstrap.js';
import type { Store } from '../../src/store/store.js';
import { startMxServer, type MxServer } from '../../src/mx/mx-server.js';
import { startApp } from '../../src/app.js';
import { createTestDb } from '../helpers/stores.js';
import { RawSmtp } from '../smtp/raw-client.js';
import { loadVerpKeyring } from '../../src/bounce/verp-keys.js';
import { tracedLocalPart } from '../../src/core/verp.js';
import { withAreaOverrides } from '../helpers/store-overrides.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/reports');
const fixture = (name: string): string => readFileSync(join(FIXTURES, name), 'utf8');
const BOUNCE = 'b+01m7w2y7m07px5vpa00k793s0k@mx.postline.test';
const FIXTURE_RECIPIENT = '01M7W2Y7M07PX5VPA00K793S0K';
/** The fixture's Return-Path as this store's keys tag it (the listener verifies with the same keys). */
const taggedBounce = async (store: Store): Promise<string> =>
  `b+${tracedLocalPart(FIXTURE_RECIPIENT, (await loadVerpKeyring(store)).tag(FIXTURE_RECIPIENT))}@mx.postline.test`;

interface Harness {
  store: Store;
  server: MxServer;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}
const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** The MX listener alone on port 0 over a fresh database; `wrap` may replace store methods (failures). */
async function start(overrides: Partial<Config> = {}, wrap: (s: Store) => Store = (s) => s): Promise<Harness> {
  const db = await createTestDb();
  const store = await db.open();
  await ensureBootstrap(store, db.dataDir, Date.now());
  const config = loadConfig(
    {},
    { dataDir: db.dataDir, databaseUrl: db.databaseUrl, logLevel: 'silent', hostname: 'mx.postline.test', smtpHost: '127.0.0.1', mxPort: 0, ...overrides },
  );
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const server = await startMxServer({ config, log: createLogger('debug', sink), store: wrap(store), now: Date.now });
  const h: Harness = {
    store,
    server,
    logs,
    async close() {
      await server.close();
      await store.close();
      await db.drop();
    },
  };
  open.push(h);
  return h;
}

async function session(h: Harness): Promise<RawSmtp> {
  const c = await RawSmtp.connect(h.server.port);
  expect((await c.reply()).code).toBe(220);
  return c;
}

describe('MX listener limits and failures', () => {
  it('advertises SIZE and refuses a message declared or sent larger', async () => {
    const h = await start({ mxMaxMessageBytes: 4096 });
    const c = await session(h);
    expect((await c.cmd('EHLO relay.example')).text).toMatch(/^SIZE 4096$/m);
    expect((await c.cmd('MAIL FROM:<> SIZE=10000')).code).toBe(552);
    expect((await c.cmd('MAIL FROM:<>')).code).toBe(250);
    expect((await c.cmd(`RCPT TO:<${BOUNCE}>`)).code).toBe(250);
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write(`Subject: big\r\n\r\n${'x'.repeat(70).concat('\r\n').repeat(100)}.\r\n`);
    const reply = await c.reply();
    expect(reply.code).toBe(552);
    expect(reply.text).toMatch(/^5\.3\.4 /);
    c.end();
    expect(h.logs).toContainEqual(expect.objectContaining({ event: 'mx.rejected', stage: 'data', code: 552 }));
    expect(await h.store.events.list({})).toHaveLength(0);
  });

  it('answers 451 when the store fails, so the sender tries again', async () => {
    const h = await start({}, (s) =>
      withAreaOverrides(s, 'queue', () => ({
        getRecipient: async () => {
          throw new Error('database is down');
        },
      })),
    );
    const transport = createTransport({ host: '127.0.0.1', port: h.server.port, secure: false, ignoreTLS: true });
    // A tag that verifies: only a proven recipient is looked up in the store.
    const err = await transport.sendMail({ envelope: { from: '', to: [await taggedBounce(h.store)] }, raw: fixture('postfix-5.1.1-user-unknown.eml') }).then(
      () => null,
      (e: { responseCode?: number; response?: string }) => e,
    );
    transport.close();
    expect(err).toMatchObject({ responseCode: 451 });
    expect(err!.response).toMatch(/4\.3\.0/);
    expect(h.logs).toContainEqual(expect.objectContaining({ event: 'mx.internal_error', stage: 'record' }));
  });

  it('logs what it accepted without recording, with the reason', async () => {
    const h = await start();
    const transport = createTransport({ host: '127.0.0.1', port: h.server.port, secure: false, ignoreTLS: true });
    await transport.sendMail({ envelope: { from: 'someone@example.org', to: [BOUNCE] }, raw: fixture('ordinary-message.eml') });
    const tagged = await taggedBounce(h.store);
    await transport.sendMail({ envelope: { from: '', to: [tagged] }, raw: fixture('postfix-5.1.1-user-unknown.eml') });
    // The same report to the Return-Path without its tag: a forgery, logged as such.
    await transport.sendMail({ envelope: { from: '', to: [BOUNCE] }, raw: fixture('postfix-5.1.1-user-unknown.eml') });
    transport.close();
    const ignored = h.logs.filter((l) => l.event === 'mx.ignored');
    expect(ignored).toEqual([
      expect.objectContaining({ kind: 'other', reason: 'not-a-report', rcptTo: [BOUNCE] }),
      // The id has the right shape and its tag verifies, but it names no recipient of this (empty) store.
      expect.objectContaining({ kind: 'bounce', reason: 'unknown-recipient', recipientId: FIXTURE_RECIPIENT, rcptTo: [tagged], tracedVia: 'rcpt-to' }),
    ]);
    expect(h.logs.filter((l) => l.event === 'mx.report_forged')).toEqual([
      expect.objectContaining({ kind: 'bounce', reason: 'untagged', recipientId: FIXTURE_RECIPIENT, rcptTo: [BOUNCE], tracedVia: 'rcpt-to', level: 40 }),
    ]);
    expect(await h.store.events.list({})).toHaveLength(0);
  });

  it('takes 8-bit messages in any charset (a DSN whose notice is ISO-8859-1 sent as 8bit) and reads them', async () => {
    const h = await start();
    const dsn = Buffer.from(
      fixture('postfix-5.1.1-user-unknown.eml')
        .replace('Content-Type: text/plain; charset=utf-8', 'Content-Type: text/plain; charset=iso-8859-1')
        .replace('This is the mail system at host', 'Empf\xe4nger unbekannt. This is the mail system at host'),
      'latin1',
    );
    expect(dsn.includes(Buffer.from([0x45, 0x6d, 0x70, 0x66, 0xe4]))).toBe(true); // "Empf" and a raw 0xE4, not UTF-8
    const transport = createTransport({ host: '127.0.0.1', port: h.server.port, secure: false, ignoreTLS: true });
    const info = await transport.sendMail({ envelope: { from: '', to: [BOUNCE] }, raw: dsn });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    // Read as a bounce and traced to the envelope's id, which carries no trace tag: logged, nothing written.
    expect(h.logs).toContainEqual(expect.objectContaining({ event: 'mx.report_forged', kind: 'bounce', reason: 'untagged' }));
  });

  it("on the quick start's hostname (localhost, no dot) takes its own bounce and complaint addresses", async () => {
    const h = await start({ hostname: 'localhost' });
    const c = await session(h);
    await c.cmd('EHLO relay.example');
    expect((await c.cmd('MAIL FROM:<>')).code).toBe(250);
    // These were refused as "501 5.1.3 Bad recipient address syntax": the generic rule wants a dot.
    expect(await c.cmd('RCPT TO:<b+01m7w2y7m07px5vpa00k793s0k@localhost>')).toMatchObject({ code: 250 });
    expect(await c.cmd('RCPT TO:<FBL@LOCALHOST>')).toMatchObject({ code: 250 });
    // Any other dotless address is still refused by the syntax rule.
    expect(await c.cmd('RCPT TO:<someone@localhost>')).toMatchObject({ code: 501 });
    expect(await c.cmd('RCPT TO:<b+01m7w2y7m07px5vpa00k793s0k@otherhost>')).toMatchObject({ code: 501 });
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write(fixture('postfix-5.1.1-user-unknown.eml').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..') + '\r\n.\r\n');
    expect((await c.reply()).code).toBe(250);
    c.end();
    // The id carries no trace tag: taken, read as a bounce, logged, and nothing written.
    expect(h.logs).toContainEqual(expect.objectContaining({ event: 'mx.report_forged', kind: 'bounce', reason: 'untagged' }));
  });

  it('takes a custom complaint address and refuses the default one then', async () => {
    const h = await start({ bounceDomain: 'bounces.example', complaintAddress: 'abuse-reports@bounces.example' });
    const c = await session(h);
    await c.cmd('EHLO relay.example');
    expect((await c.cmd('MAIL FROM:<>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<Abuse-Reports@BOUNCES.example>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<fbl@bounces.example>')).code).toBe(550);
    expect((await c.cmd(`RCPT TO:<${BOUNCE}>`)).code).toBe(550); // the hostname is not the bounce domain here
    expect((await c.cmd('RCPT TO:<b+01M7W2Y7M07PX5VPA00K793S0K@Bounces.Example>')).code).toBe(250);
    c.end();
  });

  it('caps the recipients of one message', async () => {
    const h = await start();
    const c = await session(h);
    await c.cmd('EHLO relay.example');
    await c.cmd('MAIL FROM:<>');
    const ids = Array.from({ length: 11 }, (_, i) => `b+01m7w2y7m07px5vpa00k793s${String(i).padStart(2, '0')}@mx.postline.test`);
    const codes = [];
    for (const a of ids) codes.push((await c.cmd(`RCPT TO:<${a}>`)).code);
    expect(codes).toEqual([...Array<number>(10).fill(250), 452]);
    c.end();
  });

  it('the smtp role fails to start when the MX port is taken', async () => {
    const taken = createServer();
    await new Promise<void>((r) => taken.listen(0, '127.0.0.1', () => r()));
    const db = await createTestDb();
    const store = await db.open();
    try {
      const port = (taken.address() as AddressInfo).port;
      const config = loadConfig(
        {},
        {
          dataDir: db.dataDir,
          databaseUrl: db.databaseUrl,
          logLevel: 'silent',
          hostname: 'mx.postline.test',
          smtpHost: '127.0.0.1',
          submissionPort: 0,
          mxPort: port,
        },
      );
      await expect(startApp({ config, log: createLogger('silent'), store, now: Date.now }, ['smtp'])).rejects.toMatchObject({ code: 'EADDRINUSE' });
    } finally {
      taken.close();
      await store.close();
      await db.drop();
    }
  });
});
