import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { routeOf, routeParams, type InboundRouteDeps, type RouteParams } from './wire.js';

/** DELETE /servers/:serverId/inbound-routes/:routeId — the route, its messages not yet posted, and its log. */
export function registerDelete(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.delete<{ Params: RouteParams }>(
    '/inbound-routes/:routeId',
    {
      schema: {
        summary: 'Delete an inbound route',
        tags: ['inbound'],
        params: routeParams,
        querystring: noQuery,
        response: withErrors({
          200: dataResponse({ type: 'object', required: ['id', 'deleted'], properties: { id: { type: 'integer' }, deleted: { type: 'boolean' } } }),
        }),
      },
    },
    async (req) => {
      const r = await routeOf(deps.store, req.params);
      await deps.store.inbound.deleteRoute(r.serverId, r.id);
      deps.onRoutesChanged?.();
      req.log.info({ event: 'inbound.route_deleted', serverId: r.serverId, routeId: r.id, match: r.match }, 'inbound route deleted');
      return { data: { id: r.id, deleted: true } };
    },
  );
}
