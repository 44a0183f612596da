import type { FastifyInstance } from 'fastify';
import { noQuery, withErrors } from '../schemas.js';
import { notFound, summarySchema, templateParams, toSummary, type TemplateParams, type TemplateRouteDeps } from './wire.js';

/** GET /servers/:serverId/templates/:templateId/versions — every saved version, newest first (without bodies). */
export function registerVersions(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  scope.get<{ Params: TemplateParams }>(
    '/templates/:templateId/versions',
    {
      schema: {
        summary: "List a stored template's versions",
        tags: ['templates'],
        params: templateParams,
        querystring: noQuery,
        response: withErrors({
          200: { type: 'object', required: ['data', 'total'], properties: { data: { type: 'array', items: summarySchema }, total: { type: 'integer' } } },
        }),
      },
    },
    async (req) => {
      const versions = await deps.store.templates.versions(Number(req.params.serverId), Number(req.params.templateId));
      if (!versions) throw notFound(req.params.templateId);
      return { data: versions.map(toSummary), total: versions.length };
    },
  );
}
