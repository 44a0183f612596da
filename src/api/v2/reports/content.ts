import type { FastifyInstance } from 'fastify';
import PostalMime from 'postal-mime';
import { ApiError } from '../errors.js';
import { serverIdParams, withErrors } from '../schemas.js';
import { pagedResponse, pageOf } from '../paging.js';
import { render, type DetailDeps } from './detail.js';
import { searchQueryProperties, searchRowProperties, toStoreQuery, toWire, type SearchQuery } from './search-wire.js';

/**
 * The rendered message of a recipient, taken apart for a reader (the control panel's message view
 * and sandbox inbox): headers, text, attachments, a preview, and the HTML part served on its own
 * URL with a Content-Security-Policy that sandboxes it. Parsing happens here with postal-mime (the
 * project's MIME parser), so the browser needs no MIME parser and the HTML never passes through
 * the panel's own page.
 *
 * Both render without engagement tracking: reading a message in the panel must not count as an
 * open or a click, and its links are the ones the sender wrote. (Message detail's `rendered` keeps
 * tracking, to be the message as sent.)
 */

const PREVIEW_CHARS = 160;

/** The HTML part's policy: no script (sandbox without allow-scripts), nothing loaded but inline styles and data: images. */
export const MESSAGE_HTML_CSP =
  "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:; frame-ancestors 'self'; form-action 'none'; base-uri 'none'";
/** The same, with remote images allowed: only when the reader asked for them ("Load remote images"). */
export const MESSAGE_HTML_CSP_REMOTE_IMAGES = MESSAGE_HTML_CSP.replace('img-src data: cid:', 'img-src data: cid: https: http:');

type Parsed = Awaited<ReturnType<typeof PostalMime.parse>>;

async function parse(mime: string): Promise<Parsed> {
  return PostalMime.parse(mime, { attachmentEncoding: 'arraybuffer' });
}

const byteLength = (c: unknown): number => (c instanceof ArrayBuffer ? c.byteLength : typeof c === 'string' ? Buffer.byteLength(c) : 0);

/** Each retained recipient of the selection, with its message rendered (untracked); null when the body is gone. */
async function renderSelection(deps: DetailDeps, serverId: number, q: SearchQuery & { recipientId?: string }) {
  const query = { ...toStoreQuery(q), recipientId: q.recipientId };
  const { rows, total } = await deps.store.reports.searchRecipients(serverId, query, pageOf(q));
  const detail = await deps.store.reports.loadRecipientDetail(
    serverId,
    rows.map((r) => r.recipientId),
  );
  const untracked: DetailDeps = { ...deps, tracking: null };
  const out = [];
  for (const row of rows) {
    const r = detail.recipients.get(row.recipientId);
    if (!r) continue;
    const template = detail.templates.get(r.messageId);
    const mime = template === undefined ? null : await render(untracked, undefined, template, r, detail.events.get(r.id) ?? []);
    out.push({ row, mime });
  }
  return { out, total };
}

const contentSchema = {
  type: 'object',
  required: [...Object.keys(searchRowProperties), 'bodyRetained', 'renderedSubject', 'headers', 'text', 'preview', 'hasHtml', 'attachments'],
  properties: {
    ...searchRowProperties,
    bodyRetained: { type: 'boolean', description: 'false once retention removed the body: the fields below are then empty' },
    renderedSubject: { type: ['string', 'null'], description: 'the Subject as sent to this recipient (merge fields filled in), decoded' },
    headers: {
      type: 'array',
      description: 'the top-level headers of the rendered message, in order, unfolded',
      items: { type: 'object', required: ['name', 'value'], properties: { name: { type: 'string' }, value: { type: 'string' } } },
    },
    text: { type: ['string', 'null'], description: 'the text/plain part, decoded (null when there is none)' },
    preview: { type: 'string', description: `the first ${PREVIEW_CHARS} characters of the text (or of the HTML's text), whitespace collapsed` },
    hasHtml: { type: 'boolean', description: 'whether there is an HTML part (served by reports/messages/html)' },
    attachments: {
      type: 'array',
      items: {
        type: 'object',
        required: ['filename', 'mimeType', 'size', 'disposition', 'contentId'],
        properties: {
          filename: { type: ['string', 'null'] },
          mimeType: { type: 'string' },
          size: { type: 'integer', description: 'decoded size in bytes' },
          disposition: { type: ['string', 'null'], description: 'attachment, inline, or null' },
          contentId: { type: ['string', 'null'] },
        },
      },
    },
  },
} as const;

