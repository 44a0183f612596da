import { loadConfig, type Config } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { startApp, type Deps, type Role, type RunningApp } from '../../src/app.js';
import type { MxDns } from '../../src/delivery/mx.js';
import { ensureBootstrap, type Credentials } from '../../src/accept/bootstrap.js';
import type { Store } from '../../src/store/store.js';
import { createTestDb, type TestDb } from './stores.js';
import { fakeDns } from './fake-dns.js';
import type { SmtpSink } from './smtp-sink.js';

export interface TestApp {
  db: TestDb;
  store: Store;
  app: RunningApp;
  url: string;
  credentials: Credentials;
  config: Config;
  close(): Promise<void>;
}

/** Postline's API role on a loopback port over a fresh database of the run's store kind. */
export interface TestAppOptions {
  roles?: Role[];
  config?: Partial<Config>;
  dns?: MxDns;
  delivery?: Deps['delivery'];
  webhooks?: Deps['webhooks'];
  tlsPolicy?: Deps['tlsPolicy'];
  /** The app's clock (default Date.now): a test moves it instead of sleeping. */
  now?: () => number;
}

/** The configuration of a test's Postline on `db`: loopback, silent, every listener on port 0. */
export function testConfig(db: TestDb, overrides: Partial<Config> = {}): Config {
  return loadConfig(
    {},
    {
      dataDir: db.dataDir,
      databaseUrl: db.databaseUrl,
      httpHost: '127.0.0.1',
      httpPort: 0,
      logLevel: 'silent',
      // Port 0 for every listener: test files run in parallel, and a fixed default (2587) collided.
      hostname: 'postline.test',
      mxPort: 0,
      submissionPort: 0,
      ...overrides,
    },
  );
}

export async function startTestApp(opts: TestAppOptions = {}): Promise<TestApp> {
  const db = await createTestDb();
  const store = await db.open();
  const config = testConfig(db, opts.config);
  const { credentials } = await ensureBootstrap(store, db.dataDir, Date.now());
  const app = await startApp(
    {
      config,
      log: createLogger('silent'),
      store,
      now: opts.now ?? Date.now,
      dns: opts.dns,
      delivery: opts.delivery,
      webhooks: opts.webhooks,
      tlsPolicy: opts.tlsPolicy,
    },
    opts.roles ?? ['api'],
  );
  return {
    db,
    store,
    app,
    credentials,
    config,
    url: `http://127.0.0.1:${app.httpPort}`,
    async close() {
      await app.stop();
      await store.close();
      await db.drop();
    },
  };
}

/**
 * The api and delivery roles with every recipient @sink.test delivered to `sink` (an SMTP sink on
 * loopback): the set-up of the end-to-end tests that send and then look at what arrived.
 */
export function startAppDeliveringToSink(sink: SmtpSink, delivery: Deps['delivery'], opts: Omit<TestAppOptions, 'dns' | 'delivery'> = {}): Promise<TestApp> {
  return startTestApp({
    roles: ['api', 'delivery'],
    ...opts,
    config: { outboundPort: sink.port, ...opts.config },
    dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
    delivery,
  });
}

/** POSTs to the Injection API and returns status, headers and the parsed body. */
export async function inject(t: TestApp, body: unknown, opts: { contentType?: string; headers?: Record<string, string>; raw?: string } = {}) {
  const res = await fetch(`${t.url}/api/v1/email`, {
    method: 'POST',
    headers: { 'content-type': opts.contentType ?? 'application/json', ...opts.headers },
    body: opts.raw ?? JSON.stringify(body),
  });
  const text = await res.text();
  return {
    status: res.status,
    headers: res.headers,
    text,
    body: JSON.parse(text) as {
      ErrorCode: string;
      MessageResults: { Index: number; ErrorCode: string; AddressResults: { EmailAddress: string; Accepted: boolean; ErrorCode: string }[] }[];
      TransactionReceipt: string | null;
    },
  };
}
