import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { registerStatistics } from './statistics.js';
import { registerRecipientSearch } from './search.js';
import { registerMessageDetail, type DetailDeps } from './detail.js';
import { registerMessageContent } from './content.js';

/** The reporting routes, registered inside the authenticated `/servers/:serverId` scope. A plain list: one line per route. */
export function registerReportRoutes(scope: FastifyInstance, deps: { store: Store; now: () => number; detail?: Omit<DetailDeps, 'store'> }): void {
  registerStatistics(scope, deps.store);
  registerRecipientSearch(scope, deps.store);
  registerMessageDetail(scope, { store: deps.store, ...deps.detail });
  registerMessageContent(scope, { store: deps.store, ...deps.detail });
}
