import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { domainNameSchema, domainSchema, refusalsAsApiErrors, toWire, type CustomDomainRouteDeps, type ResourceSpec } from './wire.js';

/**
 * POST /servers/:serverId/{bounce,tracking}-domains {domain, isDefault?, httpsEnabled? (tracking)}
 * — claims the domain for the server (409 domain_taken when any server has it). With isDefault
 * its records are checked first and it is stored only if they are correct (409 domain_not_verified).
 */
export function registerCreate(scope: FastifyInstance, deps: CustomDomainRouteDeps, spec: ResourceSpec): void {
  scope.post<{ Params: { serverId: string }; Body: { domain: string; isDefault: boolean; httpsEnabled?: boolean } }>(
    spec.path,
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: `Add a ${spec.noun}`,
        tags: [spec.tag],
        params: serverIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['domain'],
          properties: {
            domain: domainNameSchema,
            isDefault: { type: 'boolean', default: false, description: 'make it the default now (its records must already be published)' },
            ...(spec.kind === 'tracking' ? { httpsEnabled: { type: 'boolean', default: true, description: 'links use https:// (else http://)' } } : {}),
          },
        },
        response: withErrors({ 200: dataResponse(domainSchema(spec)) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const d = await refusalsAsApiErrors(() =>
        deps.domains.add(serverId, spec.kind, {
          domain: req.body.domain,
          isDefault: req.body.isDefault,
          https: req.body.httpsEnabled ?? true,
        }),
      );
      req.log.info({ event: 'custom_domain.added', serverId, kind: spec.kind, domainId: d.id, domain: d.domain, isDefault: d.isDefault }, `${spec.noun} added`);
      return { data: toWire(d, deps.targets) };
    },
  );
}