/** Text for a preview: the text part, or the HTML with its tags and scripts dropped (never shown as HTML). */
function previewOf(mail: Parsed): string {
  const source =
    mail.text ??
    (mail.html ?? '')
      .replace(/<(script|style|head)\b[\s\S]*?<\/\1\s*>/gi, ' ')
      .replace(/<[^>]*>/g, ' ')
      .replace(/&nbsp;/g, ' ')
      .replace(/&amp;/g, '&')
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>');
  const flat = source.replace(/\s+/g, ' ').trim();
  return flat.length > PREVIEW_CHARS ? `${flat.slice(0, PREVIEW_CHARS - 1)}…` : flat;
}

/** `cid:` references to the message's own inline parts, as data: URLs (a browser cannot fetch cid:). */
function inlineCids(html: string, mail: Parsed): string {
  const byCid = new Map<string, string>();
  for (const a of mail.attachments) {
    if (!a.contentId || !(a.content instanceof ArrayBuffer) || !/^image\/[a-z0-9.+-]+$/.test(a.mimeType)) continue;
    byCid.set(a.contentId.replace(/^<|>$/g, '').toLowerCase(), `data:${a.mimeType};base64,${Buffer.from(a.content).toString('base64')}`);
  }
  if (byCid.size === 0) return html;
  return html.replace(/cid:([^"'\s)>]+)/gi, (all, id: string) => byCid.get(decodeURIComponent(id).toLowerCase()) ?? all);
}

/** One recipient's message, parsed; not_found (naming recipientId) when there is no such recipient or its body is gone. */
async function parsedMessageOf(deps: DetailDeps, serverId: number, recipientId: string): Promise<Parsed> {
  const { out } = await renderSelection(deps, serverId, { recipientId, pageSize: 1, pageNumber: 0, sortField: 'queuedTime', sortDirection: 'dsc' });
  const hit = out[0];
  if (!hit) throw new ApiError('not_found', 'no recipient with this recipientId on this server', 'recipientId');
  if (hit.mime === null) throw new ApiError('not_found', 'the message body is no longer retained', 'recipientId');
  return parse(hit.mime);
}

/**
 * A file name for Content-Disposition: an ASCII fallback (quotes, backslashes and controls
 * replaced) and the exact name as RFC 6266 / RFC 8187 `filename*`.
 */
export function contentDisposition(name: string | null | undefined, index: number): string {
  const exact = name && name.trim() !== '' ? name : `attachment-${index + 1}`;
  const ascii = exact.replace(/[^\x20-\x7e]|["\\]/g, '_');
  const encoded = encodeURIComponent(exact).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export function registerMessageContent(scope: FastifyInstance, deps: DetailDeps): void {
  scope.get<{ Params: { serverId: string }; Querystring: SearchQuery & { recipientId?: string } }>(
    '/reports/messages/content',
    {
      schema: {
        summary: "Message content: per recipient, its rendered message's headers, text, attachments and a preview (the HTML part is reports/messages/html)",
        tags: ['reports'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          properties: { ...searchQueryProperties, recipientId: { type: 'string', minLength: 1, maxLength: 64, description: 'one recipient (delivery) id' } },
        },
        response: withErrors({ 200: pagedResponse(contentSchema) }),
      },
    },
    async (req) => {
      const { out, total } = await renderSelection(deps, Number(req.params.serverId), req.query);
      const data = [];
      for (const { row, mime } of out) {
        const base = { ...toWire(row), bodyRetained: mime !== null };
        if (mime === null) {
          data.push({ ...base, renderedSubject: null, headers: [], text: null, preview: '', hasHtml: false, attachments: [] });
          continue;
        }
        const mail = await parse(mime);
        data.push({
          ...base,
          renderedSubject: mail.subject ?? null,
          headers: mail.headers.map((h) => ({ name: h.originalKey, value: h.value })),
          text: mail.text ?? null,
          preview: previewOf(mail),
          hasHtml: typeof mail.html === 'string' && mail.html !== '',
          attachments: mail.attachments.map((a) => ({
            filename: a.filename,
            mimeType: a.mimeType,
            size: byteLength(a.content),
            disposition: a.disposition,
            contentId: a.contentId ?? null,
          })),
        });
      }
      return { data, total };
    },
  );

  scope.get<{ Params: { serverId: string }; Querystring: { recipientId: string; remoteImages: boolean } }>(
    '/reports/messages/html',
    {
      schema: {
        summary:
          "A recipient's HTML part as a page of its own, under a Content-Security-Policy that runs no script and loads nothing remote unless remoteImages=true",
        tags: ['reports'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['recipientId'],
          properties: {
            recipientId: { type: 'string', minLength: 1, maxLength: 64, description: 'the recipient (delivery) id' },
            remoteImages: { type: 'boolean', default: false, description: 'allow images from http: and https: (off: only inline and data: images)' },
          },
        },
        response: withErrors({
          200: { description: 'the HTML part, text/html; charset=utf-8', content: { 'text/html': { schema: { type: 'string' } } } },
        }),
      },
    },
    async (req, reply) => {
      const mail = await parsedMessageOf(deps, Number(req.params.serverId), req.query.recipientId);
      if (typeof mail.html !== 'string' || mail.html === '') throw new ApiError('not_found', 'this message has no HTML part', 'recipientId');
      return reply
        .headers({
          'content-type': 'text/html; charset=utf-8',
          'content-security-policy': req.query.remoteImages ? MESSAGE_HTML_CSP_REMOTE_IMAGES : MESSAGE_HTML_CSP,
          'x-content-type-options': 'nosniff',
          // Remote images (when allowed) learn nothing of the panel's URL.
          'referrer-policy': 'no-referrer',
          'cache-control': 'no-store',
        })
        .send(inlineCids(mail.html, mail));
    },
  );

  scope.get<{ Params: { serverId: string }; Querystring: { recipientId: string; index: number } }>(
    '/reports/messages/attachment',
    {
      schema: {
        summary:
          "One attachment of a recipient's message, as a download (Content-Disposition: attachment; served as application/octet-stream, never rendered by the browser)",
        tags: ['reports'],
        params: serverIdParams,
        querystring: {
          type: 'object',
          additionalProperties: false,
          required: ['recipientId', 'index'],
          properties: {
            recipientId: { type: 'string', minLength: 1, maxLength: 64, description: 'the recipient (delivery) id' },
            index: {
              type: 'integer',
              minimum: 0,
              maximum: 999,
              description: 'the attachment, counted from 0 in the order reports/messages/content lists them',
            },
          },
        },
        response: withErrors({
          200: { description: 'the attachment bytes', content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } } },
        }),
      },
    },
    async (req, reply) => {
      const mail = await parsedMessageOf(deps, Number(req.params.serverId), req.query.recipientId);
      const a = mail.attachments[req.query.index];
      if (!a) throw new ApiError('not_found', `the message has ${mail.attachments.length} attachment(s); there is no index ${req.query.index}`, 'index');
      const bytes = a.content instanceof ArrayBuffer ? Buffer.from(a.content) : Buffer.from(String(a.content));
      return reply
        .headers({
          // Mail content is hostile: whatever type the sender declared, the browser saves it and never renders it here.
          'content-type': 'application/octet-stream',
          'content-disposition': contentDisposition(a.filename, req.query.index),
          'x-content-type-options': 'nosniff',
          'content-security-policy': "sandbox; default-src 'none'",
          'cache-control': 'no-store',
        })
        .send(bytes);
    },
  );
}
