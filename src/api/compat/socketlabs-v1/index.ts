/**
 * SocketLabs' legacy v1 Reporting and Suppression API (wire format §6.3) at its own paths under
 * `/v1`: HTTP Basic with a management or account key as the password, `serverId` in the query,
 * answers in JSON, JSONP, XML or CSV (`type`), errors in this API's own shape (errors.ts), unknown
 * routes included. docs/legacy-v1.md is the reference.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { AuthThrottle } from '../../../accept/auth-throttle.js';
import { legacyV1Auth } from './auth.js';
import { sendV1Error, v1ErrorHandler } from './errors.js';
import { V1Error } from './v1-error.js';
import { registerReportRoutes } from './reports.js';
import { registerSuppressionRoutes } from './suppressions.js';

export const LEGACY_V1_PREFIX = '/v1';
/** A body is not read (parameters are in the query); clients that send a form anyway are not refused for it. */
const IGNORED_BODY_LIMIT = 64 * 1024;

export interface LegacyV1Deps {
  store: Store;
  now: () => number;
  /** Failed authentications per client (its own instance: failures here do not lock out other APIs). */
  throttle: AuthThrottle;
}

export function registerLegacyV1Api(app: FastifyInstance, deps: LegacyV1Deps): void {
  app.register(
    async (v1) => {
      v1.setErrorHandler(v1ErrorHandler(deps.now));
      v1.setNotFoundHandler((req, reply) => sendV1Error(req, reply, new V1Error('NotFound', `no route ${req.method} ${req.url.split('?')[0]}`), deps.now()));
      v1.removeAllContentTypeParsers();
      v1.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: IGNORED_BODY_LIMIT }, (_req, _body, done) => done(null, undefined));
      v1.register(async (routes) => {
        routes.addHook('onRequest', legacyV1Auth(deps));
        registerReportRoutes(routes, deps);
        registerSuppressionRoutes(routes, deps);
      });
    },
    { prefix: LEGACY_V1_PREFIX },
  );
}
