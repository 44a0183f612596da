import type { FastifyInstance } from 'fastify';
import { withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { notFound, templateParams, templateSchema, toWire, type TemplateParams, type TemplateRouteDeps } from './wire.js';

/** GET /servers/:serverId/templates/:templateId[?version=N] — the current version, or version N. */
export function registerGet(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  scope.get<{ Params: TemplateParams; Querystring: { version?: number } }>(
    '/templates/:templateId',
    {
      schema: {
        summary: 'Get a stored template (current or one version)',
        tags: ['templates'],
        params: templateParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { version: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'a saved version (default: the current one)' } },
        },
        response: withErrors({ 200: dataResponse(templateSchema) }),
      },
    },
    async (req) => {
      const t = await deps.store.templates.get(Number(req.params.serverId), Number(req.params.templateId), req.query.version);
      if (!t) throw req.query.version === undefined ? notFound(req.params.templateId) : notFound(`${req.params.templateId} version ${req.query.version}`);
      return { data: toWire(t) };
    },
  );
}
