import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainOf, domainParams, domainSchema, toWire, type DomainParams, type SendingDomainRouteDeps } from './wire.js';

/** GET /servers/:serverId/sending-domains/:domainId — one domain, its keys with their states, its last check. */
export function registerGet(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.get<{ Params: DomainParams }>(
    '/sending-domains/:domainId',
    {
      schema: {
        summary: 'Get a sending domain',
        tags: ['sending-domains'],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(domainSchema) }),
      },
    },
    async (req) => ({ data: toWire(await domainOf(deps.store, req.params), deps.now()) }),
  );
}
