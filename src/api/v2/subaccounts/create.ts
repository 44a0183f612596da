import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { requireAccountKey } from '../auth.js';
import { ApiError } from '../errors.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { nameSchema } from '../servers/wire.js';
import { subaccountSchema, toWire, type SubaccountRouteDeps } from './wire.js';

interface Body {
  name: string;
  ipPoolId?: number;
  useRuleEngine?: boolean;
}

/**
 * POST /subaccount {name, ipPoolId} or {name, useRuleEngine: true} — a new server in the account
 * key's account. Exactly one of the two (SocketLabs' rule). Postline sends from one set of
 * addresses and has no rule engine, so neither is kept. The server does not require a verified
 * sending domain, so the sub-account can send at once (as a SocketLabs sub-account can); PATCH
 * /servers/{id} turns that on.
 */
export function registerCreate(scope: FastifyInstance, deps: SubaccountRouteDeps): void {
  scope.post<{ Body: Body }>(
    '/subaccount',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Create a sub-account (a server of the account; account key)',
        tags: ['subaccounts'],
        querystring: noQuery,
        body: {
          type: 'object',
          additionalProperties: false,
          required: ['name'],
          properties: {
            name: nameSchema,
            ipPoolId: { type: 'integer', minimum: 1, description: 'accepted, not kept: Postline has one IP pool' },
            useRuleEngine: { type: 'boolean', description: 'true instead of ipPoolId' },
          },
        },
        response: withErrors({ 200: dataResponse(subaccountSchema) }),
      },
    },
    async (req) => {
      const p = requireAccountKey(req, 'creating a sub-account');
      const b = req.body;
      const ruleEngine = b.useRuleEngine === true;
      if (ruleEngine && b.ipPoolId !== undefined) throw new ApiError('validation_failed', 'send ipPoolId or useRuleEngine: true, not both', 'useRuleEngine');
      if (!ruleEngine && b.ipPoolId === undefined) throw new ApiError('validation_failed', 'send ipPoolId, or useRuleEngine: true', 'ipPoolId');
      const server = await deps.store.tenancy.createServer({ accountId: p.accountId, name: b.name.trim(), requireVerifiedDomain: false }, deps.now());
      req.log.info({ event: 'subaccount.created', serverId: server.id, accountId: p.accountId, keyId: p.publicId }, 'sub-account created');
      return { data: toWire(server, ruleEngine) };
    },
  );
}
