import { parseArgs } from 'node:util';
import { loadConfig, renderConfigDocs, ConfigError, publicUrlOf, type Config } from './config/load.js';
import { createLogger } from './core/log.js';
import { LIBRARY_PATCHES_ENV } from './patches/switch.js';
import { checkHostname } from './config/hostname.js';
import { openStore } from './store/open.js';
import { ensureBootstrap } from './accept/bootstrap.js';
import { ROLES, type Role } from './config/roles.js';
import { printJson, UsageError } from './cli/output.js';
import { credentialsLines } from './cli/credentials-text.js';

const HELP = `postline — email delivery platform

  postline serve [--roles api,delivery] run Postline (npm start); every role (api, smtp, delivery, webhooks) by default
  postline init [--json]           make sure an account, server, injection key and account key exist; print them and where each is used
  postline servers list|get|create manage servers (--server, --name, --account, --sandbox, --require-verified-domain on|off, --json)
  postline servers update --server ID [--name N] [--sandbox-mode on|off] [--track-opens on|off]
                   [--track-clicks on|off] [--track-unsubscribes on|off] [--tracking-domain https://HOST|none]
                   [--require-verified-domain on|off]
  postline servers disable|enable --server ID   stop or restart a server (its keys stop at once)
  postline keys list|create|revoke|rotate  manage API keys (--server ID, or --account ID for account keys;
                   --scope injection|management|injection,management|account; rotate PUBLIC_ID: a new secret, same key; --json)
  postline domains add DOMAIN      generate DKIM keys (RSA-2048; --ed25519 adds a second) and print the DNS records
  postline domains list            domains with DKIM keys
  postline domains add|records|verify|rotate|remove DOMAIN --server ID   a server's sending domains
                   (add: [--ed25519] [--selector S]; rotate: [--selector S]); domains list --server ID
  postline dsn parse FILE          read a saved bounce or complaint and print what it reports (--rcpt-to, --verify, --json)
  postline suppressions list|add|remove  a server's suppression list (--server, ADDRESS..., --reason, --search, --json)
  postline bounce-domains add|list|records|verify|default|remove  a server's custom bounce domains (--server, --default, --json)
  postline tracking-domains add|list|records|verify|default|https|remove  its custom tracking domains (--server, --default, --https on|off, --json)
  postline routes list|add|remove|messages  a server's inbound routes (--server, --match DOMAIN|ADDRESS, --url, --no-validate, --json)
  postline webhooks list|add|remove|attempts|rotate-validation-key  a server's event webhook endpoints (--server, --url, --events, --format, --validation-key, --id, --no-validate, --json)
  postline templates list|get|create|update|versions|delete  a server's stored templates, the ApiTemplate ids (--server, --id,
                   --name, --subject, --html-file, --text-file, --amp-file, --version; update saves a new version; --json)
  postline contacts import FILE --server ID --list ID [--json]   import marketing contacts from CSV onto a list
  postline contacts export --server ID [--list ID] [--json]   the server's (or a list's) contacts as CSV on stdout
  postline users create|list|disable|reset-password   the control panel's people (--email, --role admin|member|viewer,
                   --password-stdin, --account ID, --json); see docs/panel-auth.md
  postline reports rebuild [--server ID] [--json]   recompute the statistics rollups from the events (after an upgrade)
  postline retention run [--json]  delete what is older than the retention ages now (docs/operations.md, Retention)
  postline config-docs             print the configuration reference (docs/config.md)

Configuration comes from POSTLINE_* environment variables; see docs/config.md.`;

function parseRoles(value: string | undefined): Role[] {
  if (value === undefined) return [...ROLES];
  const roles = value
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean);
  const unknown = roles.filter((r) => !(ROLES as readonly string[]).includes(r));
  if (roles.length === 0 || unknown.length > 0) {
    throw new UsageError(`--roles: unknown role ${JSON.stringify(unknown.join(',') || value)}; known roles: ${ROLES.join(', ')}`);
  }
  return roles as Role[];
}

