import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ParsePool } from '../../src/inbound/parse/pool.js';
import type { BodyEnvelope } from '../../src/inbound/parse/build-body.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';

// The real parser thread from dist/ (build first), wrapped so that a marked message ends or hangs its thread.
const WORKER = join(import.meta.dirname, '../fixtures/inbound/failing-worker.mjs');
const env: BodyEnvelope = { serverId: 7, secretKey: 'k', mailFrom: 'a@example.net', rcptTo: 'b@customer.example', remoteIp: '127.0.0.1', heloName: null };
const message = (subject: string, extra = ''): Buffer =>
  Buffer.from(`From: a@example.net\r\nTo: b@customer.example\r\nSubject: ${subject}\r\n${extra}\r\nBody\r\n`);
const subjectOf = (b: Buffer): string => (JSON.parse(b.toString()) as { Message: { Subject: string } }).Message.Subject;

describe('Inbound parser threads', () => {
  let pool: ParsePool | null = null;
  let dns: TestDnsServer | null = null;
  afterEach(async () => {
    await pool?.close();
    await dns?.close();
    pool = null;
    dns = null;
  });
  const start = async (threads: number, taskTimeoutMs = 60_000, idleMs?: number) => {
    dns = await startDnsServer();
    pool = new ParsePool({
      workerFile: WORKER,
      threads,
      data: { dnsServers: [dns.address], hostname: 'mx.test' },
      taskTimeoutMs,
      ...(idleMs ? { idleMs } : {}),
    });
    return pool;
  };

  it('starts its threads with the first message, ends them after a quiet spell, and starts them again for the next', async () => {
    const p = await start(2, 60_000, 300);
    expect(p.threads).toBe(0);
    const first = await Promise.all([p.run(message('one'), env), p.run(message('two'), env)]);
    expect(first.map(subjectOf)).toEqual(['one', 'two']);
    expect(p.threads).toBe(2);
    const end = Date.now() + 10_000;
    while (p.threads > 0 && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    expect(p.threads).toBe(0);
    expect(subjectOf(await p.run(message('three'), env))).toBe('three');
    expect(p.threads).toBe(2);
  });

  it('keeps its threads while messages keep coming closer together than the quiet spell', async () => {
    // A quiet spell far longer than the gaps: a busy machine delaying a timer cannot end the thread.
    const p = await start(1, 60_000, 10_000);
    for (let i = 0; i < 8; i++) {
      expect(subjectOf(await p.run(message(`m${i}`), env))).toBe(`m${i}`);
      await new Promise((r) => setTimeout(r, 100));
      expect(p.threads).toBe(1);
    }
  });

  it('a thread that dies rejects only the message that killed it; the others it held run again alone and are parsed', async () => {
    const p = await start(1);
    const results = await Promise.allSettled([
      p.run(message('before'), env),
      p.run(message('crash', 'X-Thread-Test: exit\r\n'), env),
      p.run(message('queued-1'), env),
      p.run(message('queued-2'), env),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
    expect((results[1] as PromiseRejectedResult).reason.message).toMatch(/exited with code 70/);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => subjectOf((r as PromiseFulfilledResult<Buffer>).value))).toEqual([
      'before',
      'queued-1',
      'queued-2',
    ]);
    expect(subjectOf(await p.run(message('after'), env))).toBe('after');
  });

  it("with two threads, the other thread's messages are untouched by a crash", async () => {
    const p = await start(2);
    const results = await Promise.allSettled([
      p.run(message('crash', 'X-Thread-Test: exit\r\n'), env),
      ...Array.from({ length: 6 }, (_, i) => p.run(message(`m${i}`), env)),
    ]);
    expect(results[0]!.status).toBe('rejected');
    expect(results.slice(1).map((r) => (r.status === 'fulfilled' ? subjectOf(r.value) : 'rejected'))).toEqual(['m0', 'm1', 'm2', 'm3', 'm4', 'm5']);
  });

  it('a stuck thread is replaced when its message overruns the task timeout; the message held with it is parsed', async () => {
    const p = await start(1, 3_000);
    const stuck = p.run(message('hang', 'X-Thread-Test: hang\r\n'), env);
    const next = p.run(message('next'), env);
    await expect(stuck).rejects.toThrow(/took over 3000 ms; replaced/);
    expect(subjectOf(await next)).toBe('next');
  });

  it("does not count a thread's start-up against the task timeout: a slow-starting thread still parses", async () => {
    dns = await startDnsServer();
    pool = new ParsePool({
      workerFile: join(import.meta.dirname, '../fixtures/inbound/slow-start-worker.mjs'),
      threads: 1,
      data: { dnsServers: [dns.address], hostname: 'mx.test' },
      taskTimeoutMs: 1_000,
    });
    expect(subjectOf(await pool.run(message('slow start'), env))).toBe('slow start');
  });

  it('close() ends the threads and refuses new work', async () => {
    const p = await start(1);
    expect(subjectOf(await p.run(message('one'), env))).toBe('one');
    await p.close();
    await expect(p.run(message('two'), env)).rejects.toThrow(/closed/);
  });
});
