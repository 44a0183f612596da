import http from 'node:http';
import https from 'node:https';
import { isIP } from 'node:net';
import { performance } from 'node:perf_hooks';
import { parseWebhookUrl, type UrlGuard } from './url-guard.js';

/** Bytes of a receiver's answer kept for the delivery log: enough for an error page's message,
 *  and a receiver cannot make the dispatcher buffer more. */
export const MAX_RESPONSE_SNIPPET_BYTES = 4_096;

/** Standard Webhooks recommends 15-30 s: time for a receiver to do its work before it answers. */
export const DEFAULT_WEBHOOK_TIMEOUT_MS = 15_000;

const USER_AGENT = 'Postline-Webhooks';

export interface PostWebhookOptions {
  body: string | Buffer;
  contentType: string;
  /** Extra request headers (the signature headers). */
  headers?: Readonly<Record<string, string>>;
  /** The whole attempt: connecting, sending, the status line and the snippet of the answer. */
  timeoutMs: number;
  /** Every address connected to passes this guard; IP literals in the URL are checked before connecting. */
  guard: UrlGuard;
  /** A keep-alive agent to reuse connections to busy endpoints; by default each attempt has its own connection. */
  agent?: http.Agent;
}

/** What one attempt came to. `ok`: the receiver answered 2xx. Network failures are outcomes, not throws. */
export interface PostOutcome {
  ok: boolean;
  status?: number;
  durationMs: number;
  responseSnippet?: string;
  error?: string;
}

/** Node reports a failed connection to every address of a name as an AggregateError with an empty message. */
function describe(err: Error): string {
  if (err.message) return err.message;
  if (err instanceof AggregateError) return err.errors.map((e: Error) => e.message).join('; ');
  return (err as NodeJS.ErrnoException).code ?? 'request failed';
}

function statusError(status: number, location: string | undefined): string | undefined {
  if (status >= 200 && status < 300) return undefined;
  // Redirects are never followed: the hop would escape the URL guard's check and double the load;
  // the owner should update the endpoint instead (Standard Webhooks' advice).
  if (status >= 300 && status < 400) return `HTTP ${status} redirect${location ? ` to ${location}` : ''} not followed; update the webhook URL`;
  return `HTTP ${status}`;
}

/**
 * POSTs one webhook body to `url`. Never follows redirects, reads at most
 * MAX_RESPONSE_SNIPPET_BYTES of the answer, and resolves (never rejects) with the outcome.
 */
export function postWebhook(url: string, o: PostWebhookOptions): Promise<PostOutcome> {
  if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) throw new Error(`webhook timeoutMs must be a positive number, got ${o.timeoutMs}`);
  const started = performance.now();
  const outcome = (r: Omit<PostOutcome, 'durationMs'>): PostOutcome => ({ ...r, durationMs: Math.round(performance.now() - started) });

  const parsed = parseWebhookUrl(url);
  if (!parsed.ok) return Promise.resolve(outcome({ ok: false, error: parsed.error }));
  // A literal address never goes through `lookup`, so it is checked here.
  const literalRefusal = isIP(parsed.host) !== 0 ? o.guard.refusal(parsed.host) : null;
  if (literalRefusal !== null) return Promise.resolve(outcome({ ok: false, error: `webhook URL address refused: ${literalRefusal}` }));

  return new Promise((resolve) => {
    let settled = false;
    let status: number | undefined;
    let location: string | undefined;
    const chunks: Buffer[] = [];
    let received = 0;

    const answered = (): Omit<PostOutcome, 'durationMs'> => {
      const snippet = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_SNIPPET_BYTES).toString('utf8');
      const error = statusError(status!, location);
      return { ok: error === undefined, status, ...(snippet ? { responseSnippet: snippet } : {}), ...(error ? { error } : {}) };
    };
    /** `cut`: the exchange is not finished cleanly, so the connection must not be reused. */
    const finish = (r: Omit<PostOutcome, 'durationMs'>, cut: boolean) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      if (cut) req.destroy();
      resolve(outcome(r));
    };

    const transport = parsed.url.protocol === 'https:' ? https : http;
    const req = transport.request(parsed.url, {
      method: 'POST',
      agent: o.agent ?? false,
      lookup: o.guard.lookup,
      headers: {
        'user-agent': USER_AGENT,
        // Lower-cased so a caller's Content-Length cannot go out beside ours.
        ...Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        'content-type': o.contentType,
        'content-length': String(Buffer.byteLength(o.body)),
      },
    }, (res) => {
      status = res.statusCode ?? 0;
      location = res.headers.location;
      res.on('data', (chunk: Buffer) => {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= MAX_RESPONSE_SNIPPET_BYTES) finish(answered(), true);
      });
      res.on('end', () => finish(answered(), false));
      // The status is in: a reset while reading the rest of the answer does not change it.
      res.on('error', () => finish(answered(), true));
    });
    req.on('error', (err) => finish(status === undefined ? { ok: false, error: describe(err) } : answered(), true));
    const timer = setTimeout(() => {
      finish(status === undefined ? { ok: false, error: `no response within ${o.timeoutMs} ms` } : answered(), true);
    }, o.timeoutMs);
    req.end(o.body);
  });
}
