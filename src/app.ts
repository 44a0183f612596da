import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config/load.js';
import type { Logger } from './core/log.js';
import type { Store } from './store/store.js';
import type { AcceptOutcome, AcceptUnit } from './store/store.js';
import { GroupCommitter } from './store/group-commit.js';
import { AuthThrottle } from './accept/auth-throttle.js';
import { Sessions } from './accept/sessions.js';
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS } from './core/limits.js';
import { registerInjectRoute } from './api/compat/socketlabs/inject-route.js';
import { registerHealthRoutes } from './api/health.js';
import { registerApiV2 } from './api/v2/index.js';
import { registerMarketingApi } from './api/compat/marketing/index.js';
import { registerLegacyV1Api } from './api/compat/socketlabs-v1/index.js';
import { registerOpenApi } from './api/openapi/index.js';
import { registerPanel } from './api/panel.js';
import { V2_AJV_OPTIONS } from './api/v2/schemas.js';
import { rewriteV2Url } from './api/v2/paths.js';
import { createMetrics, type Metrics } from './metrics.js';
import { DeliveryWorker, type DeliveryWorkerDeps } from './delivery/worker.js';
import { ListSendExpander } from './marketing/list-send-expander.js';
import { SmtpPool } from './delivery/smtp-pool.js';
import { outboundTls } from './delivery/outbound-tls.js';
import { SharedPacing, SharedRateLimiter } from './delivery/shared-rate-limiter.js';
import { PgSignals } from './store/postgres/pg-signals.js';
import { TlsReportCollector } from './delivery/tls-report/collector.js';
import type { TlsReportRecorder } from './delivery/tls-report/session-result.js';
import { TlsReportJob } from './delivery/tls-report/job.js';
import { mtaReportMailer } from './delivery/tls-report/mta-mail.js';
import { RateLimiter } from './delivery/rate-limiter.js';
import { initialShapingConfig, startShaping, type RunningShaping } from './delivery/shaping/start.js';
import { MxResolver, systemDns, type MxDns } from './delivery/mx.js';
import { smartHostOf } from './delivery/smart-host.js';
import { loadRelayRoutes } from './delivery/relay-routes.js';
import { classifySmtpReply } from './bounce/classify.js';
import { createSigner } from './compose/signer.js';
import { defaultSigningPool, type SigningPool } from './compose/signing-pool.js';
import { newId } from './core/ids.js';
import { startSubmissionServer, type SubmissionServer } from './smtp/submission-server.js';
import { startMxServer, type MxServer } from './mx/mx-server.js';
import { loadVerpKeyring } from './bounce/verp-keys.js';
import type { VerpKeyring } from './core/verp.js';
import { publicUrlOf } from './config/load.js';
import { TrackingService } from './tracking/service.js';
import { trackingRoutes } from './tracking/routes.js';
import { WebhookDispatcher, type WebhookDispatcherDeps } from './webhooks/dispatcher.js';
import { createUrlGuard } from './net/url-guard.js';
import { withEventWake } from './store/event-wake.js';
import { StorageHealth, withStorageHealth } from './store/disk-full.js';
import { dnsLookup } from './dns/lookup.js';
import { DomainChanges } from './core/domain-changes.js';
import { VerifiedDomains } from './domains/verified-domains.js';
import { CustomDomainCache } from './custom-domains/cache.js';
import { customDomainTargets } from './custom-domains/records.js';
import { InboundRouteTable } from './inbound/route-table.js';
import { InboundPoster, type InboundPosterDeps } from './inbound/poster.js';
import { createInboundParser, type InboundParser } from './inbound/parse/index.js';
import { mxAddressesOf } from './mx/recipient-policy.js';
import { RetentionJob } from './retention/job.js';
import { WorkerRegistry, type WorkerRegistryDeps } from './workers/registry.js';

import { ROLES, type Role } from './config/roles.js';

export { ROLES, type Role };

