import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { postWebhook, MAX_RESPONSE_SNIPPET_BYTES, type PostWebhookOptions } from '../../src/net/post.js';
import { createUrlGuard } from '../../src/net/url-guard.js';
import { sign, generateSecret, verify } from '../../src/net/standard-signature.js';

interface Received {
  method: string;
  url: string;
  headers: http.IncomingHttpHeaders;
  body: string;
}

describe('postWebhook against a real HTTP receiver on 127.0.0.1', () => {
  let server: http.Server;
  let base: string;
  const received: Received[] = [];
  const loopback = createUrlGuard({ allowCidrs: ['127.0.0.0/8', '::1'] });
  const opts = (extra: Partial<PostWebhookOptions> = {}): PostWebhookOptions => ({
    body: '{"Type":"Validation"}',
    contentType: 'application/json',
    timeoutMs: 5_000,
    guard: loopback,
    ...extra,
  });

  /** Streams up to 64 MB of answer; records whether all of it was taken before the client hung up. */
  let endlessDone: Promise<boolean>;
  const endless = (res: http.ServerResponse) => {
    const chunk = Buffer.alloc(64 * 1024, 'x');
    let sent = 0;
    endlessDone = new Promise((resolve) => res.on('close', () => resolve(res.writableFinished)));
    res.writeHead(200);
    const pump = () => {
      while (sent < 64 * 1024 * 1024) {
        sent += chunk.length;
        if (!res.write(chunk)) {
          res.once('drain', pump);
          return;
        }
      }
      res.end();
    };
    pump();
  };

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
        switch (req.url) {
          case '/ok':
            res.writeHead(200, { 'content-type': 'text/plain' }).end('thanks');
            break;
          case '/no-content':
            res.writeHead(204).end();
            break;
          case '/fail':
            res.writeHead(500).end('boom: database down');
            break;
          case '/gone':
            res.writeHead(410).end();
            break;
          case '/redirect':
            res.writeHead(302, { location: '/ok' }).end();
            break;
          case '/endless':
            endless(res);
            break;
          case '/silent':
            break; // never answers
          case '/stall-body':
            res.writeHead(200);
            res.write('partial');
            break; // status, then nothing
          default:
            res.writeHead(404).end();
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
  });
  beforeEach(() => {
    received.length = 0;
  });

  it('200: ok, with the status, the answer, and the request as sent (POST, body, headers)', async () => {
    const body = '{"Type":"Delivered","EventId":"E1"}';
    const secret = generateSecret();
    const headers = sign('E1', 1_700_000_000, body, [secret]);
    const r = await postWebhook(`${base}/ok`, opts({ body, headers }));
    expect(r).toMatchObject({ ok: true, status: 200, responseSnippet: 'thanks' });
    expect(r.error).toBeUndefined();
    expect(r.durationMs).toBeGreaterThanOrEqual(0);
    expect(received).toHaveLength(1);
    const got = received[0]!;
    expect(got.method).toBe('POST');
    expect(got.body).toBe(body);
    expect(got.headers['content-type']).toBe('application/json');
    expect(got.headers['content-length']).toBe(String(Buffer.byteLength(body)));
    expect(got.headers['user-agent']).toBe('Postline-Webhooks');
    expect(verify(got.headers, got.body, [secret], 300, 1_700_000_000)).toEqual({ ok: true });
  });

  it('a form-encoded body goes out as given', async () => {
    await postWebhook(`${base}/ok`, opts({ body: 'Type=Validation&SecretKey=a%26b', contentType: 'application/x-www-form-urlencoded' }));
    expect(received[0]).toMatchObject({ body: 'Type=Validation&SecretKey=a%26b', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  });

  it('204: ok, no snippet', async () => {
    const r = await postWebhook(`${base}/no-content`, opts());
    expect(r).toMatchObject({ ok: true, status: 204 });
    expect(r).not.toHaveProperty('responseSnippet');
  });

  it('500: a failure carrying the status and the answer', async () => {
    expect(await postWebhook(`${base}/fail`, opts())).toMatchObject({ ok: false, status: 500, responseSnippet: 'boom: database down', error: 'HTTP 500' });
  });

  it('410: a failure with its status (the caller disables the endpoint)', async () => {
    expect(await postWebhook(`${base}/gone`, opts())).toMatchObject({ ok: false, status: 410 });
  });

  it('302: a failure, and the redirect is not followed', async () => {
    const r = await postWebhook(`${base}/redirect`, opts());
    expect(r).toMatchObject({ ok: false, status: 302, error: 'HTTP 302 redirect to /ok not followed; update the webhook URL' });
    expect(received.map((x) => x.url)).toEqual(['/redirect']);
  });

  it(`keeps ${MAX_RESPONSE_SNIPPET_BYTES} bytes of a huge answer and hangs up instead of reading the rest`, async () => {
    const r = await postWebhook(`${base}/endless`, opts());
    expect(r).toMatchObject({ ok: true, status: 200 });
    expect(r.responseSnippet).toBe('x'.repeat(MAX_RESPONSE_SNIPPET_BYTES));
    expect(await endlessDone).toBe(false);
  });

  it('a receiver that never answers: a timeout failure, no status', async () => {
    const r = await postWebhook(`${base}/silent`, opts({ timeoutMs: 300 }));
    expect(r).toEqual({ ok: false, durationMs: r.durationMs, error: 'no response within 300 ms' });
  });

  it('a 200 whose body never ends: the status stands, with what arrived', async () => {
    expect(await postWebhook(`${base}/stall-body`, opts({ timeoutMs: 300 }))).toMatchObject({ ok: true, status: 200, responseSnippet: 'partial' });
  });

  it('connection refused: a failure naming it, not a throw', async () => {
    const closed = http.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r = await postWebhook(`http://127.0.0.1:${port}/`, opts());
    expect(r.ok).toBe(false);
    expect(r.status).toBeUndefined();
    expect(r.error).toContain('ECONNREFUSED');
  });

  it('the guard refuses 127.0.0.1 unless allowed, and nothing reaches the receiver', async () => {
    const strict = createUrlGuard();
    expect(await postWebhook(`${base}/ok`, opts({ guard: strict }))).toMatchObject({
      ok: false,
      error: 'webhook URL address refused: 127.0.0.1 is loopback',
    });
    const port = new URL(base).port;
    const byName = await postWebhook(`http://localhost:${port}/ok`, opts({ guard: strict }));
    expect(byName.ok).toBe(false);
    expect(byName.error).toMatch(/^webhook host localhost resolves to a refused address: .* is loopback$/);
    expect(received).toHaveLength(0);

    expect(await postWebhook(`http://localhost:${port}/ok`, opts({ guard: createUrlGuard({ allowPrivate: true }) }))).toMatchObject({ ok: true, status: 200 });
    expect(received).toHaveLength(1);
  });

  it('a malformed or non-http URL is a failure value', async () => {
    expect(await postWebhook('not a url', opts())).toMatchObject({ ok: false, error: expect.stringContaining('not a valid absolute URL') });
    expect(await postWebhook('ftp://127.0.0.1/', opts())).toMatchObject({ ok: false, error: expect.stringContaining('http or https') });
  });

  it('a timeout that would disable the deadline is a programming error', () => {
    for (const timeoutMs of [0, -1, Number.NaN, Number.POSITIVE_INFINITY]) {
      expect(() => postWebhook(`${base}/ok`, opts({ timeoutMs }))).toThrow(/timeoutMs/);
    }
  });
});
