import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { GroupCommitter } from '../../src/store/group-commit.js';
import { ensureBootstrap, type Credentials } from '../../src/accept/bootstrap.js';
import { generateApiKey } from '../../src/core/api-key.js';
import type { AcceptOutcome, AcceptUnit, Store } from '../../src/store/store.js';
import { startSubmissionServer, type SubmissionServer } from '../../src/smtp/submission-server.js';
import { createTestDb } from '../helpers/stores.js';
import { RawSmtp } from './raw-client.js';

interface Harness {
  store: Store;
  server: SubmissionServer;
  credentials: Credentials;
  config: Config;
  logs: Record<string, unknown>[];
  close(): Promise<void>;
}

const open: Harness[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((h) => h.close()));
});

/** A fresh database, bootstrap credentials and the listener on port 0, as src/app.ts would build it. */
type Commit = (units: AcceptUnit[]) => Promise<AcceptOutcome[]>;
async function start(overrides: (c: Credentials) => Partial<Config> = () => ({}), wrapCommit: (c: Commit) => Commit = (c) => c): Promise<Harness> {
  const db = await createTestDb();
  const store = await db.open();
  const { credentials } = await ensureBootstrap(store, db.dataDir, Date.now());
  const config = loadConfig(
    {},
    {
      dataDir: db.dataDir,
      databaseUrl: db.databaseUrl,
      logLevel: 'silent',
      hostname: 'smtp.postline.test',
      smtpHost: '127.0.0.1',
      submissionPort: 0,
      ...overrides(credentials),
    },
  );
  const committer = new GroupCommitter<AcceptUnit, AcceptOutcome>(
    wrapCommit((units) => store.queue.commitAccepts(units)),
    { maxBatchItems: 256, maxInFlight: store.kind === 'sqlite' ? 1 : 4 },
  );
  const logs: Record<string, unknown>[] = [];
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logs.push(JSON.parse(String(chunk)) as Record<string, unknown>);
      cb();
    },
  });
  const server = await startSubmissionServer({ config, log: createLogger('debug', sink), store, committer, now: Date.now });
  const h: Harness = {
    store,
    server,
    credentials,
    config,
    logs,
    async close() {
      await server.close();
      await committer.close();
      await store.close();
      await db.drop();
    },
  };
  open.push(h);
  return h;
}

function transport(h: Harness, opts: { auth?: { user: string; pass: string } | null; ignoreTLS?: boolean; secure?: boolean; port?: number } = {}) {
  const auth = opts.auth === null ? undefined : (opts.auth ?? { user: String(h.credentials.serverId), pass: h.credentials.apiKey });
  return createTransport({
    host: '127.0.0.1',
    port: opts.port ?? h.server.port,
    secure: opts.secure ?? false,
    requireTLS: !opts.ignoreTLS && !opts.secure,
    ignoreTLS: opts.ignoreTLS ?? false,
    tls: { rejectUnauthorized: false },
    auth,
  });
}

const queuedAs = (response: string): string => /queued as (\w+)/.exec(response)![1]!;

/** The error nodemailer rejects with, for its SMTP reply fields. */
async function failure(p: Promise<unknown>): Promise<{ responseCode?: number; response?: string; command?: string }> {
  try {
    await p;
  } catch (err) {
    return err as { responseCode?: number; response?: string; command?: string };
  }
  throw new Error('expected the send to fail');
}

