/**
 * The management API, v2, at SocketLabs' `/v2/...` and at `/api/v2/...` (one route table: see
 * paths.ts): SocketLabs' v2 conventions (§6.1) — management keys
 * as Bearer or Basic, `{data}` and `{data, total}` envelopes, pageSize/pageNumber/sortField/
 * sortDirection — and one error shape, `{error: {code, message, field?}}`, with codes from
 * core/api-v2-codes.ts. docs/api-v2.md is the reference; new resources register their routes
 * in the `/servers/:serverId` scope below and inherit its authentication and error handling.
 */
import type { FastifyInstance } from 'fastify';
import type { Store } from '../../store/store.js';
import type { AuthThrottle } from '../../accept/auth-throttle.js';
import { ApiError, sendApiError, toApiError } from './errors.js';
import { managementAuth, managerAuth, sessionOf } from './auth.js';
import type { Sessions } from '../../accept/sessions.js';
import { isSafeMethod } from '../../core/users.js';
import { registerSessionRoutes } from './session/index.js';
import { registerUserRoutes } from './users/index.js';
import { audit } from './users/wire.js';
import { registerServerCollectionRoutes, registerServerRoutes } from './servers/index.js';
import { registerAccountKeyRoutes, registerServerKeyRoutes } from './api-keys/index.js';
import { registerSuppressionRoutes } from './suppressions/index.js';
import { registerWebhookRoutes } from './webhooks/index.js';
import type { UrlGuard } from '../../net/url-guard.js';
import type { DnsLookup } from '../../dns/lookup.js';
import type { RecordSettings } from '../../domains/records.js';
import type { DomainChanges } from '../../core/domain-changes.js';
import { SendingDomainService } from '../../domains/service.js';
import { registerSendingDomainRoutes } from './sending-domains/index.js';
import { registerBounceDomainRoutes } from './bounce-domains/index.js';
import { registerTrackingDomainRoutes } from './tracking-domains/index.js';
import { CustomDomains } from '../../custom-domains/service.js';
import type { CustomDomainTargets } from '../../custom-domains/records.js';
import { registerInboundRouteRoutes } from './inbound-routes/index.js';
import { registerAccountReportRoutes, registerReportRoutes } from './reports/index.js';
import type { DetailDeps } from './reports/detail.js';
import { registerServerCredentials, registerSubaccountRoutes } from './subaccounts/index.js';
import { InjectionCredentials } from '../../accept/injection-credentials.js';
import { registerTemplateRoutes } from './templates/index.js';
import { indexRoutes, pathOf } from '../route-index.js';
import { API_V2_PREFIX } from './paths.js';
import { registerShapingRoute } from './delivery/shaping.js';
import type { ShapingView } from '../../delivery/shaping/shaping-view.js';

export interface ApiV2Deps {
  store: Store;
  now: () => number;
  /** Failed authentications per client (its own instance: v2 failures do not lock out injection). */
  throttle: AuthThrottle;
  /** Webhook endpoints: the URL guard (the operator's address rule) and the Validation POST's timeout. */
  webhooks: { guard: UrlGuard; timeoutMs?: number };
  /** Sending domains: what the records point at, and the in-process notice of changes (signer, verified-From rule). */
  sendingDomains: { records: RecordSettings; changes: DomainChanges | null };
  /** DNS through the configured servers (POSTLINE_DNS_SERVERS): sending, bounce and tracking domain verification. */
  dns: DnsLookup;
  /** Custom bounce and tracking domains: the CNAME targets, and what to tell when a server's domains change. */
  customDomains: { targets: CustomDomainTargets; changed?: (serverId: number) => Promise<void> };
  /** Inbound routes: the MX routing table's invalidation and the bounce domain no route may claim. */
  inbound?: { onRoutesChanged?: () => void; bounceDomain?: string };
  /** Message detail renders messages as delivery composes them: its hostname and the tracking service. */
  reports?: Omit<DetailDeps, 'store'>;
  /** The Injection API's URL as clients reach it: the `gateway` of the credentials routes. */
  injectionGateway: () => string;
  /** The control panel's sign-in sessions (docs/panel-auth.md); without them the session routes are absent and only keys are accepted. */
  sessions?: Sessions;
  /** Origins besides the request's own whose cookie-authenticated changes are accepted (the public URL's). */
  trustedOrigins?: readonly string[];
  /** The delivery role's traffic shaping in this process, or null (another process delivers, or shaping is off). */
  shaping?: () => ShapingView | null;
}

