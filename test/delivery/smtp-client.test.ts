import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { dotStuff, SmtpClient, SmtpSessionError } from '../../src/delivery/smtp-client.js';

/**
 * A raw SMTP server on loopback, scripted per test: each received line is answered by `answer`,
 * and the DATA payload (up to the terminator) is collected as it came over the wire.
 */
interface Script {
  greeting?: string;
  ehlo?: string | null; // null: EHLO refused (HELO then accepted)
  pipelining?: boolean;
  answer?: (line: string) => string | null; // null: no reply (timeout tests)
  afterData?: (payload: string) => string;
  /** Drop the connection without a word on receiving this command. */
  closeOn?: string;
  /** Answer this command, then close the connection (a 421, RFC 5321 §3.8). */
  closeAfter?: string;
}

interface Scripted {
  port: number;
  lines: string[];
  payloads: string[];
  writesPerTransaction: number[];
}

const servers: Server[] = [];
const sockets = new Set<Socket>();
afterEach(async () => {
  for (const s of sockets) s.destroy();
  sockets.clear();
  await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
});

async function scriptedServer(script: Script): Promise<Scripted> {
  const state: Scripted = { port: 0, lines: [], payloads: [], writesPerTransaction: [] };
  const server = createServer((sock: Socket) => {
    sockets.add(sock);
    sock.setEncoding('latin1');
    sock.write(`${script.greeting ?? '220 sink.test ESMTP'}\r\n`);
    let buf = '';
    let inData = false;
    let data = '';
    let chunks = 0;
    sock.on('data', (chunk: string) => {
      chunks++;
      buf += chunk;
      for (;;) {
        if (inData) {
          const end = buf.indexOf('\r\n.\r\n');
          const atStart = data === '' && buf.startsWith('.\r\n');
          if (end < 0 && !atStart) return;
          const body = atStart ? '' : buf.slice(0, end + 2);
          buf = atStart ? buf.slice(3) : buf.slice(end + 5);
          inData = false;
          data += body;
          state.payloads.push(data);
          state.writesPerTransaction.push(chunks);
          sock.write(`${script.afterData ? script.afterData(data) : '250 2.0.0 queued'}\r\n`);
          data = '';
          continue;
        }
        const nl = buf.indexOf('\r\n');
        if (nl < 0) return;
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 2);
        state.lines.push(line);
        const verb = line.split(' ')[0]!.toUpperCase();
        if (script.closeOn === verb) {
          sock.destroy();
          return;
        }
        let reply: string | null;
        if (verb === 'EHLO') {
          reply =
            script.ehlo === null
              ? '502 5.5.1 EHLO not supported'
              : (script.ehlo ?? `250-sink.test\r\n250-SIZE 1000000\r\n${script.pipelining === false ? '' : '250-PIPELINING\r\n'}250 8BITMIME`);
        } else if (verb === 'HELO') reply = '250 sink.test';
        else if (verb === 'QUIT') {
          sock.end('221 bye\r\n');
          return;
        } else reply = script.answer ? script.answer(line) : defaultAnswer(line);
        if (verb === 'DATA' && reply?.startsWith('354')) {
          inData = true;
          chunks = 0;
        }
        if (reply !== null) sock.write(`${reply}\r\n`);
        if (script.closeAfter === verb) {
          sock.end();
          return;
        }
      }
    });
    sock.on('error', () => undefined);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  state.port = (server.address() as AddressInfo).port;
  return state;
}

function defaultAnswer(line: string): string {
  const verb = line.split(/[ :]/)[0]!.toUpperCase();
  if (verb === 'MAIL' || verb === 'RCPT' || verb === 'RSET') return '250 2.1.0 ok';
  if (verb === 'DATA') return '354 go ahead';
  return '500 5.5.2 unknown command';
}

const open = (port: number, replyTimeoutMs = 5_000) =>
  SmtpClient.open({
    host: '127.0.0.1',
    port,
    heloName: 'postline.test',
    opportunisticTls: true,
    connectionTimeoutMs: 5_000,
    greetingTimeoutMs: 5_000,
    replyTimeoutMs,
  });

const msg = (s: string) => Buffer.from(s.replace(/\r?\n/g, '\r\n'));

describe('dotStuff', () => {
  it('doubles a leading dot on every line, the first included, and appends the terminator', () => {
    expect(dotStuff(msg('.a\n..b\nc.\n.\n')).toString()).toBe('..a\r\n...b\r\nc.\r\n..\r\n.\r\n');
  });
  it('leaves a message without such lines as is, adding CRLF before the terminator when missing', () => {
    expect(dotStuff(msg('Subject: x\n\nbody\n')).toString()).toBe('Subject: x\r\n\r\nbody\r\n.\r\n');
    expect(dotStuff(Buffer.from('Subject: x\r\n\r\nbody')).toString()).toBe('Subject: x\r\n\r\nbody\r\n.\r\n');
  });
});

describe('SmtpClient against a scripted server on loopback', () => {
  it('pipelines MAIL, RCPT and DATA in one write and sends the dot-stuffed message with SIZE', async () => {
    const s = await scriptedServer({});
    const c = await open(s.port);
    const message = msg('Subject: hi\n\n.hidden line\nend\n');
    const r = await c.send('b+x@bounce.test', 'rcpt@example.test', message);
    expect(r).toEqual({ kind: 'accepted', reply: { code: 250, text: '250 2.0.0 queued' } });
    expect(s.lines.slice(1)).toEqual([`MAIL FROM:<b+x@bounce.test> SIZE=${message.length}`, 'RCPT TO:<rcpt@example.test>', 'DATA']);
    expect(s.payloads[0]).toBe('Subject: hi\r\n\r\n..hidden line\r\nend\r\n');
    c.quit();
  });

  it('SMTPUTF8 where offered: the parameter, and UTF-8 addresses as UTF-8 bytes on the wire', async () => {
    const s = await scriptedServer({ ehlo: '250-sink.test\r\n250-PIPELINING\r\n250-8BITMIME\r\n250 SMTPUTF8' });
    const c = await open(s.port);
    const r = await c.send('b+x@bounce.test', '用户@例子.广告', msg('Subject: hi\n\nÄ\n'));
    expect(r.kind).toBe('accepted');
    // The scripted server reads latin1: the UTF-8 bytes of the address, one character each.
    expect(s.lines.slice(1, 3)).toEqual([
      'MAIL FROM:<b+x@bounce.test> BODY=8BITMIME SMTPUTF8',
      `RCPT TO:<${Buffer.from('用户@例子.广告').toString('latin1')}>`,
    ]);
    c.quit();
  });

  it('without SMTPUTF8: an IDN domain goes as its A-label, a UTF-8 local part is refused here and nothing is sent', async () => {
    const s = await scriptedServer({ ehlo: '250-sink.test\r\n250 PIPELINING' });
    const c = await open(s.port);
    expect((await c.send('b+x@bounce.test', 'user@bücher.example', msg('Subject: hi\n\nb\n'))).kind).toBe('accepted');
    expect(s.lines.slice(1, 3)).toEqual(['MAIL FROM:<b+x@bounce.test>', 'RCPT TO:<user@xn--bcher-kva.example>']);
    const before = s.lines.length;
    const r = await c.send('b+x@bounce.test', 'jöran@example.com', msg('Subject: hi\n\nb\n'));
    expect(r).toEqual({
      kind: 'rejected',
      stage: 'local',
      reply: {
        code: 553,
        text: '553 5.6.7 Non-ASCII address <jöran@example.com> not permitted: the receiving server does not offer SMTPUTF8 (RFC 6531)',
      },
    });
    expect(s.lines.length).toBe(before);
    expect(c.usable).toBe(true);
    c.quit();
  });

  it('without PIPELINING, waits for each reply and stops at a refused recipient', async () => {
    const s = await scriptedServer({
      pipelining: false,
      answer: (l) => (l.startsWith('RCPT') ? '550 5.1.1 <x@example.test>: user unknown' : defaultAnswer(l)),
    });
    const c = await open(s.port);
    const r = await c.send('a@b.test', 'x@example.test', msg('Subject: a\n\nb\n'));
    expect(r).toEqual({ kind: 'rejected', stage: 'RCPT', reply: { code: 550, text: '550 5.1.1 <x@example.test>: user unknown' } });
    expect(s.lines.some((l) => l === 'DATA')).toBe(false);
    expect(await c.reset()).toBe(true);
    expect(c.usable).toBe(true);
  });

  it('pipelined refusals: MAIL refused reports MAIL; the session stays usable for the next message', async () => {
    let refuse = true;
    const s = await scriptedServer({
      answer: (l) => {
        if (l.startsWith('MAIL') && refuse) return '451 4.7.1 try later';
        if (l === 'DATA' && refuse) {
          refuse = false;
          return '503 5.5.1 no valid recipients';
        }
        if (l.startsWith('RCPT') && refuse) return '503 5.5.1 need MAIL first';
        return defaultAnswer(l);
      },
    });
    const c = await open(s.port);
    const r1 = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n'));
    expect(r1).toMatchObject({ kind: 'rejected', stage: 'MAIL', reply: { code: 451 } });
    expect(await c.reset()).toBe(true);
    const r2 = await c.send('a@b.test', 'x@example.test', msg('S: 2\n\n2\n'));
    expect(r2.kind).toBe('accepted');
    expect(s.payloads).toEqual(['S: 2\r\n\r\n2\r\n']);
  });

  it('a pipelined RCPT answered 421 before the server hangs up is reported as that reply, not as a lost connection', async () => {
    const s = await scriptedServer({
      answer: (l) =>
        l.startsWith('RCPT')
          ? '421-4.7.28 Gmail has detected an unusual rate of unsolicited mail.\r\n421 4.7.28 To protect our users, mail has been temporarily rate limited.'
          : defaultAnswer(l),
      closeAfter: 'RCPT',
    });
    const c = await open(s.port);
    const r = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n'));
    expect(r).toMatchObject({ kind: 'rejected', stage: 'RCPT', reply: { code: 421, text: expect.stringContaining('4.7.28 To protect') } });
    expect(s.payloads).toEqual([]);
    expect(c.usable).toBe(false);
  });

  it('a server that answers 354 although the recipient was refused gets an empty message and the refusal is reported', async () => {
    const s = await scriptedServer({
      answer: (l) => (l.startsWith('RCPT') ? '550 5.1.1 unknown' : defaultAnswer(l)),
      afterData: () => '554 5.5.1 no valid recipients',
    });
    const c = await open(s.port);
    const r = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n'));
    expect(r).toMatchObject({ kind: 'rejected', stage: 'RCPT', reply: { code: 550 } });
    expect(s.payloads).toEqual(['']);
    expect(c.usable).toBe(true);
  });

  it('reports a refusal after the message and reads multi-line replies whole', async () => {
    const s = await scriptedServer({
      afterData: () => '550-5.7.1 This message was blocked\r\n550-5.7.1 because of its content.\r\n550 5.7.1 See https://example.test/why',
    });
    const c = await open(s.port);
    const r = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n'));
    expect(r).toEqual({
      kind: 'rejected',
      stage: 'message',
      reply: { code: 550, text: '550-5.7.1 This message was blocked\n550-5.7.1 because of its content.\n550 5.7.1 See https://example.test/why' },
    });
  });

  it('falls back to HELO when EHLO is refused, and then uses no extensions', async () => {
    const s = await scriptedServer({ ehlo: null });
    const c = await open(s.port);
    expect(c.supports('PIPELINING')).toBe(false);
    const r = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n'));
    expect(r.kind).toBe('accepted');
    expect(s.lines.slice(0, 3)).toEqual(['EHLO postline.test', 'HELO postline.test', 'MAIL FROM:<a@b.test>']);
  });

  it('a 554 greeting throws a session error carrying the reply', async () => {
    const s = await scriptedServer({ greeting: '554 5.7.1 no mail from you' });
    const err = await open(s.port).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpSessionError);
    expect((err as SmtpSessionError).reply).toEqual({ code: 554, text: '554 5.7.1 no mail from you' });
  });

  it('a server that stops answering times the session out and it becomes unusable', async () => {
    const mute = await scriptedServer({ answer: (l) => (l.startsWith('MAIL') ? defaultAnswer(l) : null) });
    const c = await open(mute.port, 300);
    const err = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpSessionError);
    expect((err as Error).message).toBe('timed out after 300 ms waiting for the reply to RCPT');
    expect(c.usable).toBe(false);
  });

  it('a connection refused or closed mid-transaction throws instead of hanging', async () => {
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    await expect(open(port)).rejects.toBeInstanceOf(SmtpSessionError);

    const s = await scriptedServer({ closeOn: 'DATA' });
    const c = await open(s.port);
    const err = await c.send('a@b.test', 'x@example.test', msg('S: 1\n\n1\n')).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(SmtpSessionError);
    expect(c.usable).toBe(false);
  });
});
