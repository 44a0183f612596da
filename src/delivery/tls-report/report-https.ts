import { isIP } from 'node:net';
import { Agent, request } from 'undici';
import type { UrlGuard } from '../../net/url-guard.js';

/** Bytes of a receiver's answer kept for the log: enough for an error's message. */
const MAX_ANSWER_BYTES = 2_048;

export interface HttpsReportOptions {
  /** The whole POST: connecting, sending, the status line and the start of the answer. */
  timeoutMs: number;
  /**
   * The address rule for the receiver. A rua URI is chosen by whoever controls a recipient
   * domain's DNS, and the POST leaves from inside the operator's network: without the guard a
   * record could point Postline at its own database port or a cloud metadata service.
   */
  guard: UrlGuard;
  /** PEM certificate authorities to trust instead of Node's roots (tests; a private receiver). */
  ca?: string | Buffer | readonly (string | Buffer)[];
}

/**
 * POSTs a gzipped report to an https rua (RFC 8460 §5.4): Content-Type application/tlsrpt+gzip,
 * the receiver's certificate verified, any 2xx is success, a redirect is not followed (the hop
 * would escape the guard; the domain should publish the final URL). Resolves, never rejects.
 */
export async function postTlsReport(url: URL, gzipped: Buffer, o: HttpsReportOptions): Promise<{ ok: boolean; detail: string }> {
  if (url.protocol !== 'https:') return { ok: false, detail: `not an https URL: ${url.protocol}` };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  // A literal address never goes through the guard's lookup, so it is checked here.
  const refused = isIP(host) !== 0 ? o.guard.refusal(host) : null;
  if (refused !== null) return { ok: false, detail: `address refused: ${refused}` };
  const agent = new Agent({
    connect: { lookup: o.guard.lookup, ...(o.ca ? { ca: o.ca as string | Buffer | (string | Buffer)[] } : {}) } as Record<string, unknown>,
  });
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), o.timeoutMs);
  try {
    const res = await request(url, {
      method: 'POST',
      dispatcher: agent,
      signal: abort.signal,
      headers: { 'content-type': 'application/tlsrpt+gzip', 'content-length': String(gzipped.length), 'user-agent': 'Postline-TLSRPT' },
      body: gzipped,
    });
    let answer = '';
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        answer += chunk.toString('utf8');
        if (answer.length >= MAX_ANSWER_BYTES) break;
      }
    } catch {
      // The status is in; a reset while reading the rest of the answer does not change it.
    }
    if (!res.body.destroyed) res.body.destroy();
    const snippet = answer.slice(0, MAX_ANSWER_BYTES).trim();
    if (res.statusCode >= 200 && res.statusCode < 300) return { ok: true, detail: `HTTP ${res.statusCode}` };
    const location = typeof res.headers.location === 'string' ? ` to ${res.headers.location}` : '';
    if (res.statusCode >= 300 && res.statusCode < 400) return { ok: false, detail: `HTTP ${res.statusCode} redirect${location} not followed` };
    return { ok: false, detail: `HTTP ${res.statusCode}${snippet ? `: ${snippet.slice(0, 200)}` : ''}` };
  } catch (err) {
    if (abort.signal.aborted) return { ok: false, detail: `no response within ${o.timeoutMs} ms` };
    // Node reports a failed connection to every address of a name as an AggregateError without a message.
    if (err instanceof AggregateError && !err.message) return { ok: false, detail: err.errors.map((e: Error) => e.message).join('; ') };
    const e = err as NodeJS.ErrnoException;
    return { ok: false, detail: e.message || e.code || 'request failed' };
  } finally {
    clearTimeout(timer);
    void agent.destroy().catch(() => undefined);
  }
}
