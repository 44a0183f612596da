import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { dnsRecordSchema, domainOf, domainParams, recordToWire, type DomainParams, type SendingDomainRouteDeps } from './wire.js';

/** GET /servers/:serverId/sending-domains/:domainId/dns-records — what to publish now (both selectors during a rotation). */
export function registerDnsRecords(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.get<{ Params: DomainParams }>(
    '/sending-domains/:domainId/dns-records',
    {
      schema: {
        summary: 'The DNS records to publish for a sending domain',
        tags: ['sending-domains'],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['domain', 'records'],
            properties: { domain: { type: 'string' }, records: { type: 'array', items: dnsRecordSchema } },
          }),
        }),
      },
    },
    async (req) => {
      const d = await domainOf(deps.store, req.params);
      return { data: { domain: d.domain, records: deps.service.records(d).map(recordToWire) } };
    },
  );
}
