import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainParams, domainSchema, refusalsAsApiErrors, toWire, type CustomDomainRouteDeps, type DomainParams, type ResourceSpec } from './wire.js';

/**
 * POST /servers/:serverId/{bounce,tracking}-domains/:domainId/verify — looks the records up now,
 * stores and answers what was found. Records missing or pointing elsewhere un-verify the domain
 * (and a default stops being the default); a failed lookup changes only the record statuses.
 */
export function registerVerify(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.post<{ Params: DomainParams }>(
    `${spec.path}/:domainId/verify`,
    {
      schema: {
        summary: `Check the DNS records of a ${spec.noun} now`,
        tags: [spec.tag],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(domainSchema(spec)) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const d = await refusalsAsApiErrors(() => deps.domains.verify(serverId, spec.kind, Number(req.params.domainId)));
      req.log.info(
        {
          event: 'custom_domain.checked',
          serverId,
          kind: spec.kind,
          domainId: d.id,
          verified: d.verifiedAt !== null,
          records: d.lastCheck?.map((r) => r.status),
        },
        `${spec.noun} checked`,
      );
      return { data: toWire(d, deps.targets) };
    },
  );
}
