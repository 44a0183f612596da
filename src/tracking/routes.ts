import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { classifyEngagement, RecentClicks, type EngagementRequest, type MachineVerdict, type RecentClick } from './machine.js';
import { safeRedirectUrl } from './rewrite.js';
import type { TrackingTokens } from './token.js';
import { CLICK_PATH, OPEN_PATH, UNSUBSCRIBE_PATH } from './urls.js';

/**
 * The tracking endpoints, as a Fastify plugin over an injected backend:
 *   GET  /t/o/:token  open pixel: always the GIF, recorded only for a valid open token
 *   GET  /t/c/:token  302 to the link stored for that recipient and index; 404 otherwise
 *   GET  /t/u/:token  a confirmation page (GET never unsubscribes: scanners fetch every link)
 *   POST /t/u/:token  unsubscribes; RFC 8058 one-click POSTs get a plain 200
 * Fastify answers HEAD on the GET routes through the same handlers; such requests are recorded
 * as machine engagement. Register with `app.register(trackingRoutes, { tokens, backend })`.
 */

/** One engagement, as the backend stores it and turns into a SocketLabs Tracking event. */
export interface TrackingEvent {
  kind: 'open' | 'click' | 'unsubscribe';
  /** SocketLabs TrackingType: 0 click, 1 open, 2 unsubscribe. */
  trackingType: 0 | 1 | 2;
  recipientId: string;
  /** Which tracked link, for clicks. */
  linkIndex: number | null;
  /** Where the click was sent (the stored link, merge fields rendered), for clicks. */
  url: string | null;
  userAgent: string | null;
  clientIp: string | null;
  machine: boolean;
  /** The machine rule that matched (stable code, see machine.ts), or null. */
  reason: string | null;
  at: number;
}

export interface EngagementHistory {
  /** When the recipient's server accepted the message; null if not (yet) known. */
  deliveredAt: number | null;
  /** The recipient's clicks of the last few seconds, if the store can tell (other processes' too). */
  recentClicks?: readonly RecentClick[];
}

export interface TrackingBackend {
  /**
   * The link's destination for this recipient: the stored URL of link `linkIndex` of their
   * message with their merge fields rendered (rewrite.resolveLink does both), or null when there
   * is no such recipient or link. Only what this returns is ever redirected to.
   */
  linkFor(recipientId: string, linkIndex: number): Promise<string | null>;
  /** Optional: what the machine rules need to judge a click by timing. */
  history?(recipientId: string): Promise<EngagementHistory | null>;
  /** Stores an open or click. A failure is logged and does not affect the response. */
  record(event: TrackingEvent): Promise<void>;
  /**
   * Suppresses the recipient's address and stores the Unsubscribe event, in one transaction, so
   * an unsubscribe is never half done; repeated calls for one recipient must be harmless. A
   * failure answers 500, so the person (or the mailbox provider) can try again.
   */
  unsubscribe(event: TrackingEvent): Promise<void>;
}

export interface TrackingRoutesOptions {
  tokens: TrackingTokens;
  backend: TrackingBackend;
  now?: () => number;
  classify?: (e: EngagementRequest) => MachineVerdict;
}

/** The classic 43-byte transparent 1x1 GIF89a. */
export const TRANSPARENT_GIF = Buffer.from('R0lGODlhAQABAIAAAP///wAAACH5BAEAAAAALAAAAAABAAEAAAICRAEAOw==', 'base64');

/** An unsubscribe POST carries `List-Unsubscribe=One-Click` or our form's field; nothing needs more. */
const UNSUBSCRIBE_BODY_LIMIT = 4_096;

const NO_CACHE = {
  'cache-control': 'no-store, no-cache, must-revalidate, max-age=0',
  pragma: 'no-cache',
  expires: 'Thu, 01 Jan 1970 00:00:00 GMT',
};
// The pages load nothing, post only to themselves and may not be framed (no clickjacked
// unsubscribes); the token in the URL is not sent on as a Referer.
const PAGE_HEADERS = {
  'cache-control': 'no-store',
  'content-security-policy': "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
  'referrer-policy': 'no-referrer',
  'x-content-type-options': 'nosniff',
};

type TokenRequest = FastifyRequest<{ Params: { token: string } }>;

