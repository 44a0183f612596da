import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { MAX_INBOUND_ROUTES_PER_SERVER } from '../../../inbound/limits.js';
import { parseMatch } from '../../../inbound/route-table.js';
import { generateSecretKey } from '../../../webhooks/endpoint.js';
import { generateSecret } from '../../../net/standard-signature.js';
import { MAX_WEBHOOK_URL_LENGTH } from '../../../net/url-guard.js';
import { ApiError } from '../errors.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { checkUrl, handshake } from '../webhooks/handshake.js';
import { routeToWire, routeWithSecretSchema, type InboundRouteDeps } from './wire.js';

export const matchSchema = {
  type: 'string',
  minLength: 1,
  maxLength: 320,
  description: 'a domain (example.com) or one address (support@example.com)',
} as const;
export const urlSchema = { type: 'string', minLength: 1, maxLength: MAX_WEBHOOK_URL_LENGTH } as const;

/** A match Postline may route: well formed, and not Postline's own bounce domain. */
export function checkMatch(deps: InboundRouteDeps, input: string): ReturnType<typeof parseMatch> & { ok: true } {
  const m = parseMatch(input);
  if (!m.ok) throw new ApiError('validation_failed', m.error, 'match');
  const domain = m.kind === 'domain' ? m.match : m.match.slice(m.match.lastIndexOf('@') + 1);
  if (deps.bounceDomain !== undefined && domain === deps.bounceDomain) {
    throw new ApiError('validation_failed', `${domain} is Postline's bounce domain; its mail cannot be routed`, 'match');
  }
  return m;
}

/**
 * POST /servers/:serverId/inbound-routes {match, url, enabled?} — checks the match and the URL,
 * runs the Validation handshake, and only then stores the route (409 already_routed when the
 * match is routed already, by any server), answering it with its signing secret (shown this once).
 */
export function registerCreate(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.post<{ Params: { serverId: string }; Body: { match: string; url: string; enabled: boolean } }>(
    '/inbound-routes',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Route a domain or an address to an endpoint',
        tags: ['inbound'],
        params: serverIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['match', 'url'],
          properties: { match: matchSchema, url: urlSchema, enabled: { type: 'boolean', default: true } },
        },
        response: withErrors({ 200: dataResponse(routeWithSecretSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const { url, enabled } = req.body;
      const m = checkMatch(deps, req.body.match);
      const { total } = await deps.store.inbound.listRoutes(serverId, { limit: 1, offset: 0, direction: 'asc' });
      if (total >= MAX_INBOUND_ROUTES_PER_SERVER) {
        throw new ApiError('limit_reached', `server ${serverId} already has ${total} inbound routes (at most ${MAX_INBOUND_ROUTES_PER_SERVER})`);
      }
      await checkUrl(deps, url);
      const secretKey = generateSecretKey();
      const signingSecret = generateSecret();
      await handshake(deps, serverId, { url, format: 'json', secretKey, signingSecrets: [signingSecret], secretsRotatedAt: null });
      const route = await deps.store.inbound.createRoute(
        { serverId, match: m.match, kind: m.kind, url, secretKey, signingSecret, enabled, validatedAt: deps.now() },
        deps.now(),
      );
      if (!route) throw new ApiError('already_routed', `${m.match} is already routed; a domain or address has one route`, 'match');
      deps.onRoutesChanged?.();
      req.log.info({ event: 'inbound.route_created', serverId, routeId: route.id, match: route.match, url }, 'inbound route created');
      return { data: { ...routeToWire(route), signingSecret } };
    },
  );
}
