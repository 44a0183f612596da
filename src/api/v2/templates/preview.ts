import type { FastifyInstance, FastifyReply } from 'fastify';
import type { StoredTemplate } from '../../../store/store.js';
import { buildMergeLookup, compileTemplate, placeholderNames, render, renderHeader, type MergeRow } from '../../../merge/template.js';
import { ApiError } from '../errors.js';
import { withErrors } from '../schemas.js';
import { dataResponse } from '../paging.js';
import { notFound, templateParams, type TemplateParams, type TemplateRouteDeps } from './wire.js';

/** Longest `mergeData` query value: a preview's sample values, not a bulk send (a URL stays under Node's 16 KB header limit anyway). */
export const MAX_PREVIEW_MERGE_CHARS = 8000;

/**
 * The policy of the rendered HTML: a sandbox (no scripts, no forms, no same-origin access: an
 * opaque origin, so the template's HTML cannot reach the panel or the API), no script source at
 * all, inline styles and remote images as an email client shows them, and framing by this
 * origin only (the panel's preview `<iframe>`).
 */
export const PREVIEW_CSP = [
  'sandbox',
  "default-src 'none'",
  "style-src 'unsafe-inline' https:",
  'img-src https: http: data:',
  'font-src https: data:',
  "frame-ancestors 'self'",
  "base-uri 'none'",
  "form-action 'none'",
].join('; ');

interface PreviewQuery {
  version?: number;
  mergeData?: string;
}

const previewQuery = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'integer', minimum: 1, maximum: 2_147_483_647, description: 'a saved version (default: the current one)' },
    mergeData: {
      type: 'string',
      maxLength: MAX_PREVIEW_MERGE_CHARS,
      description: 'sample merge values as a JSON object of strings, e.g. {"FirstName":"Ann"}; a placeholder with no value stays as written',
    },
  },
} as const;

const nullableText = { type: ['string', 'null'] } as const;
const previewSchema = {
  type: 'object',
  required: ['templateId', 'version', 'fields', 'subject', 'htmlBody', 'textBody', 'ampBody'],
  properties: {
    templateId: { type: 'integer' },
    version: { type: 'integer', description: 'the version rendered' },
    fields: {
      type: 'array',
      items: { type: 'string' },
      description: "the template's %%Field%% names, in order of first appearance (subject, HTML, text, AMP)",
    },
    subject: nullableText,
    htmlBody: nullableText,
    textBody: nullableText,
    ampBody: nullableText,
  },
} as const;

/** `mergeData` as merge rows, or 400 `validation_failed` naming it. */
function mergeRowsOf(raw: string | undefined): MergeRow[] {
  if (raw === undefined || raw === '') return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    throw new ApiError('validation_failed', 'mergeData must be a JSON object of strings, e.g. {"FirstName":"Ann"}', 'mergeData');
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed))
    throw new ApiError('validation_failed', 'mergeData must be a JSON object of strings, e.g. {"FirstName":"Ann"}', 'mergeData');
  return Object.entries(parsed).map(([field, value]) => {
    if (typeof value !== 'string') throw new ApiError('validation_failed', `mergeData.${field} must be a string`, 'mergeData');
    return { field, value };
  });
}

/**
 * The template rendered as a message with these merge values would be: the same merge code as a
 * send with ApiTemplate (src/merge), the subject as a header (line breaks in a value become spaces).
 */
export function renderPreview(t: StoredTemplate, rows: readonly MergeRow[]) {
  const lookup = buildMergeLookup(rows, undefined);
  const body = (s: string | null) => (s === null ? null : render(compileTemplate(s), lookup));
  const seen = new Set<string>();
  const fields: string[] = [];
  for (const s of [t.subject, t.htmlBody, t.textBody, t.ampBody]) {
    for (const name of placeholderNames(s ?? '')) {
      if (seen.has(name.toLowerCase())) continue;
      seen.add(name.toLowerCase());
      fields.push(name);
    }
  }
  return {
    templateId: t.id,
    version: t.version,
    fields,
    subject: t.subject === null ? null : renderHeader(compileTemplate(t.subject), lookup),
    htmlBody: body(t.htmlBody),
    textBody: body(t.textBody),
    ampBody: body(t.ampBody),
  };
}

/**
 * GET /servers/:serverId/templates/:templateId/preview[?version=N&mergeData={...}] — the template
 * merged with sample values, as JSON; `.../preview/html` — only the HTML body, as a page of its own
 * under PREVIEW_CSP, for the panel's sandboxed `<iframe>`. Both are reads (a viewer may preview).
 */
export function registerPreview(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  const load = async (params: TemplateParams, q: PreviewQuery) => {
    const rows = mergeRowsOf(q.mergeData);
    const t = await deps.store.templates.get(Number(params.serverId), Number(params.templateId), q.version);
    if (!t) throw q.version === undefined ? notFound(params.templateId) : notFound(`${params.templateId} version ${q.version}`);
    return renderPreview(t, rows);
  };

  scope.get<{ Params: TemplateParams; Querystring: PreviewQuery }>(
    '/templates/:templateId/preview',
    {
      schema: {
        summary: 'Preview a stored template with sample merge data',
        tags: ['templates'],
        params: templateParams,
        querystring: previewQuery,
        response: withErrors({ 200: dataResponse(previewSchema) }),
      },
    },
    async (req) => ({ data: await load(req.params, req.query) }),
  );

  scope.get<{ Params: TemplateParams; Querystring: PreviewQuery }>(
    '/templates/:templateId/preview/html',
    {
      schema: {
        summary: "A stored template's HTML body with sample merge data, as a sandboxed page",
        tags: ['templates'],
        params: templateParams,
        querystring: previewQuery,
        response: withErrors({
          200: { description: `the rendered htmlBody; Content-Security-Policy: ${PREVIEW_CSP}`, content: { 'text/html': { schema: { type: 'string' } } } },
        }),
      },
    },
    async (req, reply: FastifyReply) => {
      const p = await load(req.params, req.query);
      if (p.htmlBody === null) throw new ApiError('not_found', `template ${req.params.templateId} has no HTML body`);
      return reply
        .header('content-type', 'text/html; charset=utf-8')
        .header('content-security-policy', PREVIEW_CSP)
        .header('x-content-type-options', 'nosniff')
        .header('referrer-policy', 'no-referrer')
        .header('cache-control', 'no-store')
        .send(p.htmlBody);
    },
  );
}
