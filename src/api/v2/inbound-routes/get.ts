import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { routeOf, routeParams, routeSchema, routeToWire, type InboundRouteDeps, type RouteParams } from './wire.js';

/** GET /servers/:serverId/inbound-routes/:routeId — one route. */
export function registerGet(scope: FastifyInstance, deps: InboundRouteDeps): void {
  scope.get<{ Params: RouteParams }>(
    '/inbound-routes/:routeId',
    {
      schema: {
        summary: 'Get an inbound route',
        tags: ['inbound'],
        params: routeParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(routeSchema) }),
      },
    },
    async (req) => ({ data: routeToWire(await routeOf(deps.store, req.params)) }),
  );
}
