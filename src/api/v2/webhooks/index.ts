import type { FastifyInstance } from 'fastify';
import { registerCreate } from './create.js';
import { registerList } from './list.js';
import { registerGet } from './get.js';
import { registerUpdate } from './update.js';
import { registerDelete } from './delete.js';
import { registerValidate } from './validate.js';
import { registerRotateSecret } from './rotate-secret.js';
import { registerRotateValidationKey } from './rotate-validation-key.js';
import { registerAttempts } from './attempts.js';
import { registerReplay } from './replay.js';
import { registerTestEvent } from './test-event.js';
import type { WebhookRouteDeps } from './wire.js';

/** The webhook-endpoint routes, registered inside the authenticated `/servers/:serverId` scope. */
export function registerWebhookRoutes(scope: FastifyInstance, deps: WebhookRouteDeps): void {
  registerCreate(scope, deps);
  registerList(scope, deps);
  registerGet(scope, deps);
  registerUpdate(scope, deps);
  registerDelete(scope, deps);
  registerValidate(scope, deps);
  registerRotateSecret(scope, deps);
  registerRotateValidationKey(scope, deps);
  registerAttempts(scope, deps);
  registerReplay(scope, deps);
  registerTestEvent(scope, deps);
}
