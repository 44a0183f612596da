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
    doc: 'This host\'s name: SMTP greeting, Message-ID domain, default bounce domain.' },
  { key: 'logLevel', env: 'POSTLINE_LOG_LEVEL', type: 'enum', default: 'info',
    values: ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'],
    doc: 'Log level of the JSON logs written to stdout.' },
  { key: 'databasePoolSize', env: 'POSTLINE_DATABASE_POOL_SIZE', type: 'integer', default: 10, min: 1, max: 200,
    doc: 'PostgreSQL connections per process.' },
  { key: 'trustProxy', env: 'POSTLINE_TRUST_PROXY', type: 'boolean', default: false,
    doc: 'Trust X-Forwarded-For from a reverse proxy when identifying clients (auth-failure throttling).' },
] as const satisfies readonly ConfigKey[];

export type ConfigKeyName = (typeof CONFIG_SCHEMA)[number]['key'];