/** Everything a role needs, built once here and passed down (no module opens anything itself). */
export interface Deps {
  config: Config;
  log: Logger;
  store: Store;
  now: () => number;
  /** DNS for MX lookups; default the system resolver (or POSTLINE_DNS_SERVERS). Tests fake it. */
  dns?: MxDns;
  /** Test hooks: a shorter retry schedule, lifetime, poll interval or claim timeout. */
  delivery?: Partial<Pick<DeliveryWorkerDeps, 'retrySchedule' | 'lifetimeMs' | 'pollMs' | 'staleMs' | 'workerId'>> & {
    socketTimeoutMs?: number;
    shapingPollMs?: number;
  };
  /** Test hooks of the webhook dispatcher: a schedule in milliseconds, a short disable window, a fast poll. */
  webhooks?: Partial<Pick<WebhookDispatcherDeps, 'retrySchedule' | 'disableAfterMs' | 'pollMs' | 'staleMs' | 'workerId' | 'timeoutMs'>>;
  /** Test hooks of the inbound poster; by default it takes the webhook hooks' schedule, poll and timeout. */
  inbound?: Partial<Pick<InboundPosterDeps, 'retrySchedule' | 'pollMs' | 'staleMs' | 'workerId' | 'timeoutMs' | 'concurrency' | 'maxBytesInFlight'>>;
  /** Test hooks of the worker registry: a faster heartbeat and dead-after time. */
  workers?: Partial<Pick<WorkerRegistryDeps, 'heartbeatMs' | 'deadAfterMs'>>;
  /** Test hook: the HTTPS port MTA-STS policies are fetched from (443 in the world). */
  tlsPolicy?: { mtaStsPort?: number };
}

export interface RunningApp {
  http: FastifyInstance | null;
  metrics: Metrics;
  worker: DeliveryWorker | null;
  pool: SmtpPool | null;
  /** Traffic shaping of the delivery role (null without it, or with POSTLINE_SHAPING=off or a relay host). */
  shaping: RunningShaping | null;
  webhooks: WebhookDispatcher | null;
  /** The inbound poster (webhooks role) and the MX listener's routing table. */
  inbound: InboundPoster | null;
  inboundRoutes: InboundRouteTable;
  /** The bound HTTP port (useful with port 0). */
  httpPort: number | null;
  /** The bound SMTP submission port, when the smtp role runs. */
  smtpPort: number | null;
  /** The bound MX (inbound bounces and complaints) port, when the smtp role runs. */
  mxPort: number | null;
  stop(): Promise<void>;
}

/**
 * Transactions in flight at once. SQLite has one writer, but a commit's flush now runs after the
 * write lock is released (store/sqlite/wal-sync.ts), so a second batch can be written while the
 * first one's fdatasync runs; PostgreSQL benefits from a few.
 */
function committerFor(store: Store, poolSize: number, onCommitted: (units: AcceptUnit[]) => void): GroupCommitter<AcceptUnit, AcceptOutcome> {
  return new GroupCommitter(
    async (units) => {
      const out = await store.queue.commitAccepts(units);
      onCommitted(units.filter((_, i) => out[i]!.kind === 'committed'));
      return out;
    },
    {
      maxBatchItems: 256,
      maxInFlight: store.kind === 'sqlite' ? 2 : Math.max(1, Math.min(4, poolSize - 1)),
    },
  );
}

