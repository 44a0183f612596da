import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { Config } from './config/load.js';
import type { Logger } from './log.js';
import type { Store } from './store/store.js';
import type { AcceptOutcome, AcceptUnit } from './store/store.js';
import { GroupCommitter } from './accept/group-commit.js';
import { AuthThrottle } from './accept/auth-throttle.js';
import { AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS } from './core/limits.js';
import { registerInjectRoute } from './api/compat/socketlabs/inject-route.js';
import { registerHealthRoutes } from './api/health.js';

export const ROLES = ['api'] as const;
export type Role = (typeof ROLES)[number];

/** Everything a role needs, built once here and passed down (no module opens anything itself). */
export interface Deps {
  config: Config;
  log: Logger;
  store: Store;
  now: () => number;
}

export interface RunningApp {
  http: FastifyInstance | null;
  /** The bound HTTP port (useful with port 0). */
  httpPort: number | null;
  stop(): Promise<void>;
}

/** Transactions in flight at once: SQLite has one writer; PostgreSQL benefits from a few. */
function committerFor(store: Store, poolSize: number): GroupCommitter<AcceptUnit, AcceptOutcome> {
  return new GroupCommitter((units) => store.commitAccepts(units), {
    maxBatchItems: 256,
    maxInFlight: store.kind === 'sqlite' ? 1 : Math.max(1, Math.min(4, poolSize - 1)),
  });
}

/** The composition root: starts the given roles on the given dependencies. */
export async function startApp(deps: Deps, roles: readonly Role[] = ROLES): Promise<RunningApp> {
  let stopping = false;
  const committer = committerFor(deps.store, deps.config.databasePoolSize);
  let http: FastifyInstance | null = null;
  let httpPort: number | null = null;

  if (roles.includes('api')) {
    const server = Fastify({
      loggerInstance: deps.log as FastifyBaseLogger,
      trustProxy: deps.config.trustProxy,
      // Per-request lines would dominate the logs at thousands of requests/s; errors are logged by the routes.
      logController: new LogController({ disableRequestLogging: true }),
      return503OnClosing: true,
    });
    http = server;
    registerHealthRoutes(server, deps.store, () => stopping);
    registerInjectRoute(server, {
      store: deps.store, committer, now: deps.now,
      throttle: new AuthThrottle(AUTH_FAILURE_LIMIT, AUTH_FAILURE_WINDOW_MS),
    });
    await server.listen({ host: deps.config.httpHost, port: deps.config.httpPort });
    const addr = server.server.address();
    httpPort = typeof addr === 'object' && addr ? addr.port : deps.config.httpPort;
  }

  return {
    http,
    httpPort,
    async stop() {
      stopping = true;
      // Stop taking requests, let in-flight ones finish (their commits included), then close the store.
      if (http) await http.close();
      await committer.close();
      deps.log.info({ event: 'app.stopped' }, 'stopped');
    },
  };
}
