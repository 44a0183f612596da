import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { registerStatistics } from './statistics.js';

/** The reporting routes, registered inside the authenticated `/servers/:serverId` scope: one line per route. */
export function registerReportRoutes(scope: FastifyInstance, deps: { store: Store; now: () => number }): void {
  registerStatistics(scope, deps.store);
}
