import { isIP } from 'node:net';
import { Agent, request, type Dispatcher } from 'undici';
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
  /** Keep-alive connections to reuse (guardedDispatcher); by default each attempt has its own connection. */
  dispatcher?: Dispatcher;
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
 * POSTs one webhook body to `url` with undici (Node's own HTTP client library): in the fan-out
 * benchmark node:http's client was over a third of the dispatcher's CPU. Never follows
 * redirects, reads at most MAX_RESPONSE_SNIPPET_BYTES of the answer, and resolves (never
 * rejects) with the outcome. Without `dispatcher` the attempt gets its own connection, closed
 * after it; every connection either way goes through the guard's lookup.
 */
export function postWebhook(url: string, o: PostWebhookOptions): Promise<PostOutcome> {
  // A programming error, thrown at once rather than turned into an outcome.
  if (!Number.isFinite(o.timeoutMs) || o.timeoutMs <= 0) throw new Error(`webhook timeoutMs must be a positive number, got ${o.timeoutMs}`);
  return attempt(url, o);
}

async function attempt(url: string, o: PostWebhookOptions): Promise<PostOutcome> {
  const started = performance.now();
  const outcome = (r: Omit<PostOutcome, 'durationMs'>): PostOutcome => ({ ...r, durationMs: Math.round(performance.now() - started) });

  const parsed = parseWebhookUrl(url);
  if (!parsed.ok) return outcome({ ok: false, error: parsed.error });
  // A literal address never goes through `lookup`, so it is checked here.
  const literalRefusal = isIP(parsed.host) !== 0 ? o.guard.refusal(parsed.host) : null;
  if (literalRefusal !== null) return outcome({ ok: false, error: `webhook URL address refused: ${literalRefusal}` });

  const own = o.dispatcher ? null : guardedDispatcher(o.guard, 1);
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), o.timeoutMs);
  let status: number | undefined;
  try {
    const res = await request(parsed.url, {
      method: 'POST',
      dispatcher: o.dispatcher ?? own!,
      signal: abort.signal,
      headers: {
        'user-agent': USER_AGENT,
        // Lower-cased so a caller's Content-Length cannot go out beside ours.
        ...Object.fromEntries(Object.entries(o.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v])),
        'content-type': o.contentType,
        'content-length': String(Buffer.byteLength(o.body)),
      },
      body: o.body,
    });
    status = res.statusCode;
    const location = typeof res.headers.location === 'string' ? res.headers.location : undefined;
    const chunks: Buffer[] = [];
    let received = 0;
    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        chunks.push(chunk);
        received += chunk.length;
        if (received >= MAX_RESPONSE_SNIPPET_BYTES) break; // leaving the loop destroys the body: the connection is not reused
      }
    } catch {
      // The status is in: a reset or a timeout while reading the rest of the answer does not change it.
    }
    if (received < MAX_RESPONSE_SNIPPET_BYTES && !res.body.destroyed) res.body.destroy();
    const snippet = Buffer.concat(chunks).subarray(0, MAX_RESPONSE_SNIPPET_BYTES).toString('utf8');
    const error = statusError(status, location);
    return outcome({ ok: error === undefined, status, ...(snippet ? { responseSnippet: snippet } : {}), ...(error ? { error } : {}) });
  } catch (err) {
    if (abort.signal.aborted) return outcome({ ok: false, error: `no response within ${o.timeoutMs} ms` });
    return outcome({ ok: false, error: describe(err as Error) });
  } finally {
    clearTimeout(timer);
    if (own) void own.destroy().catch(() => undefined);
  }
}

/**
 * An undici dispatcher whose every connection resolves names through the guard (so an address
 * is checked when connecting, not only when the endpoint was saved: DNS rebinding), keeping up to
 * `connections` keep-alive connections per origin. The dispatcher shares one across all endpoints.
 */
export function guardedDispatcher(guard: UrlGuard, connections: number): Dispatcher {
  return new Agent({ connections, connect: { lookup: guard.lookup } as Record<string, unknown>, keepAliveTimeout: 10_000 });
}
