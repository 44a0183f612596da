import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { checkUrl, handshake } from '../webhooks/handshake.js';
import { routeOf, routeParams, routeSchema, routeToWire, type InboundRouteDeps, type RouteParams } from './wire.js';

/** POST /servers/:serverId/inbound-routes/:routeId/validate — sends the Validation request again; a 2xx marks the route validated. */
export function registerValidate(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.post<{ Params: RouteParams }>(
    '/inbound-routes/:routeId/validate',
    {
      schema: {
        summary: "Validate an inbound route's endpoint",
        tags: ['inbound'],
        params: routeParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(routeSchema) }),
      },
    },
    async (req) => {
      const r = await routeOf(deps.store, req.params);
      await checkUrl(deps, r.url);
      await handshake(deps, r.serverId, { ...r, format: 'json' });
      const updated = await deps.store.inbound.updateRoute(r.serverId, r.id, { validatedAt: deps.now() }, deps.now());
      return { data: routeToWire(updated ?? r) };
    },
  );
}
