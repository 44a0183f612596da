import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import type { ServerPatch } from '../../../store/store.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { serverOf, serverSchema, settingsProperties, toWire, type ServerRouteDeps, type ServerSettings } from './wire.js';

/** PATCH /servers/:serverId — changes the given settings (at least one); status has its own routes (disable, enable). */
export function registerUpdate(scope: FastifyInstance, deps: ServerRouteDeps): void {
  scope.patch<{ Params: { serverId: string }; Body: ServerSettings }>(
    '',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Update a server',
        tags: ['servers'],
        params: serverIdParams,
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: settingsProperties },
        response: withErrors({ 200: dataResponse(serverSchema) }),
      },
    },
    async (req) => {
      const current = await serverOf(deps.store, req.params.serverId);
      const b = req.body;
      const patch: ServerPatch = {
        name: b.name?.trim(),
        sandbox: b.sandbox,
        requireVerifiedDomain: b.requireVerifiedDomain,
        tracking: { opens: b.trackOpens, clicks: b.trackClicks, unsubscribes: b.trackUnsubscribes },
      };
      const updated = await deps.store.tenancy.updateServer(current.id, patch);
      deps.serverChanged?.(current.id);
      req.log.info({ event: 'server.updated', serverId: current.id, fields: Object.keys(b) }, 'server updated');
      return { data: toWire(updated ?? current) };
    },
  );
}
