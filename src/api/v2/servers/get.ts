import type { FastifyInstance } from 'fastify';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { serverOf, serverSchema, toWire, type ServerRouteDeps } from './wire.js';

/** GET /servers/:serverId — the server's settings and status. */
export function registerGet(scope: FastifyInstance, deps: ServerRouteDeps): void {
  scope.get<{ Params: { serverId: string } }>(
    '',
    {
      schema: {
        summary: 'Get a server',
        tags: ['servers'],
        params: serverIdParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(serverSchema) }),
      },
    },
    async (req) => ({ data: toWire(await serverOf(deps.store, req.params.serverId)) }),
  );
}
