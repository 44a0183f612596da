import type { AddressInfo } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import { afterEach, describe, expect, it } from 'vitest';
import { SMTPServerWithoutGreetingPause, smtpServerClass } from '../../src/patches/smtp-server.js';
import { RawSmtp, type Reply } from '../smtp/raw-client.js';

/**
 * Differential test of src/patches/smtp-server.ts: the same sessions (a message accepted, commands
 * out of order, a refused recipient, too many clients) get the same replies and deliver the same
 * bytes from smtp-server as published and from the patched server; only the pause differs
 * (test/smtp/greeting-pause.test.ts).
 */
const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  delete process.env.POSTLINE_LIBRARY_PATCHES;
  for (const c of closers.splice(0)) await c();
});

interface Run {
  replies: Reply[][];
  messages: string[];
}

/** Runs `sessions` (each a list of lines; '<data>' sends a message body) against a new server of `Cls`. */
async function run(Cls: typeof SMTPServer, sessions: string[][], extra: Partial<SMTPServerOptions> = {}): Promise<Run> {
  const messages: string[] = [];
  const server = new Cls({
    disableReverseLookup: true,
    logger: false,
    hideSTARTTLS: true,
    authOptional: true,
    banner: 'test',
    name: 'mx.test',
    onRcptTo(address, _session, cb) {
      cb(address.address.endsWith('@refused.test') ? Object.assign(new Error('no such user'), { responseCode: 550 }) : undefined);
    },
    onData(stream, _session, cb) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push(Buffer.concat(chunks).toString('latin1'));
        cb();
      });
    },
    ...extra,
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise<void>((r) => server.close(() => r())));
  const port = (server.server.address() as AddressInfo).port;
  const replies: Reply[][] = [];
  const held: RawSmtp[] = [];
  for (const lines of sessions) {
    const c = await RawSmtp.connect(port);
    const got = [await c.reply()];
    for (const line of lines) {
      if (line === '<hold>') {
        held.push(c);
        break;
      }
      got.push(await c.cmd(line === '<data>' ? 'Subject: hi\r\n\r\nline one\r\n..dot line\r\n.' : line));
    }
    replies.push(got.map((r) => ({ code: r.code, text: r.text.replace(/\[127\.0\.0\.1\]|\d{2,}/g, 'N') })));
  }
  for (const c of held) c.cmd('QUIT').catch(() => undefined);
  return { replies, messages };
}

const SESSIONS = [
  ['EHLO client.test', 'MAIL FROM:<a@sender.test>', 'RCPT TO:<b@ok.test>', 'RCPT TO:<c@refused.test>', 'DATA', '<data>', 'QUIT'],
  ['HELO client.test', 'RCPT TO:<b@ok.test>', 'DATA', 'MAIL FROM:<a@sender.test>', 'NOOP', 'RSET', 'VRFY b', 'BOGUS', 'QUIT'],
  [
    'EHLO client.test',
    'MAIL FROM:<a@sender.test> SIZE=100',
    'RCPT TO:<b@ok.test>',
    'DATA',
    '<data>',
    'MAIL FROM:<>',
    'RCPT TO:<d@ok.test>',
    'DATA',
    '<data>',
    'QUIT',
  ],
];

describe('smtp-server patched and as published', () => {
  it('answer the same sessions alike and deliver the same bytes', async () => {
    const published = await run(SMTPServer, SESSIONS);
    const patched = await run(SMTPServerWithoutGreetingPause, SESSIONS);
    expect(published.messages).toHaveLength(3);
    expect(patched).toEqual(published);
  });

  it('refuse a client over maxClients alike', async () => {
    const sessions = [['EHLO one.test', '<hold>'], []];
    const published = await run(SMTPServer, sessions, { maxClients: 1 });
    const patched = await run(SMTPServerWithoutGreetingPause, sessions, { maxClients: 1 });
    expect(published.replies[1]![0]!.code).toBe(421);
    expect(patched).toEqual(published);
  });

  it('the listeners get the published class when POSTLINE_LIBRARY_PATCHES is off', () => {
    expect(smtpServerClass()).toBe(SMTPServerWithoutGreetingPause);
    process.env.POSTLINE_LIBRARY_PATCHES = 'off';
    expect(smtpServerClass()).toBe(SMTPServer);
  });
});
