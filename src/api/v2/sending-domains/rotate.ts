import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { asApi, domainOf, domainParams, domainSchema, selectorSchema, toWire, type DomainParams, type SendingDomainRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/sending-domains/:domainId/dkim/rotate {selector?} — a new key per
 * algorithm in use, pending until a verify sees its record (domains/rotation.ts).
 */
export function registerRotate(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.post<{ Params: DomainParams; Body: { selector?: string } }>(
    '/sending-domains/:domainId/dkim/rotate',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      // The body is optional: no body means no options.
      preValidation: async (req) => {
        if (req.body === undefined || req.body === null) req.body = {};
      },
      schema: {
        summary: 'Start a DKIM key rotation',
        tags: ['sending-domains'],
        params: domainParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          properties: { selector: { ...selectorSchema, description: 'the new selector (default pl<yyyymm>, made unique)' } },
        },
        response: withErrors({ 200: dataResponse(domainSchema) }),
      },
    },
    async (req) => {
      const d = await domainOf(deps.store, req.params);
      const rotated = await asApi(() => deps.service.rotate(d, req.body.selector));
      req.log.info({ event: 'sending_domain.rotation_started', serverId: d.serverId, domainId: d.id }, 'DKIM rotation started');
      return { data: toWire(rotated, deps.now()) };
    },
  );
}
