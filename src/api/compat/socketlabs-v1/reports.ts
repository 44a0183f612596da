/**
 * GET /v1/messagesFailed|messagesQueued|messagesProcessed|messagesFblReported|messagesOpenClick:
 * the server's events of one kind, oldest first, `count` (≤ 500) from `index` on, in a date range
 * of the caller's time zone, optionally of one mailingId or messageId, as
 * `{timestamp, totalCount, totalPages, count, collection}`. GET /v1/accountData: the server's
 * figures for the current month as `{timestamp, object}`. docs/legacy-v1.md is the reference.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { callerOf } from './auth.js';
import { outputOf, pageOf, rangeOf, textFilter, timeZoneOf } from './params.js';
import { columnsOf, LISTS, recordOf, V1_LIST_METHODS, type V1ListMethod } from './items.js';
import { accountData, ACCOUNT_DATA_FIELDS } from './account-data.js';
import { sendV1 } from './respond.js';
import { accountDataDoc, listDoc } from './openapi.js';
import type { V1Record } from './render.js';

export function registerReportRoutes(scope: FastifyInstance, deps: { store: Store; now: () => number }): void {
  for (const method of V1_LIST_METHODS) registerList(scope, deps, method);
  scope.get('/accountData', { config: { openapi: accountDataDoc } }, async (req, reply) => {
    const { serverId, idName, params } = callerOf(req);
    const out = outputOf(params);
    const object = await accountData(deps.store, serverId, idName, timeZoneOf(params), deps.now());
    return sendV1(req, reply, out, {
      body: { timestamp: deps.now(), object },
      columns: ACCOUNT_DATA_FIELDS(idName),
      records: [object],
      serverId,
      filename: `accountData-${serverId}.csv`,
    });
  });
}

function registerList(scope: FastifyInstance, deps: { store: Store; now: () => number }, method: V1ListMethod): void {
  scope.get(`/${method}`, { config: { openapi: listDoc(method) } }, async (req, reply) => {
    const { serverId, idName, params } = callerOf(req);
    // Every parameter is checked before the store is read.
    const out = outputOf(params);
    const page = pageOf(params);
    const timeZone = timeZoneOf(params);
    const range = rangeOf(params, timeZone);
    const query = { types: LISTS[method].types, ...range, mailingId: textFilter(params, 'mailingId'), messageId: textFilter(params, 'messageId') };
    const { rows, total } = await deps.store.reports.searchEvents(serverId, query, { limit: page.count, offset: page.index });
    const records: V1Record[] = [];
    for (const row of rows) {
      const r = recordOf(method, row, idName, timeZone);
      if (r.ok) records.push(r.record);
      else req.log.warn({ event: 'legacy_v1.bad_event', serverId, error: r.error }, 'an event could not be listed');
    }
    return sendV1(req, reply, out, {
      body: {
        timestamp: deps.now(),
        totalCount: total,
        totalPages: page.count === 0 ? 0 : Math.ceil(total / page.count),
        count: records.length,
        collection: records,
      },
      columns: columnsOf(method, idName),
      records,
      serverId,
      filename: `${method}-${serverId}.csv`,
    });
  });
}
