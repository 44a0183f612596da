import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import type { InboundRoutePatch } from '../../../store/inbound.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { checkUrl, handshake } from '../webhooks/handshake.js';
import { urlSchema } from './create.js';
import { routeOf, routeParams, routeSchema, routeToWire, type InboundRouteDeps, type RouteParams } from './wire.js';

/**
 * PATCH /servers/:serverId/inbound-routes/:routeId {url?, enabled?} — a new URL must pass the
 * checks and the Validation handshake first (a refusal changes nothing). `enabled: false` refuses
 * the match's mail at RCPT and holds messages already stored; `true` takes mail and posts again.
 */
export function registerUpdate(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.patch<{ Params: RouteParams; Body: { url?: string; enabled?: boolean } }>(
    '/inbound-routes/:routeId',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Update an inbound route',
        tags: ['inbound'],
        params: routeParams,
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: { url: urlSchema, enabled: { type: 'boolean' } } },
        response: withErrors({ 200: dataResponse(routeSchema) }),
      },
    },
    async (req) => {
      const current = await routeOf(deps.store, req.params);
      const patch: InboundRoutePatch = {};
      if (req.body.url !== undefined && req.body.url !== current.url) {
        await checkUrl(deps, req.body.url);
        await handshake(deps, current.serverId, { ...current, url: req.body.url, format: 'json' });
        patch.url = req.body.url;
        patch.validatedAt = deps.now();
      }
      if (req.body.enabled !== undefined) patch.enabled = req.body.enabled;
      const updated = await deps.store.inbound.updateRoute(current.serverId, current.id, patch, deps.now());
      deps.onRoutesChanged?.();
      req.log.info({ event: 'inbound.route_updated', serverId: current.serverId, routeId: current.id, fields: Object.keys(req.body) }, 'inbound route updated');
      return { data: routeToWire(updated ?? current) };
    },
  );
}
