import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainParams, domainSchema, refusalsAsApiErrors, toWire, type CustomDomainRouteDeps, type DomainParams, type ResourceSpec } from './wire.js';

/** GET /servers/:serverId/{bounce,tracking}-domains/:domainId — one domain with its records and the last check. */
export function registerGet(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.get<{ Params: DomainParams }>(
    `${spec.path}/:domainId`,
    {
      schema: {
        summary: `Get a ${spec.noun}`,
        tags: [spec.tag],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(domainSchema(spec)) }),
      },
    },
    async (req) => {
      const d = await refusalsAsApiErrors(() => deps.domains.get(Number(req.params.serverId), spec.kind, Number(req.params.domainId)));
      return { data: toWire(d, deps.targets) };
    },
  );
}
