import type { FastifyInstance } from 'fastify';
import { ImportRefused } from '../../../marketing/contact-import.js';
import { MAX_LISTED_REJECTS, type ImportJobs } from '../../../marketing/import-jobs.js';
import type { ContactImport } from '../../../store/contact-imports.js';
import { MarketingError, withErrors } from './errors.js';
import { serverOf } from './auth.js';
import { noList } from './lists.js';
import { idProperty, MARKETING_SECURITY } from './wire.js';
import type { MarketingRouteDeps } from './index.js';

/** The largest CSV a request may carry (about 150,000 rows of a typical export); larger files go through `postline contacts import`. */
export const MAX_IMPORT_BODY_BYTES = 16 * 1024 * 1024;

const listParams = { type: 'object', required: ['listId'], additionalProperties: false, properties: { listId: idProperty } } as const;
const importParams = {
  type: 'object',
  required: ['listId', 'importId'],
  additionalProperties: false,
  properties: { listId: idProperty, importId: idProperty },
} as const;
const noQuery = { type: 'object', additionalProperties: false, properties: {} } as const;
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export const importSchema = {
  type: 'object',
  additionalProperties: false,
  required: [
    'importId',
    'listId',
    'serverId',
    'state',
    'totalRows',
    'rowsDone',
    'imported',
    'updated',
    'rejected',
    'rejectedRows',
    'rejectedNotListed',
    'error',
    'createdOn',
    'finishedOn',
  ],
  properties: {
    importId: { type: 'integer' },
    listId: { type: 'integer' },
    serverId: { type: 'integer' },
    state: { type: 'string', enum: ['running', 'done', 'failed'], description: 'running: rows are being written; done: every row was read; failed: see error' },
    totalRows: { type: 'integer', description: 'rows after the header in the file' },
    rowsDone: { type: 'integer', description: 'rows read so far, good and refused (updated after each batch of 1,000 good rows)' },
    imported: { type: 'integer', description: 'new contacts' },
    updated: { type: 'integer', description: 'contacts that existed: the names and fields in the file replaced the stored ones' },
    rejected: { type: 'integer', description: 'rows refused' },
    rejectedRows: {
      type: 'array',
      description: `the first ${MAX_LISTED_REJECTS} refused rows: the row number (1-based, the header is row 1) and why`,
      items: { type: 'object', additionalProperties: false, required: ['row', 'reason'], properties: { row: { type: 'integer' }, reason: { type: 'string' } } },
    },
    rejectedNotListed: { type: 'integer', description: 'refused rows beyond those listed' },
    error: { type: 'string', nullable: true, description: 'why a failed import stopped (rows before it stay imported)' },
    createdOn: { type: 'string', format: 'date-time' },
    finishedOn: { type: 'string', format: 'date-time', nullable: true },
  },
} as const;

export const importToWire = (j: ContactImport) => ({
  importId: j.id,
  listId: j.listId,
  serverId: j.serverId,
  state: j.state,
  totalRows: j.totalRows,
  rowsDone: j.rowsDone,
  imported: j.imported,
  updated: j.updated,
  rejected: j.rejected,
  rejectedRows: j.rejectedRows.slice(),
  rejectedNotListed: j.rejected - j.rejectedRows.length,
  error: j.error,
  createdOn: iso(j.startedAt)!,
  finishedOn: iso(j.finishedAt),
});

/**
 * Postline's own: POST /lists/{listId}/imports takes a CSV file (text/csv, the `postline contacts
 * import` format) and answers 202 with a job; GET /lists/{listId}/imports/{importId} shows its
 * progress and refused rows (marketing/import-jobs.ts). Registered in a scope of its own, the
 * only one of this API that reads text/csv bodies.
 */
export function registerListImportRoutes(scope: FastifyInstance, deps: MarketingRouteDeps & { imports: ImportJobs }): void {
  scope.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: MAX_IMPORT_BODY_BYTES }, (_req, body, done) => done(null, body));

  scope.post<{ Params: { listId: number }; Body: string }>(
    '/lists/:listId/imports',
    {
      config: { marketingXml: { root: 'import' } },
      bodyLimit: MAX_IMPORT_BODY_BYTES,
      schema: {
        summary: 'Import contacts into a list from a CSV file (a job: poll its progress)',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: listParams,
        querystring: noQuery,
        body: {
          type: 'string',
          description:
            'The CSV file as text/csv: a header row (emailAddress, firstName, lastName, unsubscribed, custom fields), then one contact per row. ' +
            'An unknown or repeated column refuses the file (400) before anything is written.',
        },
        response: withErrors({ 202: importSchema }),
      },
    },
    async (req, reply) => {
      const serverId = serverOf(req);
      if (typeof req.body !== 'string') throw new MarketingError(415, 'send the CSV file as text/csv');
      if (!(await deps.store.marketing.getList(serverId, req.params.listId))) throw noList(req.params.listId);
      let job: ContactImport;
      try {
        job = await deps.imports.start(serverId, req.params.listId, req.body);
      } catch (err) {
        if (err instanceof ImportRefused) throw new MarketingError(400, err.message, 'file');
        throw err;
      }
      req.log.info({ event: 'marketing.import_started', serverId, listId: job.listId, importId: job.id, rows: job.totalRows }, 'contact import started');
      return reply.code(202).send(importToWire(job));
    },
  );

  scope.get<{ Params: { listId: number; importId: number } }>(
    '/lists/:listId/imports/:importId',
    {
      config: { marketingXml: { root: 'import' } },
      schema: {
        summary: 'How far a contact import has got, and the rows it refused',
        tags: ['marketing'],
        security: MARKETING_SECURITY,
        params: importParams,
        querystring: noQuery,
        response: withErrors({ 200: importSchema }),
      },
    },
    async (req) => {
      const job = await deps.imports.get(serverOf(req), req.params.listId, req.params.importId);
      if (!job) throw new MarketingError(404, `no import ${req.params.importId} of list ${req.params.listId} (finished imports are kept for 7 days)`);
      return importToWire(job);
    },
  );
}
