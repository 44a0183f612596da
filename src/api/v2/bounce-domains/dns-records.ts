import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainParams, recordSchema, recordsOf, refusalsAsApiErrors, type CustomDomainRouteDeps, type DomainParams, type ResourceSpec } from './wire.js';

/** GET /servers/:serverId/{bounce,tracking}-domains/:domainId/dns-records — what to publish, with the last check's status of each record. */
export function registerDnsRecords(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.get<{ Params: DomainParams }>(
    `${spec.path}/:domainId/dns-records`,
    {
      schema: {
        summary: `The DNS records of a ${spec.noun}`,
        tags: [spec.tag],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse({ type: 'array', items: recordSchema }) }),
      },
    },
    async (req) => {
      const d = await refusalsAsApiErrors(() => deps.domains.get(Number(req.params.serverId), spec.kind, Number(req.params.domainId)));
      return { data: recordsOf(d, deps.targets) };
    },
  );
}
