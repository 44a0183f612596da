/**
 * @fastify/swagger's per-route transform: how a registered route becomes an operation.
 *
 *  - A route may carry a documentation-only schema in its config (`config.openapi`). The Injection
 *    API does: it parses JSON and XML in any key casing itself, and a Fastify `schema.body` would
 *    make Fastify validate (and with removeAdditional/coercion, alter) the body before the route's
 *    own parser sees it. Route config is never compiled by Fastify, so the document shows the
 *    SocketLabs request while the route's parser stays the single authority. (A no-op
 *    validatorCompiler on the route would also work, but would still run the response serializer
 *    built from the schema, and the response must stay byte-for-byte what respond.ts writes.)
 *  - Tracking links (`/t/...`) are hidden: they are URLs in emails, not an API.
 *  - Every route under /api/v2/ gets the management-key security (Bearer or Basic).
 *  - Routes without an operationId get one from method and path, so every operation has a
 *    unique, stable name for generated clients.
 */
import type { FastifySchema, RouteOptions } from 'fastify';
import { V2_SECURITY } from './document.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** A schema for the OpenAPI document only (never validated or serialized with): see api/openapi/transform.ts. */
    openapi?: FastifySchema & Record<string, unknown>;
  }
}

/** Path prefixes that are not API and stay out of the document. */
export const HIDDEN_PREFIXES = ['/t/'] as const;

/** GET /api/v2/servers/:serverId/webhooks/:webhookId -> getApiV2ServersServerIdWebhooksWebhookId */
export function operationIdOf(method: string, url: string): string {
  const words = url.split(/[^A-Za-z0-9]+/).filter((w) => w.length > 0);
  return method.toLowerCase() + words.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
}

type Schema = FastifySchema & Record<string, unknown>;

export function transformRoute({ schema, url, route }: { schema: unknown; url: string; route: RouteOptions }): { schema: Schema; url: string } {
  const documented = (route.config as { openapi?: Schema } | undefined)?.openapi;
  const out: Schema = { ...((documented ?? schema ?? {}) as Schema) };
  if (HIDDEN_PREFIXES.some((p) => url.startsWith(p))) out.hide = true;
  if (url.startsWith('/api/v2/') && out.security === undefined) out.security = V2_SECURITY;
  if (out.operationId === undefined && typeof route.method === 'string') out.operationId = operationIdOf(route.method, url);
  return { schema: out, url };
}
