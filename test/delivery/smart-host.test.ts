import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/load.js';
import { smartHostOf } from '../../src/delivery/smart-host.js';
import { type RelaySecurity, SmtpClient, SmtpSessionError } from '../../src/delivery/smtp-client.js';
import { createKey, v2 } from '../helpers/api-v2.js';
import { inject, startTestApp } from '../helpers/app.js';
import { createLocalCa, type LocalCa } from '../helpers/local-ca.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';

/** A smart host on loopback: TLS with a certificate of the test's own CA, AUTH required, what it saw recorded. */
interface Relay {
  port: number;
  messages: { user: string | undefined; secure: boolean; rcpt: string[]; data: string }[];
  authAttempts: { method: string; username: string | undefined }[];
  close(): Promise<void>;
}

async function startRelay(tls: { key: string; cert: string }, opts: Partial<SMTPServerOptions> = {}): Promise<Relay> {
  const relay: Relay = { port: 0, messages: [], authAttempts: [], close: async () => undefined };
  const server = new SMTPServer({
    ...tls,
    logger: false,
    disableReverseLookup: true,
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(auth, _session, cb) {
      relay.authAttempts.push({ method: auth.method, username: auth.username });
      if (auth.username === 'postline' && auth.password === 'relay secret') return cb(null, { user: auth.username });
      cb(new Error('Invalid username or password'));
    },
    onData(stream, session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        relay.messages.push({
          user: session.user as string | undefined,
          secure: session.secure,
          rcpt: session.envelope.rcptTo.map((r) => r.address),
          data: Buffer.concat(chunks).toString('utf8'),
        });
        cb();
      });
    },
    ...opts,
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  relay.port = (server.server.address() as AddressInfo).port;
  relay.close = () => new Promise<void>((resolve) => server.close(() => resolve()));
  return relay;
}

const auth = { username: 'postline', password: 'relay secret' };
const open = (port: number, relay: RelaySecurity) =>
  SmtpClient.open({
    host: '127.0.0.1',
    port,
    heloName: 'postline.test',
    opportunisticTls: true,
    connectionTimeoutMs: 5_000,
    greetingTimeoutMs: 5_000,
    replyTimeoutMs: 5_000,
    relay,
  });
