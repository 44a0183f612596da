import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainParams, refusalsAsApiErrors, type CustomDomainRouteDeps, type DomainParams, type ResourceSpec } from './wire.js';

/**
 * DELETE /servers/:serverId/{bounce,tracking}-domains/:domainId — deletes the domain. Deleting the
 * default clears the server's default: Postline's own bounce domain (or tracking URL) applies again.
 */
export function registerDelete(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.delete<{ Params: DomainParams }>(
    `${spec.path}/:domainId`,
    {
      schema: {
        summary: `Delete a ${spec.noun}`,
        tags: [spec.tag],
        params: domainParams,
        querystring: noQuery,
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['domainId', 'domain', 'deleted', 'wasDefault'],
            properties: { domainId: { type: 'integer' }, domain: { type: 'string' }, deleted: { type: 'boolean' }, wasDefault: { type: 'boolean' } },
          }),
        }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const d = await refusalsAsApiErrors(() => deps.domains.remove(serverId, spec.kind, Number(req.params.domainId)));
      req.log.info(
        { event: 'custom_domain.deleted', serverId, kind: spec.kind, domainId: d.id, domain: d.domain, wasDefault: d.isDefault },
        `${spec.noun} deleted`,
      );
      return { data: { domainId: d.id, domain: d.domain, deleted: true, wasDefault: d.isDefault } };
    },
  );
}