export function registerApiV2(app: FastifyInstance, deps: ApiV2Deps): void {
  app.register(
    async (v2) => {
      const routes = indexRoutes(v2);
      v2.setErrorHandler((err, req, reply) => {
        const known = toApiError(err as Parameters<typeof toApiError>[0]);
        if (known) {
          reply.log.info({ event: 'api_v2.rejected', code: known.code, field: known.field, method: req.method, url: pathOf(req.originalUrl) }, known.message);
          return sendApiError(reply, known);
        }
        reply.log.error({ err, event: 'api_v2.internal_error', method: req.method, url: req.originalUrl }, 'management API request failed');
        return sendApiError(reply, new ApiError('internal_error', 'internal error; the request may be retried'));
      });
      // Unknown paths and wrong methods answer in this API's error shape, with the path as the client wrote it.
      v2.setNotFoundHandler((req, reply) => {
        const allowed = routes.allowedMethods(pathOf(req.url));
        if (allowed.length === 0) return sendApiError(reply, new ApiError('not_found', `no route ${req.method} ${pathOf(req.originalUrl)}`));
        reply.header('allow', allowed.join(', '));
        return sendApiError(
          reply,
          new ApiError('method_not_allowed', `${pathOf(req.originalUrl)} does not take ${req.method}; it takes ${allowed.join(', ')}`),
        );
      });
      // Fastify reads text/plain bodies as strings by default; the management API takes JSON only,
      // so such a body is 415 unsupported_media_type like any other type, not a 400 about its shape.
      v2.removeContentTypeParser('text/plain');

      // The audit log: every state-changing request made with a session, refused ones included
      // (the session was recognised before the CSRF and role checks), as one row once answered.
      v2.addHook('onResponse', async (req, reply) => {
        const live = sessionOf(req);
        if (!live || isSafeMethod(req.method)) return;
        await audit(deps, req, {
          accountId: live.user.accountId,
          userId: live.user.id,
          action: 'request',
          target: `${req.method} ${req.routeOptions.url ?? pathOf(req.url)}`,
          detail: { status: reply.statusCode, path: pathOf(req.url) },
        });
      });
      if (deps.sessions) {
        const sessions = deps.sessions;
        v2.register(async (open) => registerSessionRoutes(open, { store: deps.store, now: deps.now, sessions, trustedOrigins: deps.trustedOrigins }));
      }

      const serverChanged = (serverId: number): void => {
        deps.sendingDomains.changes?.notify(serverId);
        // A failed reload is caught up by the cache's periodic refresh.
        deps.customDomains.changed?.(serverId).catch(() => undefined);
      };
      const credentials = new InjectionCredentials(deps.store, deps.now);

      v2.register(
        async (server) => {
          server.addHook('onRequest', managementAuth(deps));
          registerSuppressionRoutes(server, deps);
          registerWebhookRoutes(server, { store: deps.store, now: deps.now, ...deps.webhooks });
          registerSendingDomainRoutes(server, {
            store: deps.store,
            now: deps.now,
            service: new SendingDomainService({ store: deps.store, dns: deps.dns, now: deps.now, ...deps.sendingDomains }),
          });
          const customDomains = {
            targets: deps.customDomains.targets,
            domains: new CustomDomains({ store: deps.store, dns: deps.dns, now: deps.now, ...deps.customDomains }),
          };
          registerBounceDomainRoutes(server, customDomains);
          registerTrackingDomainRoutes(server, customDomains);
          registerServerRoutes(server, { ...deps, serverChanged });
          registerServerKeyRoutes(server, deps);
          registerInboundRouteRoutes(server, { store: deps.store, now: deps.now, ...deps.webhooks, ...deps.inbound });
          registerReportRoutes(server, { store: deps.store, now: deps.now, detail: deps.reports });
          registerServerCredentials(server, { credentials, gateway: deps.injectionGateway });
          registerTemplateRoutes(server, { store: deps.store, now: deps.now });
        },
        { prefix: '/servers/:serverId' },
      );

      // Routes that name no server: a management key (its own server) or an account key (its account).
      v2.register(async (tenancy) => {
        tenancy.addHook('onRequest', managerAuth(deps));
        registerServerCollectionRoutes(tenancy, deps);
        registerAccountKeyRoutes(tenancy, deps);
        registerUserRoutes(tenancy, deps);
        registerAccountReportRoutes(tenancy, deps);
        registerShapingRoute(tenancy, deps.shaping ?? (() => null));
      });

      // SocketLabs' sub-accounts: servers of the account key's account (subaccounts/index.ts).
      v2.register(async (parent) => {
        parent.addHook('onRequest', managerAuth(deps));
        registerSubaccountRoutes(parent, {
          store: deps.store,
          now: deps.now,
          credentials,
          gateway: deps.injectionGateway,
          serverChanged,
          sendingDomains: new SendingDomainService({ store: deps.store, dns: deps.dns, now: deps.now, ...deps.sendingDomains }),
          customDomains: {
            targets: deps.customDomains.targets,
            domains: new CustomDomains({ store: deps.store, dns: deps.dns, now: deps.now, ...deps.customDomains }),
          },
        });
      });
    },
    { prefix: API_V2_PREFIX },
  );
}
