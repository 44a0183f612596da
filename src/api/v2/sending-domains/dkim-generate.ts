import type { FastifyInstance } from 'fastify';
import { defaultSelector, generateDkimKey } from '../../../compose/dkim.js';
import { ApiError } from '../errors.js';
import { withErrors } from '../schemas.js';
import { SERVER_PATH, type ServerPath } from '../server-path.js';
import { dataResponse } from '../paging.js';
import { SendingDomainService } from '../../../domains/service.js';
import { asApi, domainNameSchema, selectorSchema, type SendingDomainRouteDeps } from './wire.js';

/**
 * GET /servers/:serverId/dkim/generate?domain=&selector= — SocketLabs' key generator (wire-format
 * §6.2): an RSA-2048 key pair and its DNS record, returned and not stored (for DKIM signing
 * elsewhere, or to register with POST /subaccount/:subaccountId/dkim once published). Postline's
 * own keys come with POST .../sending-domains. `path`: under a server or a sub-account.
 */
export function registerDkimGenerate(scope: FastifyInstance, deps: Pick<SendingDomainRouteDeps, 'now'>, path: ServerPath = SERVER_PATH): void {
  scope.get<{ Querystring: { domain: string; selector?: string } }>(
    '/dkim/generate',
    {
      schema: {
        summary: 'Generate a DKIM key pair (not stored)',
        tags: ['sending-domains'],
        params: path.params,
        querystring: { type: 'object', additionalProperties: false, required: ['domain'], properties: { domain: domainNameSchema, selector: selectorSchema } },
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['dnsHostName', 'domain', 'selector', 'dnsRecord', 'publicKey', 'privateKey'],
            properties: {
              dnsHostName: { type: 'string' },
              domain: { type: 'string' },
              selector: { type: 'string' },
              dnsRecord: { type: 'string', description: 'the TXT value to publish at dnsHostName' },
              publicKey: { type: 'string', description: 'the p= value' },
              privateKey: { type: 'string', description: 'PKCS#8 PEM' },
            },
          }),
        }),
      },
    },
    async (req) => {
      const domain = await asApi(async () => SendingDomainService.domainName(req.query.domain));
      const selector = req.query.selector ?? defaultSelector(new Date(deps.now()), 'rsa-sha256');
      let k: ReturnType<typeof generateDkimKey>;
      try {
        k = generateDkimKey(domain, selector);
      } catch (err) {
        throw new ApiError('validation_failed', (err as Error).message, 'selector');
      }
      return {
        data: {
          dnsHostName: `${k.selector}._domainkey.${domain}`,
          domain,
          selector: k.selector,
          dnsRecord: `v=DKIM1; k=rsa; p=${k.publicKeyBase64}`,
          publicKey: k.publicKeyBase64,
          privateKey: k.privateKeyPem,
        },
      };
    },
  );
}
