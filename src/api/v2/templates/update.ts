import type { FastifyInstance } from 'fastify';
import { MAX_V2_BODY_BYTES } from '../../../core/api-v2-limits.js';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import type { TemplateInput } from '../../../templates/content.js';
import { contentOrThrow, contentProperties, notFound, templateParams, templateSchema, toWire, type TemplateParams, type TemplateRouteDeps } from './wire.js';

/**
 * PATCH /servers/:serverId/templates/:templateId {name?, subject?, htmlBody?, textBody?, ampBody?}
 * — saves a new version: the current content with the given fields replaced (null clears one).
 * The new version is what ApiTemplate sends from now on; messages already accepted keep theirs.
 */
export function registerUpdate(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  scope.patch<{ Params: TemplateParams; Body: TemplateInput }>(
    '/templates/:templateId',
    {
      bodyLimit: MAX_V2_BODY_BYTES,
      schema: {
        summary: 'Update a stored template (saves a new version)',
        tags: ['templates'],
        params: templateParams,
        querystring: noQuery,
        body: { type: 'object', additionalProperties: false, minProperties: 1, properties: contentProperties },
        response: withErrors({ 200: dataResponse(templateSchema) }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const id = Number(req.params.templateId);
      const current = await deps.store.templates.get(serverId, id);
      if (!current) throw notFound(id);
      const content = contentOrThrow({
        name: current.name,
        subject: current.subject,
        htmlBody: current.htmlBody,
        textBody: current.textBody,
        ampBody: current.ampBody,
        ...req.body,
      });
      const t = await deps.store.templates.update(serverId, id, content, deps.now());
      if (!t) throw notFound(id); // deleted between the read and the write
      req.log.info({ event: 'template.updated', serverId, templateId: id, version: t.version, fields: Object.keys(req.body) }, 'template updated');
      return { data: toWire(t) };
    },
  );
}
