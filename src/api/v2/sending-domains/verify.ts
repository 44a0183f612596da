import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainOf, domainParams, domainSchema, toWire, type DomainParams, type SendingDomainRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/sending-domains/:domainId/verify — looks every record up in DNS now,
 * stores the result (lastCheck) and what it decides: verified or not, a pending DKIM key promoted.
 */
export function registerVerify(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.post<{ Params: DomainParams }>(
    '/sending-domains/:domainId/verify',
    {
      schema: {
        summary: 'Verify a sending domain against live DNS',
        tags: ['sending-domains'],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(domainSchema) }),
      },
    },
    async (req) => {
      const d = await domainOf(deps.store, req.params);
      const checked = await deps.service.verify(d);
      req.log.info(
        {
          event: 'sending_domain.verified',
          serverId: d.serverId,
          domainId: d.id,
          verified: checked.verifiedAt !== null,
          statuses: (checked.checkResults ?? []).map((c) => `${c.name}:${c.status}`),
        },
        'sending domain checked',
      );
      return { data: toWire(checked, deps.now()) };
    },
  );
}
