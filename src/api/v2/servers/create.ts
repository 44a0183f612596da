import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { requireAccountKey } from '../auth.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { serverSchema, settingsProperties, toWire, type ServerRouteDeps, type ServerSettings } from './wire.js';

/**
 * POST /servers {name, sandbox?, trackOpens?, trackClicks?, trackUnsubscribes?, requireVerifiedDomain?}
 * — a new server in the account key's account. requireVerifiedDomain defaults to true: a server
 * made through the API sends only from domains it has verified.
 */
export function registerCreate(scope: FastifyInstance, deps: ServerRouteDeps): void {
  scope.post<{ Body: ServerSettings & { name: string } }>(
    '/servers',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Create a server (account key)',
        tags: ['servers'],
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: { ...settingsProperties, requireVerifiedDomain: { ...settingsProperties.requireVerifiedDomain, default: true } },
        },
        response: withErrors({ 201: dataResponse(serverSchema) }),
      },
    },
    async (req, reply) => {
      const p = requireAccountKey(req, 'creating a server');
      const b = req.body;
      const server = await deps.store.tenancy.createServer(
        {
          accountId: p.accountId,
          name: b.name.trim(),
          sandbox: b.sandbox ?? false,
          requireVerifiedDomain: b.requireVerifiedDomain ?? true,
          tracking: { opens: b.trackOpens ?? false, clicks: b.trackClicks ?? false, unsubscribes: b.trackUnsubscribes ?? false },
        },
        deps.now(),
      );
      req.log.info({ event: 'server.created', serverId: server.id, accountId: p.accountId, keyId: p.publicId }, 'server created');
      return reply.code(201).send({ data: toWire(server) });
    },
  );
}