export const trackingRoutes: FastifyPluginAsync<TrackingRoutesOptions> = async (app, opts) => {
  const { tokens, backend } = opts;
  const now = opts.now ?? Date.now;
  const classify = opts.classify ?? classifyEngagement;
  const recent = new RecentClicks();

  // This plugin's scope only: take any POST body as short text. One-click senders use
  // form-urlencoded or multipart/form-data; the body's content never matters beyond one check.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: UNSUBSCRIBE_BODY_LIMIT }, (_req, body, done) => done(null, body));

  const who = (req: FastifyRequest) => ({ userAgent: req.headers['user-agent'] ?? null, clientIp: req.ip || null });

  const record = async (req: FastifyRequest, event: TrackingEvent): Promise<void> => {
    try {
      await backend.record(event);
    } catch (err) {
      req.log.error({ err, event: 'tracking.record_failed', kind: event.kind, recipientId: event.recipientId }, 'recording a tracking event failed');
    }
  };

  // A wildcard, not `:token`: anything under /t/o/ (an overlong or mangled token too, which a
  // parameter would answer with a 404 or 414) gets the image. A broken-image icon in someone's
  // mail helps no one; only a valid open token is recorded.
  app.get(`${OPEN_PATH}*`, async (req: FastifyRequest<{ Params: { '*': string } }>, reply) => {
    const t = tokens.verify(req.params['*']);
    if (t?.kind === 'open') {
      const at = now();
      const { userAgent, clientIp } = who(req);
      const v = classify({ kind: 'open', method: req.method, userAgent, clientIp, at });
      await record(req, {
        kind: 'open',
        trackingType: 1,
        recipientId: t.recipientId,
        linkIndex: null,
        url: null,
        userAgent,
        clientIp,
        machine: v.machine,
        reason: v.reason ?? null,
        at,
      });
    }
    return reply.code(200).headers(NO_CACHE).type('image/gif').send(TRANSPARENT_GIF);
  });

  app.get(`${CLICK_PATH}:token`, async (req: TokenRequest, reply) => {
    const t = tokens.verify(req.params.token);
    if (t?.kind !== 'click') return notFound(reply);
    let link: string | null;
    const history = backend.history
      ? backend.history(t.recipientId).catch((err: unknown) => {
          req.log.error({ err, event: 'tracking.history_failed', recipientId: t.recipientId }, 'engagement history lookup failed');
          return null;
        })
      : Promise.resolve(null);
    try {
      link = await backend.linkFor(t.recipientId, t.linkIndex);
    } catch (err) {
      req.log.error({ err, event: 'tracking.link_lookup_failed', recipientId: t.recipientId }, 'link lookup failed');
      return reply
        .code(503)
        .headers({ 'cache-control': 'no-store', 'retry-after': '5' })
        .type('text/plain; charset=utf-8')
        .send('This link is unavailable for a moment. Please try again.\n');
    }
    // The Location is only ever a stored link, and only an http(s) one.
    const target = link === null ? null : safeRedirectUrl(link);
    if (target === null) {
      if (link !== null)
        req.log.warn({ event: 'tracking.unsafe_link', recipientId: t.recipientId, linkIndex: t.linkIndex }, 'stored link is not an http(s) URL');
      return notFound(reply);
    }
    const at = now();
    const h = await history;
    const { userAgent, clientIp } = who(req);
    const v = classify({
      kind: 'click',
      method: req.method,
      userAgent,
      clientIp,
      at,
      deliveredAt: h?.deliveredAt ?? null,
      linkIndex: t.linkIndex,
      recentClicks: [...recent.note(t.recipientId, t.linkIndex, at), ...(h?.recentClicks ?? [])],
    });
    await record(req, {
      kind: 'click',
      trackingType: 0,
      recipientId: t.recipientId,
      linkIndex: t.linkIndex,
      url: target,
      userAgent,
      clientIp,
      machine: v.machine,
      reason: v.reason ?? null,
      at,
    });
    return reply.header('cache-control', 'no-store').redirect(target, 302);
  });

  app.get(`${UNSUBSCRIBE_PATH}:token`, async (req: TokenRequest, reply) => {
    if (tokens.verify(req.params.token)?.kind !== 'unsubscribe') {
      return page(reply, 404, 'Link not valid', '<p>This unsubscribe link is not valid. Please use the link from the latest message.</p>');
    }
    // No action attribute: the form posts back to this very URL.
    return page(
      reply,
      200,
      'Unsubscribe',
      '<p>Stop receiving these emails at this address?</p>\n<form method="post"><button type="submit" name="confirm" value="1">Unsubscribe</button></form>',
    );
  });

  app.post(`${UNSUBSCRIBE_PATH}:token`, async (req: TokenRequest, reply) => {
    const oneClick = isOneClick(req.body);
    const t = tokens.verify(req.params.token);
    if (t?.kind !== 'unsubscribe') {
      return oneClick ? notFound(reply) : page(reply, 404, 'Link not valid', '<p>This unsubscribe link is not valid.</p>');
    }
    const { userAgent, clientIp } = who(req);
    try {
      await backend.unsubscribe({
        kind: 'unsubscribe',
        trackingType: 2,
        recipientId: t.recipientId,
        linkIndex: null,
        url: null,
        userAgent,
        clientIp,
        machine: false,
        reason: null,
        at: now(),
      });
    } catch (err) {
      req.log.error({ err, event: 'tracking.unsubscribe_failed', recipientId: t.recipientId }, 'unsubscribe failed');
      return oneClick
        ? reply.code(500).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Unsubscribe failed; please try again.\n')
        : page(reply, 500, 'Please try again', '<p>Something went wrong and you are not unsubscribed yet. Please try again in a moment.</p>');
    }
    if (oneClick) return reply.code(200).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Unsubscribed\n');
    return page(reply, 200, 'Unsubscribed', '<p>You have been unsubscribed.</p>');
  });
};

/** RFC 8058 §3.2: the POST body is `List-Unsubscribe=One-Click` (form-urlencoded or a multipart field). */
export function isOneClick(body: unknown): boolean {
  if (typeof body !== 'string' || !/One-Click/i.test(body)) return false;
  return /List-Unsubscribe=One-Click/i.test(body) || /name="?List-Unsubscribe"?[^\r\n]*\r?\n(?:[^\r\n]+\r?\n)*\r?\nOne-Click/i.test(body);
}

function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send('Not found\n');
}

/** Titles and bodies are constants of this file: nothing from the request reaches the HTML. */
function page(reply: FastifyReply, status: number, title: string, body: string): FastifyReply {
  const html = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex"><title>${title}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font:inherit;padding:.5rem 1.25rem;cursor:pointer}</style>
</head><body><h1>${title}</h1>
${body}
</body></html>
`;
  return reply.code(status).headers(PAGE_HEADERS).type('text/html; charset=utf-8').send(html);
}