describe('SMTP submission listener', () => {
  it('accepts an authenticated multipart message over STARTTLS into the store', async () => {
    const h = await start();
    const info = await transport(h).sendMail({
      from: 'Sender Name <sender@example.com>',
      to: 'To One <one@example.net>',
      cc: 'two@example.net',
      bcc: 'hidden@example.org',
      subject: 'Quarterly report ✓',
      text: 'See attached.',
      html: '<p>See attached.</p>',
      attachments: [{ filename: 'report.csv', content: 'a,b\n1,2\n' }],
      headers: { 'X-xsMailingId': 'mailing-7', 'X-xsMessageId': 'msg-42' },
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const id = queuedAs(info.response);

    const msg = await h.store.queue.getMessage(id);
    expect(msg).toMatchObject({
      source: 'smtp',
      serverId: h.credentials.serverId,
      fromAddress: 'sender@example.com',
      subject: 'Quarterly report ✓',
      recipientCount: 3,
      isMerge: false,
    });
    const rcpts = await h.store.queue.listRecipients(id);
    expect(rcpts.map((r) => [r.address, r.kind, r.mailingId, r.messageId_, r.status]).sort()).toEqual([
      ['hidden@example.org', 'bcc', 'mailing-7', 'msg-42', 'queued'],
      ['one@example.net', 'to', 'mailing-7', 'msg-42', 'queued'],
      ['two@example.net', 'cc', 'mailing-7', 'msg-42', 'queued'],
    ]);
    const events = await h.store.events.list({ messageId: id });
    expect(events.map((e) => e.type)).toEqual(['Queued', 'Queued', 'Queued']);
    expect(new Set(events.map((e) => e.recipientId))).toEqual(new Set(rcpts.map((r) => r.id)));

    const tpl = (await h.store.queue.getMessageTemplate(id))!;
    expect(tpl).toMatchObject({
      from: { email: 'sender@example.com', name: 'Sender Name' },
      to: [{ email: 'one@example.net', name: 'To One' }],
      cc: [{ email: 'two@example.net', name: null }],
      subject: 'Quarterly report ✓',
      messageId: 'msg-42',
      mailingId: 'mailing-7',
      textBody: null,
      htmlBody: null,
      attachments: [],
      headers: [],
      replyTo: null,
    });
    const raw = tpl.rawMime!.toString('latin1');
    expect(raw).not.toMatch(/x-xsmessageid|x-xsmailingid/i);
    expect(raw).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
    expect(raw).toContain(Buffer.from('a,b\n1,2\n').toString('base64'));
    expect(raw).toMatch(/^Content-Type: multipart\/mixed/im);
    expect(raw).toContain(`Message-ID: ${info.messageId}`); // nodemailer's own, not replaced
    expect(msg!.sizeBytes).toBe(Buffer.byteLength(raw));

    // The session was upgraded with STARTTLS and authenticated (server-side record).
    expect(h.logs.find((l) => l.event === 'smtp.accepted')).toMatchObject({ messageId: id, tls: true, via: 'auth', recipients: 3 });
  });

  it('answers 250 only once the commit has finished, and 451 when it fails', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let called!: () => void;
    const commitStarted = new Promise<void>((r) => {
      called = r;
    });
    let failNext = false;
    const h = await start(
      () => ({ allowInsecureAuth: true }),
      (commit) => async (units) => {
        called();
        await gate;
        if (failNext) throw new Error('disk full');
        return commit(units);
      },
    );
    const c = await RawSmtp.login(h.server.port, h.credentials.serverId, h.credentials.apiKey);
    const sendOne = async () => {
      await c.cmd('MAIL FROM:<sender@example.com>');
      await c.cmd('RCPT TO:<one@example.net>');
      await c.cmd('DATA');
      c.write('From: sender@example.com\r\nSubject: s\r\n\r\nbody\r\n.\r\n');
      return c.reply();
    };
    let answered = false;
    const first = sendOne().then((r) => {
      answered = true;
      return r;
    });
    await commitStarted;
    expect(answered).toBe(false); // the commit is held: no reply may have been written
    release();
    expect((await first).code).toBe(250);
    expect(await h.store.queue.countMessages()).toBe(1);

    failNext = true;
    expect(await sendOne()).toEqual({ code: 451, text: '4.3.0 Message not accepted (temporary failure); try again later' });
    expect(await h.store.queue.countMessages()).toBe(1);
    c.end();
  });

  it('accepts on the implicit-TLS port when one is configured', async () => {
    const h = await start(() => ({ submissionTlsPort: 0 }));
    expect(h.server.tlsPort).toBeGreaterThan(0);
    const info = await transport(h, { secure: true, port: h.server.tlsPort! }).sendMail({
      from: 'sender@example.com',
      to: 'one@example.net',
      subject: 'implicit',
      text: 'x',
    });
    expect(info.response).toMatch(/^250 /);
    expect(h.logs.find((l) => l.event === 'smtp.accepted')).toMatchObject({ tls: true });
  });

  it('refuses AUTH on a connection without TLS when insecure AUTH is not allowed', async () => {
    const h = await start();
    const err = await failure(transport(h, { ignoreTLS: true }).sendMail({ from: 'sender@example.com', to: 'one@example.net', subject: 's', text: 'x' }));
    expect(err.responseCode).toBe(538);
    expect(err.response).toMatch(/STARTTLS/);
    expect(await h.store.queue.countMessages()).toBe(0);
  });

  it('answers 535 to a wrong key, a key of another server and a malformed username, and stores nothing', async () => {
    const h = await start();
    const send = (user: string, pass: string) =>
      failure(transport(h, { auth: { user, pass } }).sendMail({ from: 'sender@example.com', to: 'one@example.net', subject: 's', text: 'x' }));
    const { serverId, apiKey } = h.credentials;
    const wrong = await send(String(serverId), `${apiKey.slice(0, -1)}${apiKey.endsWith('A') ? 'B' : 'A'}`);
    expect(wrong.responseCode).toBe(535);
    expect(wrong.response).toBe('535 5.7.8 Authentication credentials invalid');

    const [account] = await h.store.tenancy.listAccounts();
    const other = await h.store.tenancy.createServer({ accountId: account!.id, name: 'Other' }, Date.now());
    const key = generateApiKey();
    await h.store.tenancy.createApiKey({ serverId: other.id, scope: 'injection', name: 'k', publicId: key.publicId, secretHash: key.secretHash }, Date.now());
    expect((await send(String(serverId), key.key)).responseCode).toBe(535);
    expect((await send(` ${serverId}`, apiKey)).responseCode).toBe(535);

    expect(await h.store.queue.countMessages()).toBe(0);
    expect(h.logs.filter((l) => l.event === 'smtp.auth_failed')).toHaveLength(3);
  });

  it('is not an open relay: RCPT without AUTH from an untrusted address is refused with 530', async () => {
    const h = await start();
    const err = await failure(transport(h, { auth: null }).sendMail({ from: 'sender@example.com', to: 'one@example.net', subject: 's', text: 'x' }));
    expect(err.responseCode).toBe(530);
    expect(err.response).toBe('530 5.7.0 Authentication required');
    expect(err.command).toMatch(/RCPT/);
    expect(await h.store.queue.countMessages()).toBe(0);
  });

  it('lets a trusted network send without AUTH, as the server it is mapped to', async () => {
    const h = await start((c) => ({ trustedNetworks: [`127.0.0.0/8=${c.serverId}`, `::1/128=${c.serverId}`] }));
    const info = await transport(h, { auth: null }).sendMail({ from: 'app@example.com', to: 'one@example.net', subject: 'trusted', text: 'x' });
    const msg = await h.store.queue.getMessage(queuedAs(info.response));
    expect(msg).toMatchObject({ serverId: h.credentials.serverId, source: 'smtp' });
    expect(h.logs.find((l) => l.event === 'smtp.accepted')).toMatchObject({ via: 'trusted' });
  });

  it('refuses MAIL FROM with 451 when a trusted network names a server that does not exist', async () => {
    const h = await start(() => ({ trustedNetworks: ['127.0.0.0/8=99999'] }));
    const err = await failure(transport(h, { auth: null }).sendMail({ from: 'app@example.com', to: 'one@example.net', subject: 's', text: 'x' }));
    expect(err.response).toBe('451 4.3.5 Server configuration problem; try again later');
    expect(h.logs.find((l) => l.event === 'smtp.internal_error')).toMatchObject({ stage: 'mail', serverId: 99999 });
  });

  it('greets after the configured greeting delay', async () => {
    const h = await start(() => ({ smtpGreetingDelayMs: 250 }));
    const c = await RawSmtp.connect(h.server.port);
    expect(await c.reply()).toEqual({ code: 220, text: 'smtp.postline.test ESMTP Postline' });
    c.end();
  });

  it('enforces the SIZE limit on the data actually sent (552) and stores nothing', async () => {
    const h = await start(() => ({ smtpMaxMessageBytes: 2048 }));
    const err = await failure(transport(h).sendMail({ from: 'sender@example.com', to: 'one@example.net', subject: 'big', text: 'x'.repeat(5000) }));
    expect(err.responseCode).toBe(552);
    expect(err.response).toMatch(/^552 5\.3\.4 /);
    expect(await h.store.queue.countMessages()).toBe(0);

    // A declared SIZE over the limit is refused at MAIL FROM, before any data (smtp-server's check).
    const c = await RawSmtp.connect(h.server.port);
    await c.reply();
    const ehlo = await c.cmd('EHLO client.example');
    expect(ehlo.text).toContain('SIZE 2048');
    expect((await c.cmd('MAIL FROM:<sender@example.com> SIZE=4096')).code).toBe(552);
    c.end();
  });

  it('normalises bare LF and bare CR line ends to CRLF and completes Date and Message-ID', async () => {
    const h = await start(() => ({ allowInsecureAuth: true }));
    const c = await RawSmtp.login(h.server.port, h.credentials.serverId, h.credentials.apiKey);
    expect((await c.cmd('MAIL FROM:<sender@example.com>')).code).toBe(250);
    expect((await c.cmd('RCPT TO:<one@example.net>')).code).toBe(250);
    expect((await c.cmd('DATA')).code).toBe(354);
    c.write('From: sender@example.com\nTo: one@example.net\nSubject: bare\nX-xsMailingId: m1\n\nline one\nline two\rline three\r\n.\r\n');
    const done = await c.reply();
    expect(done.code).toBe(250);
    c.end();
    const tpl = (await h.store.queue.getMessageTemplate(queuedAs(done.text)))!;
    const raw = tpl.rawMime!.toString('latin1');
    expect(raw).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
    expect(raw.startsWith('From: sender@example.com\r\nTo: one@example.net\r\nSubject: bare\r\nDate: ')).toBe(true);
    expect(raw).toMatch(/\r\nMessage-ID: <\w+@smtp\.postline\.test>\r\n\r\nline one\r\nline two\r\nline three\r\n$/);
    expect(tpl.mailingId).toBe('m1');
  });

  it('refuses a syntactically invalid recipient with 501 5.1.3 and keeps the valid ones', async () => {
    const h = await start(() => ({ allowInsecureAuth: true }));
    const c = await RawSmtp.login(h.server.port, h.credentials.serverId, h.credentials.apiKey);
    await c.cmd('MAIL FROM:<sender@example.com>');
    expect(await c.cmd('RCPT TO:<nobody@localhost>')).toEqual({ code: 501, text: '5.1.3 Bad recipient address syntax' });
    expect((await c.cmd('RCPT TO:<one@example.net>')).code).toBe(250);
    await c.cmd('RSET');
    expect(await c.cmd('MAIL FROM:<sender@localhost>')).toEqual({ code: 501, text: '5.1.7 Bad sender address syntax' });
    c.end();
    expect(await h.store.queue.countMessages()).toBe(0);
  });

  it('close() lets a commit in flight finish and answers it 250 before closing the session', async () => {
    let release!: () => void;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    let called!: () => void;
    const commitStarted = new Promise<void>((r) => {
      called = r;
    });
    const h = await start(
      () => ({ allowInsecureAuth: true }),
      (commit) => async (units) => {
        called();
        await gate;
        return commit(units);
      },
    );
    const c = await RawSmtp.login(h.server.port, h.credentials.serverId, h.credentials.apiKey);
    await c.cmd('MAIL FROM:<sender@example.com>');
    await c.cmd('RCPT TO:<one@example.net>');
    await c.cmd('DATA');
    c.write('From: sender@example.com\r\nSubject: s\r\n\r\nbody\r\n.\r\n');
    await commitStarted;
    let closed = false;
    const closing = h.server.close().then(() => {
      closed = true;
    });
    await new Promise((r) => setImmediate(r));
    expect(closed).toBe(false);
    release();
    expect((await c.reply()).code).toBe(250);
    expect((await c.reply()).code).toBe(421);
    await closing;
    expect(await h.store.queue.countMessages()).toBe(1);
  });

  it('close() answers idle sessions 421 and stops listening', async () => {
    const h = await start();
    const c = await RawSmtp.connect(h.server.port);
    await c.reply();
    await c.cmd('EHLO client.example');
    const closing = h.server.close();
    expect((await c.reply()).code).toBe(421);
    await closing;
    await expect(RawSmtp.connect(h.server.port)).rejects.toThrow(/ECONNREFUSED/);
  });
});
