import type { FastifyInstance, FastifyRequest } from 'fastify';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { principalOf } from '../auth.js';
import { subaccountIdParams, subaccountOf } from './access.js';
import { credentialsSchema, type SubaccountRouteDeps } from './wire.js';

type Deps = Pick<SubaccountRouteDeps, 'credentials' | 'gateway'>;

async function answer(deps: Deps, req: FastifyRequest, serverId: number) {
  const apiKey = await deps.credentials.keyFor(serverId);
  req.log.info({ event: 'credentials.injection_api', serverId, by: principalOf(req).publicId }, 'injection credentials handed out');
  return { data: { serverId, apiKey, gateway: deps.gateway() } };
}

/**
 * GET /servers/:serverId/credentials/injection-api — the server's injection key and the URL to
 * POST messages to. Clients call it before sending, so it answers the same key each time
 * (accept/injection-credentials.ts says how, with only a hash stored).
 */
export function registerServerCredentials(scope: FastifyInstance, deps: Deps): void {
  scope.get<{ Params: { serverId: string } }>(
    '/credentials/injection-api',
    {
      schema: {
        summary: "The server's injection key and gateway",
        tags: ['credentials'],
        params: serverIdParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(credentialsSchema) }),
      },
    },
    (req) => answer(deps, req, Number(req.params.serverId)),
  );
}

/** POST /subaccount/:subaccountId/credentials/injection-api — the same for a sub-account (SocketLabs uses POST here). */
export function registerSubaccountCredentials(scope: FastifyInstance, deps: Deps): void {
  scope.post(
    '/credentials/injection-api',
    {
      schema: {
        summary: "A sub-account's injection key and gateway",
        tags: ['subaccounts'],
        params: subaccountIdParams,
        querystring: noQuery,
        response: withErrors({ 200: dataResponse(credentialsSchema) }),
      },
    },
    (req) => answer(deps, req, subaccountOf(req).id),
  );
}
