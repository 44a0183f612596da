import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainParams, domainSchema, refusalsAsApiErrors, toWire, type CustomDomainRouteDeps, type DomainParams, type ResourceSpec } from './wire.js';

/**
 * PATCH /servers/:serverId/{bounce,tracking}-domains/:domainId {isDefault?, httpsEnabled? (tracking)}
 * — isDefault true makes a verified domain the server's default (the previous one stops being it;
 * 409 domain_not_verified otherwise); false stops it being the default.
 */
export function registerUpdate(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.patch<{ Params: DomainParams; Body: { isDefault?: boolean; httpsEnabled?: boolean } }>(
    `${spec.path}/:domainId`,
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: `Update a ${spec.noun} (default, https)`,
        tags: [spec.tag],
        params: domainParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          minProperties: 1,
          properties: {
            isDefault: { type: 'boolean', description: `make it (true) or stop it being (false) the server's default ${spec.noun}` },
            ...(spec.kind === 'tracking' ? { httpsEnabled: { type: 'boolean', description: 'links use https:// (else http://)' } } : {}),
          },
        },
        response: withErrors({ 200: dataResponse(domainSchema(spec)) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const d = await refusalsAsApiErrors(() =>
        deps.domains.update(serverId, spec.kind, Number(req.params.domainId), {
          isDefault: req.body.isDefault,
          https: req.body.httpsEnabled,
        }),
      );
      req.log.info({ event: 'custom_domain.updated', serverId, kind: spec.kind, domainId: d.id, fields: Object.keys(req.body) }, `${spec.noun} updated`);
      return { data: toWire(d, deps.targets) };
    },
  );
}