/** The session error of an open that must fail: it carries no reply (the mail is deferred, never failed). */
async function refusal(p: Promise<SmtpClient>): Promise<SmtpSessionError> {
  const err = await p.then(
    (c) => {
      c.destroy();
      return null;
    },
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(SmtpSessionError);
  expect((err as SmtpSessionError).reply).toBeNull();
  return err as SmtpSessionError;
}

describe(`smart host with credentials (${TEST_STORE_KIND})`, () => {
  let ca: LocalCa;
  let leaf: { key: string; cert: string };
  beforeAll(() => {
    ca = createLocalCa();
    leaf = ca.issue(['127.0.0.1', 'localhost']);
  });

  it('delivers through the smart host over verified STARTTLS with AUTH, everything in the configuration', async () => {
    const relay = await startRelay(leaf);
    const t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { relayHost: `127.0.0.1:${relay.port}`, relayUsername: 'postline', relayPassword: 'relay secret', relayCaFile: ca.caFile },
      delivery: { retrySchedule: [100], pollMs: 50 },
    });
    try {
      const r = await inject(t, {
        ServerId: t.credentials.serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [{ From: { EmailAddress: 'shop@example.com' }, To: [{ EmailAddress: 'ann@example.net' }], Subject: 'Via the relay', TextBody: 'hello' }],
      });
      expect(r.body.ErrorCode, r.text).toBe('Success');
      const rows = await waitForRecipients(t.store, await newestMessageId(t.store), (x) => x.every((y) => y.status === 'delivered'));
      expect(rows.map((x) => x.status)).toEqual(['delivered']);
      expect(relay.messages).toHaveLength(1);
      expect(relay.messages[0]).toMatchObject({ user: 'postline', secure: true, rcpt: ['ann@example.net'] });
      expect(relay.messages[0]!.data).toContain('Subject: Via the relay');
      expect(relay.authAttempts).toEqual([{ method: 'PLAIN', username: 'postline' }]);
      // The Delivered event says how the message was protected, and message detail shows it.
      const delivered = (await t.store.events.list({ limit: 100 })).find((e) => e.type === 'Delivered')!;
      expect(delivered.data).toMatchObject({
        Tls: true,
        TlsVersion: 'TLSv1.3',
        TlsVerified: true,
        TlsPolicy: 'required',
        TlsCipher: expect.stringMatching(/^TLS_/),
      });
      const key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
      const detail = await v2<{ data: { events: { type: string; tls: unknown }[] }[] }>(
        t,
        'GET',
        `/servers/${t.credentials.serverId}/reports/messages/detail`,
        {
          key,
          query: { messageId: delivered.messageId },
        },
      );
      const events = detail.body.data[0]!.events;
      expect(events.find((e) => e.type === 'Delivered')!.tls).toEqual({
        version: 'TLSv1.3',
        cipher: (delivered.data as { TlsCipher: string }).TlsCipher,
        verified: true,
        policy: 'required',
      });
      expect(events.find((e) => e.type === 'Queued')!.tls).toBeNull();
    } finally {
      await t.close();
      await relay.close();
    }
  });

  it('defers the mail, with the reason, when the smart host refuses the credentials', async () => {
    const relay = await startRelay(leaf);
    const t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { relayHost: `127.0.0.1:${relay.port}`, relayUsername: 'postline', relayPassword: 'wrong', relayCaFile: ca.caFile },
      delivery: { retrySchedule: [60_000], pollMs: 50 },
    });
    try {
      await inject(t, {
        ServerId: t.credentials.serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [{ From: { EmailAddress: 'shop@example.com' }, To: [{ EmailAddress: 'ann@example.net' }], Subject: 'x', TextBody: 'x' }],
      });
      const rows = await waitForRecipients(t.store, await newestMessageId(t.store), (x) => x.every((y) => y.status === 'deferred'));
      expect(rows[0]!.lastReply).toContain('refused the credentials');
      expect(rows[0]!.lastReply).not.toContain('wrong');
      expect(relay.messages).toEqual([]);
    } finally {
      await t.close();
      await relay.close();
    }
  });

  it('speaks AUTH LOGIN where PLAIN is not offered, and implicit TLS (port 465 style)', async () => {
    const loginOnly = await startRelay(leaf, { authMethods: ['LOGIN'] });
    const implicit = await startRelay(leaf, { secure: true });
    try {
      const a = await open(loginOnly.port, { tls: 'starttls', ca: ca.caPem, auth });
      expect(a.secure).toBe(true);
      expect((await a.send('shop@example.com', 'ann@example.net', Buffer.from('Subject: a\r\n\r\nbody\r\n'))).kind).toBe('accepted');
      a.quit();
      expect(loginOnly.authAttempts).toEqual([{ method: 'LOGIN', username: 'postline' }]);
      const b = await open(implicit.port, { tls: 'implicit', ca: ca.caPem, auth });
      expect(b.secure).toBe(true);
      expect((await b.send('shop@example.com', 'bo@example.net', Buffer.from('Subject: b\r\n\r\nbody\r\n'))).kind).toBe('accepted');
      b.quit();
      expect(implicit.messages.map((m) => [m.user, m.secure])).toEqual([['postline', true]]);
    } finally {
      await loginOnly.close();
      await implicit.close();
    }
  });

  it('never sends the credentials without TLS, or to a host whose certificate it cannot verify', async () => {
    const noTls = await startRelay(leaf, { hideSTARTTLS: true, allowInsecureAuth: true });
    const strangerCa = createLocalCa('Someone else');
    const impostor = await startRelay(strangerCa.issue(['127.0.0.1']));
    const wrongName = await startRelay(ca.issue(['relay.example.com']));
    try {
      expect((await refusal(open(noTls.port, { tls: 'starttls', ca: ca.caPem, auth }))).message).toMatch(/does not offer STARTTLS/);
      expect((await refusal(open(impostor.port, { tls: 'starttls', ca: ca.caPem, auth }))).message).toMatch(/TLS handshake failed/);
      // Trusting Node's roots only, the test CA's certificate is refused as well.
      expect((await refusal(open(impostor.port, { tls: 'starttls', ca: null, auth }))).message).toMatch(/TLS handshake failed/);
      expect((await refusal(open(wrongName.port, { tls: 'starttls', ca: ca.caPem, auth }))).message).toMatch(/TLS handshake failed.*127\.0\.0\.1/);
      expect([noTls.authAttempts, impostor.authAttempts, wrongName.authAttempts]).toEqual([[], [], []]);
    } finally {
      await noTls.close();
      await impostor.close();
      await wrongName.close();
    }
  });

  it('refuses a relay configuration that cannot work, without printing the password', () => {
    const bad = (env: Record<string, string>) => {
      try {
        loadConfig(env, { dataDir: '/tmp/x' });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return (err as Error).message;
      }
      throw new Error(`accepted ${JSON.stringify(env)}`);
    };
    const host = { POSTLINE_RELAY_HOST: 'relay.example.com:587' };
    expect(bad({ ...host, POSTLINE_RELAY_PASSWORD: 'hunter2 secret' })).toMatch(/POSTLINE_RELAY_USERNAME.*go together/);
    expect(bad({ ...host, POSTLINE_RELAY_USERNAME: 'u' })).toMatch(/POSTLINE_RELAY_PASSWORD.*go together/);
    const orphan = bad({ POSTLINE_RELAY_USERNAME: 'u', POSTLINE_RELAY_PASSWORD: 'hunter2 secret' });
    expect(orphan).toMatch(/POSTLINE_RELAY_USERNAME.*only with POSTLINE_RELAY_HOST/);
    expect(bad({ POSTLINE_RELAY_TLS: 'implicit' })).toMatch(/POSTLINE_RELAY_TLS/);
    expect(bad({ ...host, POSTLINE_RELAY_TLS: 'sometimes' })).toMatch(/POSTLINE_RELAY_TLS/);
    for (const m of [orphan, bad({ ...host, POSTLINE_RELAY_PASSWORD: 'hunter2 secret' })]) expect(m).not.toContain('hunter2');
    expect(
      loadConfig({ ...host, POSTLINE_RELAY_USERNAME: 'u', POSTLINE_RELAY_PASSWORD: 'p', POSTLINE_RELAY_TLS: 'implicit' }, { dataDir: '/tmp/x' }),
    ).toMatchObject({
      relayUsername: 'u',
      relayTls: 'implicit',
    });
    // Credentials make TLS required; without them a smart host keeps opportunistic STARTTLS; an unreadable CA file stops the start.
    const base = { relayHost: 'relay.example.com:587', relayUsername: null, relayPassword: null, relayTls: 'auto', relayCaFile: null } as const;
    expect(smartHostOf(base)).toEqual({ host: 'relay.example.com', port: 587 });
    expect(smartHostOf({ ...base, relayUsername: 'u', relayPassword: 'p' })).toEqual({
      host: 'relay.example.com',
      port: 587,
      relay: { tls: 'starttls', ca: null, auth: { username: 'u', password: 'p' } },
    });
    expect(smartHostOf({ ...base, relayTls: 'implicit', relayCaFile: ca.caFile })!.relay).toEqual({ tls: 'implicit', ca: ca.caPem, auth: null });
    expect(() => smartHostOf({ ...base, relayTls: 'starttls', relayCaFile: '/nonexistent/ca.pem' })).toThrow(/POSTLINE_RELAY_CA_FILE: cannot read/);
  });
});
