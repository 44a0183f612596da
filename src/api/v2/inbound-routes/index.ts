import type { FastifyInstance } from 'fastify';
import { registerCreate } from './create.js';
import { registerList } from './list.js';
import { registerGet } from './get.js';
import { registerUpdate } from './update.js';
import { registerDelete } from './delete.js';
import { registerValidate } from './validate.js';
import { registerRotateSecret } from './rotate-secret.js';
import { registerMessages } from './messages.js';
import { registerReplay } from './replay.js';
import type { InboundRouteDeps } from './wire.js';

/** The inbound-route routes, registered inside the authenticated `/servers/:serverId` scope. */
export function registerInboundRouteRoutes(scope: FastifyInstance, deps: InboundRouteDeps): void {
  registerCreate(scope, deps);
  registerList(scope, deps);
  registerGet(scope, deps);
  registerUpdate(scope, deps);
  registerDelete(scope, deps);
  registerValidate(scope, deps);
  registerRotateSecret(scope, deps);
  registerMessages(scope, deps);
  registerReplay(scope, deps);
}
