import type { FastifyInstance, FastifyRequest } from 'fastify';
import { principalOf, requireAccountKey } from '../auth.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { serverOf, serverSchema, toWire, type ServerRouteDeps } from './wire.js';

/**
 * POST /servers/:serverId/disable (its management key or the account key) and .../enable (the
 * account key only: a disabled server's own keys are refused). Keys are checked on every request
 * with no cache, so the server's keys stop (Injection API, SMTP AUTH, v2) or work again at once.
 */
export function registerStatus(scope: FastifyInstance, deps: ServerRouteDeps): void {
  const route = (action: 'disable' | 'enable', summary: string, check: (req: FastifyRequest) => unknown) =>
    scope.post<{ Params: { serverId: string } }>(
      `/${action}`,
      {
        schema: {
          summary,
          tags: ['servers'],
          params: serverIdParams,
          querystring: noQuery,
          response: withErrors({ 200: dataResponse(serverSchema) }),
        },
      },
      async (req) => {
        check(req);
        const current = await serverOf(deps.store, req.params.serverId);
        const status = action === 'disable' ? 'disabled' : 'active';
        const updated = await deps.store.tenancy.updateServer(current.id, { status });
        deps.serverChanged?.(current.id);
        req.log.info({ event: `server.${action}d`, serverId: current.id, keyId: principalOf(req).publicId }, `server ${action}d`);
        return { data: toWire(updated ?? current) };
      },
    );
  route('disable', 'Disable a server (its keys stop at once)', () => undefined);
  route('enable', 'Enable a disabled server (account key)', (req) => requireAccountKey(req, 'enabling a server'));
}
