import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postTlsReport } from '../../src/delivery/tls-report/report-https.js';
import { createUrlGuard } from '../../src/net/url-guard.js';
import { createLocalCa, type LocalCa } from '../helpers/local-ca.js';
import { startHttpsReportReceiver, type HttpsReportReceiver } from '../helpers/tls-report.js';

/** A report POSTed to an https rua (RFC 8460 §5.4), against a real node:https receiver. */
describe('posting a TLS report to an https rua', () => {
  let ca: LocalCa;
  let receiver: HttpsReportReceiver;
  const body = gzipSync('{"report-id":"x"}');
  const loopback = createUrlGuard({ allowCidrs: ['127.0.0.1'] });
  const url = (path: string) => new URL(`https://127.0.0.1:${receiver.port}${path}`);
  const post = (path: string, o: Partial<Parameters<typeof postTlsReport>[2]> = {}) =>
    postTlsReport(url(path), body, { timeoutMs: 5_000, guard: loopback, ca: ca.caPem, ...o });

  beforeAll(async () => {
    ca = createLocalCa();
    receiver = await startHttpsReportReceiver(ca);
    receiver.answer = (path) => (path === '/fail' ? 500 : path === '/moved' ? 302 : path === '/accepted' ? 202 : 200);
  });
  afterAll(() => receiver.close());

  it('POSTs the gzipped report as application/tlsrpt+gzip; any 2xx is success', async () => {
    expect(await post('/tlsrpt')).toEqual({ ok: true, detail: 'HTTP 200' });
    expect(await post('/accepted')).toEqual({ ok: true, detail: 'HTTP 202' });
    const got = receiver.received.find((r) => r.path === '/tlsrpt')!;
    expect(got.headers['content-type']).toBe('application/tlsrpt+gzip');
    expect(got.body.equals(body)).toBe(true);
  });

  it('fails on an error status, with the start of the answer', async () => {
    expect(await post('/fail')).toEqual({ ok: false, detail: 'HTTP 500: receiver says no' });
  });

  it('does not follow a redirect', async () => {
    const before = receiver.received.length;
    expect(await post('/moved')).toEqual({ ok: false, detail: 'HTTP 302 redirect to https://127.0.0.1/elsewhere not followed' });
    expect(receiver.received.length).toBe(before + 1);
  });

  it("verifies the receiver's certificate: without the test CA it is not trusted", async () => {
    const r = await postTlsReport(url('/tlsrpt'), body, { timeoutMs: 5_000, guard: loopback });
    expect(r.ok).toBe(false);
    expect(r.detail).toMatch(/certificate/i);
  });

  it('does not connect to an address the guard refuses (loopback, by default)', async () => {
    const before = receiver.received.length;
    const r = await post('/tlsrpt', { guard: createUrlGuard() });
    expect(r).toEqual({ ok: false, detail: 'address refused: 127.0.0.1 is loopback' });
    // A name that resolves to a refused address is refused at connect time.
    const byName = await postTlsReport(new URL(`https://localhost:${receiver.port}/tlsrpt`), body, { timeoutMs: 5_000, guard: createUrlGuard(), ca: ca.caPem });
    expect(byName.ok).toBe(false);
    expect(byName.detail).toMatch(/refused|loopback/);
    expect(receiver.received.length).toBe(before);
  });

  it('gives up on a receiver that does not answer within the timeout', async () => {
    const started = Date.now();
    expect(await post('/slow', { timeoutMs: 300 })).toEqual({ ok: false, detail: 'no response within 300 ms' });
    expect(Date.now() - started).toBeLessThan(3_000);
  });

  it('refuses anything but https', async () => {
    expect(await postTlsReport(new URL(`http://127.0.0.1:${receiver.port}/tlsrpt`), body, { timeoutMs: 1_000, guard: loopback })).toEqual({
      ok: false,
      detail: 'not an https URL: http:',
    });
  });
});