async function serve(cfg: Config, roles: Role[]): Promise<void> {
  const log = createLogger(cfg.logLevel);
  // Before anything opens: a name that is not fully qualified is warned about, and stops the
  // smtp role unless allowed (config/hostname.ts).
  const names = checkHostname(cfg, roles.includes('smtp'));
  for (const w of names.warnings) {
    log.warn(
      { event: 'config.hostname_not_fqdn', key: w.key, value: w.value, reason: w.reason },
      `${w.key}=${w.value} is not a fully qualified domain name (${w.reason}): bounces and complaints sent to it from elsewhere will not arrive; set it to this host's public name`,
    );
  }
  if (names.refusal) throw new ConfigError(names.refusal.key, names.refusal.value, names.refusal.message);
  // Signals are handled from the first moment: one that arrives during start-up stops the
  // process as soon as start-up has finished, instead of killing it half-started.
  let stopRequested: string | null = null;
  let stop: ((signal: string) => void) | null = null;
  const onSignal = (signal: string): void => {
    if (stopRequested) return;
    stopRequested = signal;
    stop?.(signal);
  };
  process.on('SIGINT', () => onSignal('SIGINT'));
  process.on('SIGTERM', () => onSignal('SIGTERM'));

  const store = await openStore(cfg, log);
  const { credentials, created } = await ensureBootstrap(store, cfg.dataDir, Date.now());
  // Loaded here, not at the top: the other commands start without Fastify, smtp-server and the rest.
  const { startApp } = await import('./app.js');
  const app = await startApp({ config: cfg, log, store, now: Date.now }, roles);
  if (created) {
    // Printed once, on the first start with an empty store, for a new user to copy.
    process.stderr.write(
      [
        '',
        '  Postline is ready. Your first credentials (shown once; `npx postline init --json` prints them again):',
        ...credentialsLines(credentials, publicUrlOf(cfg, app.httpPort ?? undefined)).map((line) => `    ${line}`),
        '',
      ].join('\n') + '\n',
    );
  }
  stop = (signal) => {
    log.info({ event: 'app.stopping', signal }, `received ${signal}, shutting down`);
    app
      .stop()
      .then(() => store.close())
      .then(
        () => process.exit(0),
        (err: unknown) => {
          log.error({ err, event: 'app.stop_failed' }, 'shutdown failed');
          process.exit(1);
        },
      );
  };
  if (stopRequested) return stop(stopRequested);
  if (app.httpPort !== null) {
    log.info({ event: 'http.listening', port: app.httpPort, store: store.kind, roles }, `HTTP API listening on port ${app.httpPort}`);
    if ((await store.users.count()) === 0) {
      const panel = `${publicUrlOf(cfg, app.httpPort).replace(/\/+$/, '')}/`;
      const command = 'npx postline users create --email you@example.com --role admin --password-stdin';
      log.info(
        { event: 'panel.no_users', panel, command },
        `no one can sign in to the control panel at ${panel} yet: create the first admin with \`${command}\` (type the password, then Ctrl-D)`,
      );
    }
  }
}

/**
 * The store for one CLI command. `bulk`: a command that may write a lot (contacts import, a
 * retention run) keeps SQLite's checkpoints on their thread, as the server does (faster for a
 * large import: BENCHMARKS.md); the others leave them in their commits.
 */
async function withStore<T>(cfg: Config, fn: (store: Awaited<ReturnType<typeof openStore>>) => Promise<T>, opts: { bulk?: boolean } = {}): Promise<T> {
  const store = await openStore(cfg, undefined, { shortLived: !opts.bulk });
  try {
    return await fn(store);
  } finally {
    await store.close();
  }
}

