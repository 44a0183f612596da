import type { FastifyInstance } from 'fastify';
import { registerCreate } from './create.js';
import { registerList } from './list.js';
import { registerGet } from './get.js';
import { registerVersions } from './versions.js';
import { registerUpdate } from './update.js';
import { registerDelete } from './delete.js';
import { registerPreview } from './preview.js';
import type { TemplateRouteDeps } from './wire.js';

/** `/servers/:serverId/templates...`: stored templates, the content a message names with ApiTemplate. */
export function registerTemplateRoutes(scope: FastifyInstance, deps: TemplateRouteDeps): void {
  registerCreate(scope, deps);
  registerList(scope, deps);
  registerGet(scope, deps);
  registerVersions(scope, deps);
  registerUpdate(scope, deps);
  registerDelete(scope, deps);
  registerPreview(scope, deps);
}
