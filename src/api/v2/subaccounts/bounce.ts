import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { BOUNCE_DOMAINS, domainNameSchema, domainSchema, refusalsAsApiErrors, toWire } from '../bounce-domains/wire.js';
import { subaccountIdParams, subaccountOf } from './access.js';
import type { SubaccountRouteDeps } from './wire.js';

/**
 * POST /subaccount/:subaccountId/bounce {domain, isDefault} — SocketLabs' custom bounce domain:
 * the sub-account's server claims it as a bounce domain, exactly as POST
 * /servers/{id}/bounce-domains does (with isDefault its CNAME must already be published). The
 * answer is that resource: SocketLabs' domain, isDefault, createdOn and updatedOn, plus the
 * domain's id, verification and records.
 */
export function registerBounce(scope: FastifyInstance, deps: SubaccountRouteDeps): void {
  scope.post<{ Body: { domain: string; isDefault: boolean } }>(
    '/bounce',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Add a custom bounce domain to a sub-account',
        tags: ['subaccounts'],
        params: subaccountIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['domain'],
          properties: { domain: domainNameSchema, isDefault: { type: 'boolean', default: false } },
        },
        response: withErrors({ 200: dataResponse(domainSchema(BOUNCE_DOMAINS)) }),
      },
    },
    async (req) => {
      const serverId = subaccountOf(req).id;
      const d = await refusalsAsApiErrors(() =>
        deps.customDomains.domains.add(serverId, 'bounce', { domain: req.body.domain, isDefault: req.body.isDefault, https: true }),
      );
      req.log.info({ event: 'custom_domain.added', serverId, kind: 'bounce', domainId: d.id, domain: d.domain, isDefault: d.isDefault }, 'bounce domain added');
      return { data: toWire(d, deps.customDomains.targets) };
    },
  );
}
