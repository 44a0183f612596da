import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import { registerLookup } from './lookup.js';
import { registerAdd } from './add.js';
import { registerRemove } from './remove.js';
import { registerSearch } from './search.js';
import { registerDownload } from './download.js';
import { registerBulkRemove } from './bulk-remove.js';
import { registerBulkAdd } from './bulk-add.js';

/** The suppression-list routes, registered inside the authenticated `/servers/:serverId` scope. */
export function registerSuppressionRoutes(scope: FastifyInstance, deps: { store: Store; now: () => number }): void {
  registerLookup(scope, deps.store);
  registerAdd(scope, deps.store, deps.now);
  registerRemove(scope, deps.store);
  registerSearch(scope, deps.store);
  registerDownload(scope, deps.store);
  registerBulkRemove(scope, deps.store);
  registerBulkAdd(scope, deps.store, deps.now);
}
