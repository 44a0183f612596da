/**
 * The control panel: the browser app built from web/ into dist/web/ (`npm run build`), served by
 * the api role at `/` from the same origin as the API it calls.
 *
 *  - Files: @fastify/static over dist/web/ without a wildcard route (one route per file, found at
 *    start-up), so no catch-all route competes with the APIs' own 404 answers. `/assets/*` have
 *    hashed names and are cached for a year; index.html is revalidated on every load.
 *  - Client-side routes (`/login`, `/activity`, ...): a GET or HEAD that no route matched, outside
 *    the API paths and without a file extension, answers index.html (the app routes it). Anything
 *    else that matched nothing gets Fastify's default 404, exactly as before the panel existed;
 *    the APIs' scopes (/api/v1, /api/v2, /v1, /marketing/v1) keep their own not-found answers.
 *  - Every panel answer carries a strict Content-Security-Policy (the app has no inline script or
 *    style, and loads nothing from elsewhere), nosniff and Referrer-Policy same-origin. API answers
 *    are untouched.
 *  - Without a build (a dev checkout that only ran tsc), the panel's paths answer 503 with a
 *    sentence saying how to build it; the APIs are unaffected.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fastifyStatic from '@fastify/static';

/** dist/web/ of this package: two folders up from both src/api/panel.ts and dist/api/panel.js. */
export const PANEL_DIR = fileURLToPath(new URL('../../dist/web/', import.meta.url));

export const PANEL_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  // The message view frames a message's HTML part served by the API on this origin
  // (reports/messages/html, under its own sandboxing CSP); nothing else may be framed.
  "frame-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The headers of every panel answer (files, the app's page, the 503). */
export const PANEL_HEADERS: Readonly<Record<string, string>> = {
  'content-security-policy': PANEL_CSP,
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'same-origin',
};

/** Hashed file names under assets/ never change content: a year, immutable. Everything else revalidates. */
export const ASSET_CACHE = 'public, max-age=31536000, immutable';
export const PAGE_CACHE = 'no-cache';

/** Paths that belong to an API or an operator route: never the panel, whatever is under them. */
const NOT_PANEL = ['/api', '/v1', '/v2', '/marketing', '/t', '/docs', '/healthz', '/readyz', '/metrics'];

export const NOT_BUILT_MESSAGE =
  'The Postline control panel is not built: dist/web/ is missing. Run `npm run build` (or `npm install`, which builds it) and restart Postline. The APIs work without it.\n';

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Whether `path` may be a page of the app: not under an API prefix, no file extension in its last segment. */
export function isPanelPath(path: string): boolean {
  if (NOT_PANEL.some((p) => path === p || path.startsWith(`${p}/`))) return false;
  const last = path.slice(path.lastIndexOf('/') + 1);
  return !last.includes('.');
}

function panelHeaders(reply: FastifyReply): FastifyReply {
  return reply.headers(PANEL_HEADERS);
}

/** Fastify's own 404 answer (what every unmatched path outside the APIs' scopes got before the panel). */
function defaultNotFound(req: FastifyRequest, reply: FastifyReply): FastifyReply {
  return reply.code(404).send({ message: `Route ${req.method}:${req.url} not found`, error: 'Not Found', statusCode: 404 });
}

export interface PanelOptions {
  /** The built app (default: this package's dist/web/). */
  dir?: string;
}

export async function registerPanel(app: FastifyInstance, opts: PanelOptions = {}): Promise<void> {
  const dir = opts.dir ?? PANEL_DIR;
  const built = existsSync(join(dir, 'index.html'));
  if (built) {
    await app.register(fastifyStatic, {
      root: dir,
      wildcard: false,
      // Kept out of the OpenAPI document: the panel is not an API.
      schemaHide: true,
      cacheControl: false,
      etag: true,
      lastModified: true,
      setHeaders(res, path) {
        for (const [k, v] of Object.entries(PANEL_HEADERS)) res.setHeader(k, v);
        res.setHeader('cache-control', path.includes('/assets/') ? ASSET_CACHE : PAGE_CACHE);
      },
    });
  }
  app.setNotFoundHandler((req, reply) => {
    if ((req.method !== 'GET' && req.method !== 'HEAD') || !isPanelPath(pathOf(req.url))) return defaultNotFound(req, reply);
    if (!built) return panelHeaders(reply).code(503).header('cache-control', 'no-store').type('text/plain; charset=utf-8').send(NOT_BUILT_MESSAGE);
    return reply.sendFile('index.html');
  });
}
