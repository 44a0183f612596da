import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { asApi, domainNameSchema, domainSchema, selectorSchema, toWire, type SendingDomainRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/sending-domains {domain, selector?, ed25519?} — adds the domain with a
 * new RSA-2048 DKIM key (and an Ed25519 one when asked); GET .../dns-records says what to publish.
 */
export function registerCreate(scope: FastifyInstance, deps: SendingDomainRouteDeps): void {
  scope.post<{ Params: { serverId: string }; Body: { domain: string; selector?: string; ed25519?: boolean } }>(
    '/sending-domains',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Add a sending domain (generates its DKIM keys)',
        tags: ['sending-domains'],
        params: serverIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['domain'],
          properties: {
            domain: domainNameSchema,
            selector: { ...selectorSchema, description: 'DKIM selector (default pl<yyyymm>; the Ed25519 key gets an "e" suffix)' },
            ed25519: { type: 'boolean', default: false, description: 'also generate an Ed25519 key (dual signing)' },
          },
        },
        response: withErrors({ 200: dataResponse(domainSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const d = await asApi(() => deps.service.add(serverId, req.body));
      req.log.info({ event: 'sending_domain.created', serverId, domainId: d.id, domain: d.domain }, 'sending domain added');
      return { data: toWire(d, deps.now()) };
    },
  );
}