/** The composition root: starts the given roles on the given dependencies. */
export async function startApp(rawDeps: Deps, roles: readonly Role[] = ROLES): Promise<RunningApp> {
  let stopping = false;
  let dispatcher: WebhookDispatcher | null = null;
  // Read before anything starts: a broken shaping file stops the start, naming the file and the problem.
  const shapingConfig = roles.includes('delivery') ? initialShapingConfig(rawDeps.config) : null;
  // Every role writes through this store, so events committed here wake the dispatcher at once.
  // Every store call is watched for a full disk (readyz, store.disk_full), too.
  const storage = new StorageHealth(rawDeps.log, rawDeps.now, rawDeps.store.settings);
  // Processes sharing one PostgreSQL wake each other's idle loops when they commit work (LISTEN/NOTIFY).
  const signals =
    rawDeps.store.kind === 'postgres' && rawDeps.config.databaseUrl !== null ? await PgSignals.start(rawDeps.config.databaseUrl, rawDeps.log) : null;
  const deps: Deps = {
    ...rawDeps,
    store: withEventWake(withStorageHealth(rawDeps.store, storage), () => {
      dispatcher?.wake();
      signals?.notify('events');
    }),
  };
  const metrics = createMetrics(deps.store);
  const cfg = deps.config;
  const guard = createUrlGuard({ allowPrivate: cfg.webhookAllowPrivate, allowCidrs: cfg.webhookAllowCidrs });
  // The trace-tag keys, read once for every role that tags (delivery, message detail) or verifies (MX).
  let verpKeys: Promise<VerpKeyring> | null = null;
  const verp = (): Promise<VerpKeyring> => (verpKeys ??= loadVerpKeyring(deps.store));
  // The claiming workers of this process are registered before any of them claims, so other
  // processes (or this one after a crash) can tell a dead worker's claims from a live one's.
  const registry = new WorkerRegistry({
    store: deps.store,
    log: deps.log,
    now: deps.now,
    hostname: cfg.hostname,
    pid: process.pid,
    sole: deps.store.kind === 'sqlite',
    heartbeatMs: deps.workers?.heartbeatMs,
    deadAfterMs: deps.workers?.deadAfterMs,
  });
  const claims = roles.includes('webhooks') || roles.includes('delivery');
  const webhooksWorkerId = roles.includes('webhooks')
    ? registry.add(deps.webhooks?.workerId ?? `${cfg.hostname}:${process.pid}:webhooks:${newId()}`, 'webhooks')
    : '';
  const inboundWorkerId = roles.includes('webhooks')
    ? registry.add(deps.inbound?.workerId ?? `${cfg.hostname}:${process.pid}:inbound:${newId()}`, 'inbound')
    : '';
  const deliveryWorkerId = roles.includes('delivery') ? registry.add(deps.delivery?.workerId ?? `${cfg.hostname}:${process.pid}:${newId()}`, 'delivery') : '';
  if (claims) await registry.start();
  // Sending domains: a verify or rotation through the API refreshes the signer's keys and the
  // verified-From rule of this process at once.
  const domainChanges = new DomainChanges();
  const verifiedFrom = new VerifiedDomains(deps.store, domainChanges);
  if (roles.includes('webhooks')) {
    const w = deps.webhooks ?? {};
    dispatcher = new WebhookDispatcher({
      store: deps.store,
      log: deps.log,
      now: deps.now,
      guard,
      metrics,
      workerId: webhooksWorkerId,
      deadAfterMs: registry.deadAfterMs,
      retrySchedule: w.retrySchedule,
      disableAfterMs: w.disableAfterMs,
      pollMs: w.pollMs,
      staleMs: w.staleMs,
      timeoutMs: w.timeoutMs,
    });
    dispatcher.start();
  }
  // Inbound routing: the table every RCPT consults, and the poster beside the webhook dispatcher.
  const inboundRoutes = new InboundRouteTable(deps.store, deps.now);
  let poster: InboundPoster | null = null;
  let parser: InboundParser | null = null;
  if (roles.includes('webhooks')) {
    const w = { ...deps.webhooks, ...deps.inbound };
    parser = createInboundParser({ dns: dnsLookup(cfg.dnsServers), hostname: cfg.hostname, dnsServers: cfg.dnsServers });
    poster = new InboundPoster({
      store: deps.store,
      log: deps.log,
      now: deps.now,
      guard,
      parser,
      metrics,
      workerId: inboundWorkerId,
      deadAfterMs: registry.deadAfterMs,
      retrySchedule: w.retrySchedule,
      pollMs: w.pollMs,
      staleMs: deps.inbound?.staleMs,
      timeoutMs: w.timeoutMs,
      concurrency: deps.inbound?.concurrency,
      maxBytesInFlight: deps.inbound?.maxBytesInFlight,
    });
    poster.start();
  }
  // Retention lives in the webhooks role: it prunes the event outbox that role owns, it is the home of
  // the other housekeeping (the inbound poster's orphan sweep), and it keeps the batches of deletes
  // out of the delivery process when roles run apart. Bodies a recipient still waits for are never
  // deleted whichever process runs it (the check is on the rows).
  let retention: RetentionJob | null = null;
  if (roles.includes('webhooks') && cfg.retentionEnabled) {
    retention = new RetentionJob({
      store: deps.store,
      log: deps.log,
      now: deps.now,
      metrics,
      intervalMs: cfg.retentionIntervalMinutes * 60_000,
      ages: { bodyDays: cfg.retentionBodyDays, inboundDays: cfg.retentionInboundDays, eventDays: cfg.retentionEventDays },
    });
    retention.start();
  }
  let worker: DeliveryWorker | null = null;
  // Verified custom bounce domains: the worker's Return-Path and the MX listener route by them.
  const customDomains = new CustomDomainCache(deps.store, { log: deps.log });
  await customDomains.start();
  customDomains.onChange((serverId) => worker?.forgetServer(serverId));
  let pool: SmtpPool | null = null;
  let shaping: RunningShaping | null = null;
  let tlsReports: TlsReportCollector | null = null;
  let tlsReportJob: TlsReportJob | null = null;
  let expander: ListSendExpander | null = null;
  let signingPool: SigningPool | null = null;
  let httpPort: number | null = null;
  const tracking =
    roles.includes('api') || roles.includes('delivery')
      ? await TrackingService.open(deps.store, () => publicUrlOf(cfg, httpPort ?? undefined), deps.log)
      : null;
  if (roles.includes('delivery')) {
    signingPool = defaultSigningPool();
    if (shapingConfig)
      shaping = await startShaping({
        config: shapingConfig,
        settings: cfg,
        log: deps.log,
        now: deps.now,
        metrics,
        pollMs: deps.delivery?.shapingPollMs,
        sharedPacing: deps.store.kind === 'postgres' ? new SharedPacing(deps.store.rateSlots, deps.log) : null,
      });
    const mxDns = deps.dns ?? systemDns(cfg.dnsServers);
    // Sessions under a receiving domain's TLS policy are counted for its TLS-RPT report (RFC 8460).
    if (cfg.tlsReports) {
      tlsReports = new TlsReportCollector({ store: deps.store, log: deps.log, now: deps.now });
      tlsReports.start();
    }
    // Every session under a policy is counted in /metrics, and for TLS-RPT when reports are on.
    const tlsSessions: TlsReportRecorder = {
      record: (r) => {
        metrics.tlsSession(r.policyType, r.result);
        tlsReports?.record(r);
      },
    };
    const outbound = outboundTls(cfg, mxDns, { now: deps.now, mtaStsPort: deps.tlsPolicy?.mtaStsPort, realDns: !deps.dns, report: tlsSessions });
    pool = new SmtpPool({
      ca: outbound.ca,
      lookup: outbound.lookup,
      tlsReport: tlsSessions,
      heloName: cfg.hostname,
      maxConnections: cfg.deliveryConcurrency,
      maxPerDestination: cfg.perDestinationConcurrency,
      // On PostgreSQL every process paces one destination together (store/rate-slots.ts); SQLite has one process.
      rateLimiter: cfg.relayHost
        ? null
        : deps.store.kind === 'postgres'
          ? new SharedRateLimiter(deps.store.rateSlots, cfg.perDestinationRate, { log: deps.log })
          : new RateLimiter(cfg.perDestinationRate),
      shaping: shaping?.shaper ?? null,
      ...(deps.delivery?.socketTimeoutMs ? { socketTimeoutMs: deps.delivery.socketTimeoutMs, greetingTimeoutMs: deps.delivery.socketTimeoutMs } : {}),
    });
    const resolver = new MxResolver(mxDns, cfg.outboundPort, smartHostOf(cfg), deps.now);
    const sign = createSigner(deps.store, signingPool, domainChanges);
    worker = new DeliveryWorker({
      store: deps.store,
      log: deps.log,
      now: deps.now,
      pool,
      classify: classifySmtpReply,
      resolver,
      relayRoutes: cfg.relayRoutesFile === null ? [] : loadRelayRoutes(cfg.relayRoutesFile),
      tlsPolicy: outbound.policy,
      sign,
      workerId: deliveryWorkerId,
      deadAfterMs: registry.deadAfterMs,
      hostname: cfg.hostname,
      bounceDomain: cfg.bounceDomain ?? cfg.hostname,
      verp: await verp(),
      lifetimeMs: deps.delivery?.lifetimeMs ?? cfg.messageLifetimeHours * 3_600_000,
      retrySchedule: deps.delivery?.retrySchedule,
      pollMs: deps.delivery?.pollMs,
      staleMs: deps.delivery?.staleMs ?? cfg.deliveryClaimTimeoutSec * 1000,
      maxInFlight: Math.max(cfg.deliveryConcurrency * 4, 100),
      metrics,
      tracking,
      bounceDomainOf: (serverId) => customDomains.bounceDomainOf(serverId),
      shaping: shaping?.shaper ?? null,
    });
    worker.start();
    if (cfg.tlsReports) {
      tlsReportJob = new TlsReportJob({
        store: deps.store,
        dns: dnsLookup(cfg.dnsServers),
        log: deps.log,
        now: deps.now,
        hostname: cfg.hostname,
        organizationName: cfg.tlsReportOrganization ?? cfg.hostname,
        sendMail: mtaReportMailer({ resolver, pool, sign }),
      });
      tlsReportJob.start();
    }
    // Sends to a list become merge recipients beside the worker that delivers them.
    // A list send's recipients count as accepted as their batches commit (its message, when the API accepted it).
    expander = new ListSendExpander({
      store: deps.store,
      log: deps.log,
      now: deps.now,
      pollMs: deps.delivery?.pollMs,
      onExpanded: (recipients) => {
        if (recipients > 0) metrics.accepted('api', 0, recipients);
        worker?.wake();
        signals?.notify('queue');
      },
    });
    expander.start();
  }
  // Work another process committed: this one's idle loops look now.
  signals?.on('queue', () => worker?.wake());
  signals?.on('events', () => dispatcher?.wake());
  signals?.on('inbound', () => poster?.wake());
  const committer = committerFor(deps.store, cfg.databasePoolSize, (units) => {
    for (const u of units) {
      metrics.accepted(
        u.messages[0]?.source ?? 'api',
        u.messages.length,
        u.messages.reduce((n, m) => n + m.recipients.length, 0),
      );
      // Relayed messages only: a bulk template object still references its request's merge rows
      // (40 MiB for a 1,000,000-recipient queue); a relayed one is just its MIME text.
      if (worker) for (const m of u.messages) if (m.source === 'smtp') worker.prime(m.id, m.template);
    }
    worker?.wake();
    signals?.notify('queue');
  });
  let http: FastifyInstance | null = null;
  const smtp: SubmissionServer | null = roles.includes('smtp')
    ? await startSubmissionServer({ config: cfg, log: deps.log, store: deps.store, committer, now: deps.now, verifiedFrom })
    : null;
  let mx: MxServer | null = null;
  if (roles.includes('smtp')) {
    try {
      mx = await startMxServer({
        config: cfg,
        log: deps.log,
        store: deps.store,
        now: deps.now,
        metrics,
        customBounceDomains: customDomains,
        verp: await verp(),
        inbound: {
          routes: inboundRoutes,
          onStored: () => {
            poster?.wake();
            signals?.notify('inbound');
          },
        },
      });
    } catch (err) {
      // The MX port is taken (or TLS fails): do not leave the submission listener running alone.
      await smtp?.close();
      throw err;
    }
  }

  if (roles.includes('api')) {
    const server = Fastify({
      loggerInstance: deps.log as FastifyBaseLogger,
      trustProxy: deps.config.trustProxy,
      // Per-request lines would dominate the logs at thousands of requests/s; errors are logged by the routes.
      logController: new LogController({ disableRequestLogging: true }),
      return503OnClosing: true,
      ajv: V2_AJV_OPTIONS,
      // SocketLabs' `/v2/...` paths reach the management API's one route table under `/api/v2`.
      rewriteUrl: (req) => rewriteV2Url(req.url ?? '/'),
    });
    http = server;
    // First: the document is generated from the routes registered after this.
    await registerOpenApi(server);
    registerHealthRoutes(server, deps.store, () => stopping, storage);
    server.get(
      '/metrics',
      {
        schema: {
          summary: "Prometheus metrics (for the operator's monitoring; no key: keep it off public networks)",
          tags: ['operations'],
          response: { 200: { description: 'Prometheus text exposition format', content: { 'text/plain': { schema: { type: 'string' } } } } },
        },
      },
      async (_req, reply) => reply.type(metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
    registerInjectRoute(server, {
      store: deps.store,
      committer,
      now: deps.now,
      throttle: new AuthThrottle(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS),
      verifiedFrom,
    });
    // One instance for the v2 and Marketing APIs: a panel session works on both.
    const panelSessions = new Sessions(deps.store, deps.now, { idleMs: cfg.sessionIdleMinutes * 60_000, absoluteMs: cfg.sessionMaxHours * 3_600_000 });
    registerMarketingApi(server, {
      store: deps.store,
      now: deps.now,
      throttle: new AuthThrottle(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS),
      verifiedFrom,
      sessions: panelSessions,
      trustedOrigins: cfg.publicUrl === null ? [] : [new URL(cfg.publicUrl).origin],
      onListSend: () => {
        metrics.accepted('api', 1, 0);
        expander?.wake();
      },
    });
    registerLegacyV1Api(server, { store: deps.store, now: deps.now, throttle: new AuthThrottle(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS) });
    await server.register(trackingRoutes, { tokens: tracking!.tokens, backend: tracking!.backend() });
    registerApiV2(server, {
      store: deps.store,
      now: deps.now,
      throttle: new AuthThrottle(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS),
      webhooks: { guard, timeoutMs: deps.webhooks?.timeoutMs },
      dns: dnsLookup(cfg.dnsServers),
      sendingDomains: { records: { hostname: cfg.hostname, bounceHost: cfg.bounceDomain ?? cfg.hostname }, changes: domainChanges },
      customDomains: { targets: customDomainTargets(cfg), changed: (serverId) => customDomains.changed(serverId) },
      inbound: { onRoutesChanged: () => inboundRoutes.invalidate(), bounceDomain: mxAddressesOf(cfg).bounceDomain },
      reports: { hostname: cfg.hostname, tracking, verp: await verp() },
      injectionGateway: () => `${publicUrlOf(cfg, httpPort ?? undefined).replace(/\/+$/, '')}/api/v1/email`,
      sessions: panelSessions,
      trustedOrigins: cfg.publicUrl === null ? [] : [new URL(cfg.publicUrl).origin],
      // Shaping state lives in the delivery role: another process's API says it has none.
      shaping: () => (shaping ? shaping.shaper.view((gateKey) => pool?.connectionsOf(gateKey) ?? 0) : null),
    });
    // Last: the control panel's files and its client-side routes answer only what no API route matched.
    await registerPanel(server);
    await server.listen({ host: deps.config.httpHost, port: deps.config.httpPort });
    const addr = server.server.address();
    httpPort = typeof addr === 'object' && addr ? addr.port : deps.config.httpPort;
  }

  return {
    http,
    httpPort,
    smtpPort: smtp?.port ?? null,
    mxPort: mx?.port ?? null,
    metrics,
    worker,
    pool,
    shaping,
    webhooks: dispatcher,
    inbound: poster,
    inboundRoutes,
    async stop() {
      stopping = true;
      storage.stop();
      // Stop taking requests, let in-flight ones finish (their commits included), then stop delivering.
      if (http) await http.close();
      if (smtp) await smtp.close();
      if (mx) await mx.close();
      await committer.close();
      if (expander) await expander.stop();
      // The report job sends through the worker's pool, which stops with the worker.
      if (tlsReportJob) await tlsReportJob.stop();
      if (worker) await worker.stop();
      // After the worker: its last sessions are counted.
      if (tlsReports) await tlsReports.stop();
      shaping?.stop();
      // Last: the outcomes recorded just above may have queued webhooks; the batch in flight is recorded.
      if (dispatcher) await dispatcher.stop();
      if (poster) await poster.stop();
      if (retention) await retention.stop();
      // After the workers stopped: anything they still hold is free for others at once.
      if (claims) await registry.stop();
      if (parser) await parser.close();
      if (signingPool) await signingPool.close();
      customDomains.stop();
      await signals?.close();
      deps.log.info({ event: 'app.stopped' }, 'stopped');
    },
  };
}