export async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    strict: true,
    options: {
      json: { type: 'boolean' },
      roles: { type: 'string' },
      name: { type: 'string' },
      server: { type: 'string' },
      account: { type: 'string' },
      scope: { type: 'string' },
      sandbox: { type: 'boolean' },
      ed25519: { type: 'boolean' },
      selector: { type: 'string' },
      'rcpt-to': { type: 'string' },
      'track-opens': { type: 'string' },
      'track-clicks': { type: 'string' },
      'track-unsubscribes': { type: 'string' },
      'tracking-domain': { type: 'string' },
      'sandbox-mode': { type: 'string' },
      'require-verified-domain': { type: 'string' },
      reason: { type: 'string' },
      search: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
      default: { type: 'boolean' },
      https: { type: 'string' },
      match: { type: 'string' },
      url: { type: 'string' },
      'no-validate': { type: 'boolean' },
      events: { type: 'string' },
      format: { type: 'string' },
      id: { type: 'string' },
      'validation-key': { type: 'string' },
      list: { type: 'string' },
      verify: { type: 'boolean' },
      subject: { type: 'string' },
      'html-file': { type: 'string' },
      'text-file': { type: 'string' },
      'amp-file': { type: 'string' },
      version: { type: 'string' },
      email: { type: 'string' },
      role: { type: 'string' },
      'password-stdin': { type: 'boolean' },
    },
  });
  const [command, verb, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(HELP + '\n');
    return 0;
  }
  if (command === 'config-docs') {
    process.stdout.write(renderConfigDocs());
    return 0;
  }
  if (command === 'dsn') {
    // Reads one file and touches no store, so it runs without configuration; --verify reads the
    // installation's trace keys from the store.
    const { dsnCommand } = await import('./cli/dsn-commands.js');
    const { loadVerpKeyring } = await import('./bounce/verp-keys.js');
    await dsnCommand(verb, rest, values, () => withStore(loadConfig(), (s) => loadVerpKeyring(s)));
    return 0;
  }
  const cfg = loadConfig();
  // The patches read the switch from the environment (parser threads inherit it): a value from
  // the configuration file reaches them this way.
  process.env[LIBRARY_PATCHES_ENV] = cfg.libraryPatches;
  const now = Date.now();
  // Each command loads its own modules when it runs: a CLI call starts in a fraction of the time
  // it takes to load every command (and the whole server) up front.
  switch (command) {
    case 'serve':
      await serve(cfg, parseRoles(values.roles));
      return -1; // keeps running
    case 'init': {
      const { credentials } = await withStore(cfg, (s) => ensureBootstrap(s, cfg.dataDir, now));
      if (values.json) printJson(credentials);
      else process.stdout.write(`${credentialsLines(credentials).join('\n')}\n`);
      return 0;
    }
    case 'servers': {
      const { serversCommand } = await import('./cli/tenancy-commands.js');
      await withStore(cfg, (s) => serversCommand(s, verb, values, now));
      return 0;
    }
    case 'keys': {
      const { keysCommand } = await import('./cli/tenancy-commands.js');
      await withStore(cfg, (s) => keysCommand(s, verb, rest, values, now));
      return 0;
    }
    case 'domains': {
      const { domainsCommand } = await import('./cli/domain-commands.js');
      await withStore(cfg, (s) => domainsCommand(s, cfg, verb, rest, values, now));
      return 0;
    }
    case 'suppressions': {
      const { suppressionsCommand } = await import('./cli/suppression-commands.js');
      await withStore(cfg, (s) => suppressionsCommand(s, verb, rest, values, now));
      return 0;
    }
    case 'bounce-domains':
    case 'tracking-domains': {
      const { customDomainsCommand } = await import('./cli/custom-domain-commands.js');
      await withStore(cfg, (s) => customDomainsCommand(s, cfg, command === 'bounce-domains' ? 'bounce' : 'tracking', verb, rest, values));
      return 0;
    }
    case 'webhooks': {
      const { webhooksCommand } = await import('./cli/webhook-commands.js');
      await withStore(cfg, (s) => webhooksCommand(s, cfg, verb, values, now));
      return 0;
    }
    case 'routes': {
      const { routesCommand } = await import('./cli/route-commands.js');
      await withStore(cfg, (s) => routesCommand(s, cfg, verb, values, now));
      return 0;
    }
    case 'templates': {
      const { templatesCommand } = await import('./cli/template-commands.js');
      await withStore(cfg, (s) => templatesCommand(s, verb, values, now));
      return 0;
    }
    case 'contacts': {
      const { contactsCommand } = await import('./cli/contact-commands.js');
      await withStore(cfg, (s) => contactsCommand(s, verb, rest, values), { bulk: true });
      return 0;
    }
    case 'reports': {
      const { reportsCommand } = await import('./cli/report-commands.js');
      await withStore(cfg, (s) => reportsCommand(s, verb, values));
      return 0;
    }
    case 'users': {
      const { usersCommand, readAllStdin } = await import('./cli/user-commands.js');
      await withStore(cfg, (s) => usersCommand(s, verb, values, now, readAllStdin));
      return 0;
    }
    case 'retention': {
      const { retentionCommand } = await import('./cli/retention-commands.js');
      await withStore(cfg, (s) => retentionCommand(s, cfg, verb, values), { bulk: true });
      return 0;
    }
    default:
      throw new UsageError(`unknown command "${command}"; run postline help`);
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    if (err instanceof ConfigError) process.stderr.write(`postline: ${err.message}\n`);
    else if (err instanceof UsageError || (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      process.stderr.write(`postline: ${(err as Error).message}\n`);
    } else process.stderr.write(`postline: ${(err as Error).stack ?? String(err)}\n`);
    process.exitCode = err instanceof ConfigError ? 2 : 1;
  },
);
