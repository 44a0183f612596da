import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { registerAccountStatistics, registerStatistics } from './statistics.js';
import { registerAccountQueue, registerServerQueue } from './queue.js';
import { registerRecipientSearch } from './search.js';
import { registerMessageDetail, type DetailDeps } from './detail.js';
import { registerMessageContent } from './content.js';

/** The reporting routes, registered inside the authenticated `/servers/:serverId` scope. A plain list: one line per route. */
export function registerReportRoutes(scope: FastifyInstance, deps: { store: Store; now: () => number; detail?: Omit<DetailDeps, 'store'> }): void {
  registerStatistics(scope, deps.store);
  registerRecipientSearch(scope, deps.store);
  registerMessageDetail(scope, { store: deps.store, ...deps.detail });
  registerServerQueue(scope, deps.store);
  registerMessageContent(scope, { store: deps.store, ...deps.detail });
}

/** The account-wide reports (`/account/...`), registered in the scope of routes that name no server. */
export function registerAccountReportRoutes(scope: FastifyInstance, deps: { store: Store }): void {
  registerAccountStatistics(scope, deps.store);
  registerAccountQueue(scope, deps.store);
}
