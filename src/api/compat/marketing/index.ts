/**
 * SocketLabs' Marketing API v1 (wire format §5) under `/marketing/v1`: contact lists, contacts and
 * custom fields of one server, and sends to a list, authenticated with HTTP Basic (ServerId : management key). Errors
 * are `{"message": "..."}`. Answers are JSON, or XML when Accept prefers it (xml.ts). docs/marketing-api.md is the reference.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../../store/store.js';
import type { AuthThrottle } from '../../../accept/auth-throttle.js';
import type { VerifiedDomains } from '../../../domains/verified-domains.js';
import { marketingAuth } from './auth.js';
import { MarketingError, marketingErrorHandler, sendMarketingError } from './errors.js';
import { registerListRoutes } from './lists.js';
import { registerListContactRoutes } from './list-contacts.js';
import { registerContactRoutes } from './contacts.js';
import { registerCustomFieldRoutes } from './custom-fields.js';
import { registerListSendRoutes } from './list-sends.js';
import { registerListImportRoutes } from './list-imports.js';
import { ImportJobs } from '../../../marketing/import-jobs.js';
import type { Sessions } from '../../../accept/sessions.js';
import { sessionOf } from '../../v2/auth.js';
import { audit } from '../../v2/users/wire.js';
import { isSafeMethod } from '../../../core/users.js';
import { marketingAnswerFormat, requireXmlNames } from './xml.js';
import { indexRoutes, pathOf } from '../../route-index.js';

export const MARKETING_PREFIX = '/marketing/v1';

export interface MarketingRouteDeps {
  store: Store;
  now: () => number;
  /** The verified-From rule of the Injection API (domains/verified-domains.ts), for sends to a list; absent: not enforced. */
  verifiedFrom?: VerifiedDomains;
  /** Called after a send to a list is accepted (wakes this process's expander). */
  onListSend?: () => void;
}
export interface MarketingDeps extends MarketingRouteDeps {
  /** Failed authentications per client (its own instance: failures here do not lock out other APIs). */
  throttle: AuthThrottle;
  /** The control panel's sessions (cookie + X-Postline-Server); without them only keys are accepted. */
  sessions?: Sessions;
  /** Origins besides the request's own whose cookie-authenticated changes are accepted (the public URL's). */
  trustedOrigins?: readonly string[];
}

export function registerMarketingApi(app: FastifyInstance, deps: MarketingDeps): void {
  app.register(
    async (m) => {
      m.addHook('onRoute', requireXmlNames);
      // Every answer, refusals included, in JSON or XML by Accept: handlers only ever answer JSON.
      m.addHook('onSend', marketingAnswerFormat);
      const routes = indexRoutes(m);
      m.setErrorHandler(marketingErrorHandler);
      // Unknown paths (404) and wrong methods (405 with Allow) answer in this API's error shape.
      m.setNotFoundHandler((req, reply) => {
        const allowed = routes.allowedMethods(pathOf(req.url));
        if (allowed.length === 0) return sendMarketingError(reply, new MarketingError(404, `no route ${req.method} ${pathOf(req.url)}`));
        return sendMarketingError(
          reply.header('allow', allowed.join(', ')),
          new MarketingError(405, `${pathOf(req.url)} does not take ${req.method}; it takes ${allowed.join(', ')}`),
        );
      });
      m.addHook('onRequest', marketingAuth(deps));
      // The panel's changes are audited as on the v2 API: one row per state-changing request made with a session.
      m.addHook('onResponse', async (req, reply) => {
        const live = sessionOf(req);
        if (!live || isSafeMethod(req.method)) return;
        await audit(deps, req, {
          accountId: live.user.accountId,
          userId: live.user.id,
          action: 'request',
          target: `${req.method} ${req.routeOptions.url ?? pathOf(req.url)}`,
          detail: { status: reply.statusCode, path: pathOf(req.originalUrl) },
        });
      });
      registerListRoutes(m, deps);
      registerListContactRoutes(m, deps);
      registerContactRoutes(m, deps);
      registerCustomFieldRoutes(m, deps);
      registerListSendRoutes(m, deps);
      const imports = new ImportJobs(deps.store, deps.now, (job, err) =>
        m.log.error({ err, event: 'marketing.import_failed', serverId: job.serverId, listId: job.listId, importId: job.id }, 'contact import failed'),
      );
      imports.startBackground();
      m.addHook('onClose', () => imports.stop());
      // Its own scope: the only routes of this API that read text/csv bodies.
      m.register(async (csv) => registerListImportRoutes(csv, { ...deps, imports }));
    },
    { prefix: MARKETING_PREFIX },
  );
}
