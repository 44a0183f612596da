/**
 * The one declaration of every configuration key: its type, default, environment variable and a
 * one-line doc. `loadConfig` reads it, `postline config-docs` renders docs/config.md from it.
 */
export type ConfigType = 'string' | 'integer' | 'port' | 'url' | 'enum' | 'boolean' | 'list';

export interface ConfigKey {
  readonly key: string;
  readonly env: string;
  readonly type: ConfigType;
  readonly default: string | number | boolean | readonly string[] | null;
  readonly doc: string;
  readonly values?: readonly string[];
  readonly min?: number;
  readonly max?: number;
}

export const CONFIG_SCHEMA = [
  { key: 'dataDir', env: 'POSTLINE_DATA_DIR', type: 'string', default: './data',
    doc: 'Directory for the embedded SQLite database and generated files.' },
  { key: 'databaseUrl', env: 'POSTLINE_DATABASE_URL', type: 'string', default: null,
    doc: 'A postgres:// (or postgresql://) URL selects PostgreSQL; unset means SQLite in the data directory.' },
  { key: 'httpHost', env: 'POSTLINE_HTTP_HOST', type: 'string', default: '0.0.0.0',
    doc: 'Address the HTTP API listens on.' },
  { key: 'httpPort', env: 'POSTLINE_HTTP_PORT', type: 'port', default: 8080,
    doc: 'Port of the HTTP API (Injection API, management API); 0 picks a free port.' },
  { key: 'publicUrl', env: 'POSTLINE_PUBLIC_URL', type: 'url', default: null,
    doc: 'Public base URL of the HTTP API, used in links Postline prints and sends; default http://<hostname>:<httpPort>.' },
  { key: 'hostname', env: 'POSTLINE_HOSTNAME', type: 'string', default: 'localhost',
    doc: 'This host\'s fully qualified name: SMTP greeting, Message-ID domain, default bounce domain. The `localhost` default is for trying Postline out: start-up warns (config.hostname_not_fqdn), and bounces from elsewhere cannot arrive. Any other name that is not fully qualified (a bare name, an IP address) stops the smtp role unless POSTLINE_ALLOW_LOCAL_HOSTNAME is set.' },
  { key: 'allowLocalHostname', env: 'POSTLINE_ALLOW_LOCAL_HOSTNAME', type: 'boolean', default: false,
    doc: 'Let the smtp role (MX listener) start on a hostname or bounce domain that is not fully qualified (a test or lab setup); start-up still warns. Needed for localhost with POSTLINE_MX_PORT=25.' },
  { key: 'logLevel', env: 'POSTLINE_LOG_LEVEL', type: 'enum', default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level of the JSON logs written to stdout.' },
  { key: 'databasePoolSize', env: 'POSTLINE_DATABASE_POOL_SIZE', type: 'integer', default: 10, min: 1, max: 200,
    doc: 'PostgreSQL connections per process.' },
  { key: 'trustProxy', env: 'POSTLINE_TRUST_PROXY', type: 'boolean', default: false,
    doc: 'Trust X-Forwarded-For from a reverse proxy when identifying clients (auth-failure throttling).' },
  { key: 'submissionPort', env: 'POSTLINE_SUBMISSION_PORT', type: 'port', default: 2587,
    doc: 'SMTP submission (relay) port: STARTTLS, AUTH PLAIN/LOGIN with username = ServerId and password = a key with the injection permission (scope injection or injection,management).' },
  { key: 'submissionTlsPort', env: 'POSTLINE_SUBMISSION_TLS_PORT', type: 'port', default: null,
    doc: 'Optional implicit-TLS submission port (e.g. 465); unset means none.' },
  { key: 'smtpHost', env: 'POSTLINE_SMTP_HOST', type: 'string', default: '0.0.0.0',
    doc: 'Address the SMTP listeners bind to.' },
  { key: 'tlsCertFile', env: 'POSTLINE_TLS_CERT_FILE', type: 'string', default: null,
    doc: 'PEM certificate (chain) for STARTTLS and implicit TLS; unset means a self-signed one generated into the data directory.' },
  { key: 'tlsKeyFile', env: 'POSTLINE_TLS_KEY_FILE', type: 'string', default: null,
    doc: 'PEM private key matching POSTLINE_TLS_CERT_FILE.' },
  { key: 'allowInsecureAuth', env: 'POSTLINE_ALLOW_INSECURE_AUTH', type: 'boolean', default: false,
    doc: 'Allow SMTP AUTH on a connection without TLS (only for tests and trusted networks).' },
  { key: 'trustedNetworks', env: 'POSTLINE_TRUSTED_NETWORKS', type: 'list', default: [],
    doc: 'Client networks allowed to relay without AUTH, each mapped to a server: 127.0.0.0/8=10001,10.1.0.0/16=10002. Empty by default.' },
  { key: 'smtpReverseDns', env: 'POSTLINE_SMTP_REVERSE_DNS', type: 'boolean', default: false,
    doc: 'Look up the reverse DNS name of SMTP clients (adds latency to every connection).' },
  { key: 'smtpGreetingDelayMs', env: 'POSTLINE_SMTP_GREETING_DELAY_MS', type: 'integer', default: 0, min: 0, max: 60_000,
    doc: 'Wait this long before the SMTP greeting on the submission and MX listeners (an anti-spam pause; none by default; submission clients from trusted networks never wait).' },
  { key: 'smtpMaxMessageBytes', env: 'POSTLINE_SMTP_MAX_MESSAGE_BYTES', type: 'integer', default: 31_457_280, min: 1024, max: 157_286_400,
    doc: 'SIZE limit advertised and enforced by the submission listener.' },
  { key: 'dnsServers', env: 'POSTLINE_DNS_SERVERS', type: 'list', default: [],
    doc: 'DNS resolvers for MX lookups (ip or ip:port, comma-separated); empty means the system resolver.' },
  { key: 'relayHost', env: 'POSTLINE_RELAY_HOST', type: 'string', default: null,
    doc: 'Send all outbound mail through this smart host (host:port) instead of recipients\' MX hosts.' },
  { key: 'outboundPort', env: 'POSTLINE_OUTBOUND_PORT', type: 'port', default: 25,
    doc: 'TCP port of remote MX hosts (change only for test setups).' },
  { key: 'deliveryConcurrency', env: 'POSTLINE_DELIVERY_CONCURRENCY', type: 'integer', default: 100, min: 1, max: 10_000,
    doc: 'Outbound SMTP connections open at once across all destinations, per process.' },
  { key: 'perDestinationConcurrency', env: 'POSTLINE_PER_DESTINATION_CONCURRENCY', type: 'integer', default: 10, min: 1, max: 1000,
    doc: 'Outbound SMTP connections open at once to one destination (MX host set), per process.' },
  { key: 'perDestinationRate', env: 'POSTLINE_PER_DESTINATION_RATE', type: 'integer', default: 100, min: 1, max: 1_000_000,
    doc: 'Messages per second to one destination (MX host set), per process; not applied with POSTLINE_RELAY_HOST.' },
  { key: 'messageLifetimeHours', env: 'POSTLINE_MESSAGE_LIFETIME_HOURS', type: 'integer', default: 72, min: 1, max: 720,
    doc: 'How long a deferred recipient is retried before it fails as expired.' },
  { key: 'deliveryClaimTimeoutSec', env: 'POSTLINE_DELIVERY_CLAIM_TIMEOUT_SEC', type: 'integer', default: 900, min: 1, max: 86_400,
    doc: 'A recipient claimed by a worker that has not recorded an outcome after this long is taken over by another, whatever the worker registry says. The fallback: a crashed process\'s claims are taken over once its heartbeat is 20 s old.' },
  { key: 'bounceDomain', env: 'POSTLINE_BOUNCE_DOMAIN', type: 'string', default: null,
    doc: 'Domain of Return-Path addresses (<tag>+<id>@domain); default the hostname.' },
  { key: 'mxPort', env: 'POSTLINE_MX_PORT', type: 'port', default: 2525,
    doc: 'Inbound MX port (role smtp): takes bounces (DSNs) and complaint (ARF) reports for the bounce domain, and mail for routed inbound domains and addresses; 0 picks a free port.' },
  { key: 'complaintAddress', env: 'POSTLINE_COMPLAINT_ADDRESS', type: 'string', default: null,
    doc: 'Address feedback loops send complaint (ARF) reports to; default fbl@<bounce domain>. Must be in the bounce domain.' },
  { key: 'mxMaxMessageBytes', env: 'POSTLINE_MX_MAX_MESSAGE_BYTES', type: 'integer', default: 52_428_800, min: 1024, max: 157_286_400,
    doc: 'SIZE limit advertised and enforced by the MX listener: 50 MB, the largest inbound message SocketLabs\' Inbound API accepts (reports carry the original message, attachments included).' },
  { key: 'webhookAllowPrivate', env: 'POSTLINE_WEBHOOK_ALLOW_PRIVATE', type: 'boolean', default: false,
    doc: 'Let webhook endpoints resolve to loopback, private and link-local addresses (a development setup); refused by default.' },
  { key: 'webhookAllowCidrs', env: 'POSTLINE_WEBHOOK_ALLOW_CIDRS', type: 'list', default: [],
    doc: 'Address ranges webhook endpoints may resolve to despite the private-address rule, e.g. 10.1.2.0/24,127.0.0.1.' },
  { key: 'trackingCnameTarget', env: 'POSTLINE_TRACKING_CNAME_TARGET', type: 'string', default: null,
    doc: 'Host custom tracking domains must be CNAMEs to (it must serve the tracking routes); default the host of the public URL.' },
  { key: 'retentionEnabled', env: 'POSTLINE_RETENTION_ENABLED', type: 'boolean', default: true,
    doc: 'Run retention passes in the webhooks role (docs/operations.md, Retention); `postline retention run` runs one by hand either way.' },
  { key: 'retentionIntervalMinutes', env: 'POSTLINE_RETENTION_INTERVAL_MINUTES', type: 'integer', default: 60, min: 1, max: 10_080,
    doc: 'Minutes between retention passes.' },
  { key: 'retentionBodyDays', env: 'POSTLINE_RETENTION_BODY_DAYS', type: 'integer', default: 30, min: 1, max: 36_500,
    doc: 'Days a sent message\'s body (its stored template) is kept; never removed while a recipient still waits for delivery. Message detail shows the rendered message while it is kept.' },
  { key: 'retentionInboundDays', env: 'POSTLINE_RETENTION_INBOUND_DAYS', type: 'integer', default: 30, min: 1, max: 36_500,
    doc: 'Days a received inbound message (its bytes, posts and attempts) is kept; never removed while a post still waits.' },
  { key: 'retentionEventDays', env: 'POSTLINE_RETENTION_EVENT_DAYS', type: 'integer', default: 400, min: 1, max: 36_500,
    doc: 'Days events are kept, and with them the messages and recipients (search, detail), delivered webhook outbox rows and statistics rollups of that age.' },
  { key: 'libraryPatches', env: 'POSTLINE_LIBRARY_PATCHES', type: 'enum', default: 'on', values: ['on', 'off'],
    doc: 'The speed patches of library internals (src/patches/: postal-mime, mailauth, email-reply-parser, smtp-server). `off` runs every library as published, to rule a patch out when something looks wrong; the results are the same, slower, except that ErrorLog no longer reports damaged base64 and SMTP greetings wait smtp-server\'s 100 ms. A patch also stays off by itself, with a library_patch.version_mismatch warning, on a release other than the one it was written for.' },
] as const satisfies readonly ConfigKey[];

export type ConfigKeyName = (typeof CONFIG_SCHEMA)[number]['key'];
