import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, serverIdParams, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import type { TemplateInput } from '../../../templates/content.js';
import { contentOrThrow, contentProperties, templateSchema, toWire, type TemplateRouteDeps } from './wire.js';

/** POST /servers/:serverId/templates {name, subject?, htmlBody?, textBody?, ampBody?} — stores version 1. */
export function registerCreate(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  scope.post<{ Params: { serverId: string }; Body: TemplateInput }>(
    '/templates',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Create a stored template',
        tags: ['templates'],
        params: serverIdParams,
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, required: ['name'], properties: contentProperties },
        response: withErrors({ 200: dataResponse(templateSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const t = await deps.store.templates.create(serverId, contentOrThrow(req.body), deps.now());
      req.log.info({ event: 'template.created', serverId, templateId: t.id }, 'template created');
      return { data: toWire(t) };
    },
  );
}
