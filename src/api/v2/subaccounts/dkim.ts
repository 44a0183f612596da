import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { asApi, domainNameSchema, domainSchema, selectorSchema, toWire } from '../sending-domains/wire.js';
import { subaccountIdParams, subaccountOf } from './access.js';
import type { SubaccountRouteDeps } from './wire.js';

/** A PEM private key is a few kilobytes at most (RSA-4096 PKCS#1 is about 3.3 KB). */
const MAX_PRIVATE_KEY_LENGTH = 16_384;

/**
 * POST /subaccount/:subaccountId/dkim {domain, selector, privateKey} — the customer's own DKIM key
 * (typically from GET .../dkim/generate, published first): taken only when DNS publishes its public
 * half at selector._domainkey.domain, then the domain is a sending domain of the sub-account's
 * server signing with that key (as POST /servers/{id}/sending-domains would, with Postline's key).
 */
export function registerDkim(scope: FastifyInstance, deps: SubaccountRouteDeps): void {
  scope.post<{ Body: { domain: string; selector: string; privateKey: string } }>(
    '/dkim',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: "Sign a sub-account's mail for a domain with the customer's own DKIM key",
        tags: ['subaccounts'],
        params: subaccountIdParams,
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['domain', 'selector', 'privateKey'],
          properties: {
            domain: domainNameSchema,
            selector: selectorSchema,
            privateKey: {
              type: 'string',
              minLength: 1,
              maxLength: MAX_PRIVATE_KEY_LENGTH,
              description: 'PEM (PKCS#1 or PKCS#8), RSA of at least 1024 bits or Ed25519',
            },
          },
        },
        response: withErrors({ 200: dataResponse(domainSchema) }),
      },
    },
    async (req) => {
      const serverId = subaccountOf(req).id;
      const d = await asApi(() => deps.sendingDomains.addOwnKey(serverId, req.body));
      req.log.info(
        { event: 'sending_domain.created', serverId, domainId: d.id, domain: d.domain, ownKey: true },
        "sending domain added with the customer's key",
      );
      return { data: toWire(d, deps.now()) };
    },
  );
}
