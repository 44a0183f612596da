import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainOf, domainParams, type DomainParams, type SendingDomainRouteDeps } from './wire.js';

/** DELETE /servers/:serverId/sending-domains/:domainId — the domain and its keys; its mail is refused again under the rule. */
export function registerDelete(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.delete<{ Params: DomainParams }>(
    '/sending-domains/:domainId',
    {
      schema: {
        summary: 'Remove a sending domain and its DKIM keys',
        tags: ['sending-domains'],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({
          200: dataResponse({ type: 'object', required: ['id', 'deleted'], properties: { id: { type: 'integer' }, deleted: { type: 'boolean' } } }),
        }),
      },
    },
    async (req) => {
      const d = await domainOf(deps.store, req.params);
      await deps.service.remove(d);
      req.log.info({ event: 'sending_domain.deleted', serverId: d.serverId, domainId: d.id, domain: d.domain }, 'sending domain removed');
      return { data: { id: d.id, deleted: true } };
    },
  );
}
