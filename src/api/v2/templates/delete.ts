import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { notFound, templateParams, type TemplateParams, type TemplateRouteDeps } from './wire.js';

/** DELETE /servers/:serverId/templates/:templateId — deletes it with every version; ApiTemplate with its id is InvalidTemplateId from then on. */
export function registerDelete(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  scope.delete<{ Params: TemplateParams }>(
    '/templates/:templateId',
    {
      schema: {
        summary: 'Delete a stored template',
        tags: ['templates'],
        params: templateParams,
        querystring: noQuery,
        response: withErrors({
          200: dataResponse({
            type: 'object',
            required: ['templateId', 'deleted'],
            properties: { templateId: { type: 'integer' }, deleted: { type: 'boolean' } },
          }),
        }),
      },
    },
    async (req) => {
      const serverId = Number(req.params.serverId);
      const id = Number(req.params.templateId);
      if (!(await deps.store.templates.delete(serverId, id))) throw notFound(id);
      req.log.info({ event: 'template.deleted', serverId, templateId: id }, 'template deleted');
      return { data: { templateId: id, deleted: true } };
    },
  );
}
