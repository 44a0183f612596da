import { readFileSync } from 'node:fs';
import { CONFIG_SCHEMA, type ConfigKey } from './schema.js';
import { createUrlGuard } from '../net/url-guard.js';
import { isHostPort } from '../net/host-port.js';

export interface Config {
  readonly dataDir: string;
  readonly databaseUrl: string | null;
  readonly httpHost: string;
  readonly httpPort: number;
  readonly publicUrl: string | null;
  readonly hostname: string;
  readonly allowLocalHostname: boolean;
  readonly logLevel: string;
  readonly databasePoolSize: number;
  readonly trustProxy: boolean;
  readonly submissionPort: number;
  readonly submissionTlsPort: number | null;
  readonly smtpHost: string;
  readonly tlsCertFile: string | null;
  readonly tlsKeyFile: string | null;
  readonly allowInsecureAuth: boolean;
  readonly trustedNetworks: readonly string[];
  readonly smtpReverseDns: boolean;
  readonly smtpGreetingDelayMs: number;
  readonly smtpMaxMessageBytes: number;
  readonly dnsServers: readonly string[];
  readonly relayHost: string | null;
  readonly relayUsername: string | null;
  readonly relayPassword: string | null;
  readonly relayTls: 'auto' | 'starttls' | 'implicit';
  readonly relayCaFile: string | null;
  readonly relayRoutesFile: string | null;
  readonly outboundPort: number;
  readonly deliveryConcurrency: number;
  readonly perDestinationConcurrency: number;
  readonly perDestinationRate: number;
  readonly shaping: 'on' | 'off';
  readonly shapingFile: string | null;
  readonly messageLifetimeHours: number;
  readonly bounceDomain: string | null;
  readonly deliveryClaimTimeoutSec: number;
  readonly mtaSts: boolean;
  readonly dane: boolean;
  readonly outboundCaFile: string | null;
  readonly tlsReports: boolean;
  readonly tlsReportOrganization: string | null;
  readonly mxPort: number;
  readonly complaintAddress: string | null;
  readonly mxMaxMessageBytes: number;
  readonly webhookAllowPrivate: boolean;
  readonly webhookAllowCidrs: readonly string[];
  readonly trackingCnameTarget: string | null;
  readonly sessionIdleMinutes: number;
  readonly sessionMaxHours: number;
  readonly retentionEnabled: boolean;
  readonly retentionIntervalMinutes: number;
  readonly retentionBodyDays: number;
  readonly retentionInboundDays: number;
  readonly retentionEventDays: number;
  readonly libraryPatches: string;
}

/** Start-up stops on this: it names the key and the value so the operator can fix it at once. */
export class ConfigError extends Error {
  constructor(
    readonly key: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`invalid configuration ${key}=${JSON.stringify(value)}: ${reason}`);
    this.name = 'ConfigError';
  }
}

type Raw = string | number | boolean | readonly string[] | null;

function parseValue(spec: ConfigKey, name: string, raw: unknown): Raw {
  if (raw === undefined || raw === null || raw === '') return spec.default;
  const text = typeof raw === 'string' ? raw.trim() : raw;
  switch (spec.type) {
    case 'string':
      if (typeof text !== 'string') throw new ConfigError(name, raw, 'expected a string');
      return text;
    case 'integer':
    case 'port': {
      const n = typeof text === 'number' ? text : /^-?\d+$/.test(String(text)) ? Number(text) : NaN;
      const min = spec.type === 'port' ? 0 : (spec.min ?? Number.MIN_SAFE_INTEGER);
      const max = spec.type === 'port' ? 65535 : (spec.max ?? Number.MAX_SAFE_INTEGER);
      if (!Number.isSafeInteger(n)) throw new ConfigError(name, raw, 'expected a whole number');
      if (n < min || n > max) throw new ConfigError(name, raw, `expected a number from ${min} to ${max}`);
      return n;
    }
    case 'boolean': {
      if (typeof text === 'boolean') return text;
      const s = String(text).toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(s)) return true;
      if (['0', 'false', 'no', 'off'].includes(s)) return false;
      throw new ConfigError(name, raw, 'expected true or false');
    }
    case 'enum':
      if (typeof text !== 'string' || !spec.values?.includes(text)) {
        throw new ConfigError(name, raw, `expected one of ${spec.values?.join(', ')}`);
      }
      return text;
    case 'url': {
      if (typeof text !== 'string') throw new ConfigError(name, raw, 'expected a URL');
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        throw new ConfigError(name, raw, 'expected an absolute http(s) URL');
      }
      if (url.protocol !== 'http:' && url.protocol !== 'https:') {
        throw new ConfigError(name, raw, 'expected an absolute http(s) URL');
      }
      return text.replace(/\/+$/, '');
    }
    case 'list':
      if (Array.isArray(text)) return text.map(String);
      return String(text)
        .split(',')
        .map((s) => s.trim())
        .filter(Boolean);
  }
}

/**
 * Builds the frozen Config from (lowest to highest precedence) defaults, an optional JSON config
 * file (POSTLINE_CONFIG_FILE, keys as in the schema's `key` column) and environment variables.
 */
export function loadConfig(env: NodeJS.ProcessEnv = process.env, overrides: Partial<Config> = {}): Config {
  let fileValues: Record<string, unknown> = {};
  const file = env.POSTLINE_CONFIG_FILE;
  if (file) {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      throw new ConfigError('POSTLINE_CONFIG_FILE', file, `cannot read: ${(err as Error).message}`);
    }
    try {
      fileValues = JSON.parse(text) as Record<string, unknown>;
    } catch (err) {
      throw new ConfigError('POSTLINE_CONFIG_FILE', file, `not valid JSON: ${(err as Error).message}`);
    }
    if (typeof fileValues !== 'object' || fileValues === null || Array.isArray(fileValues)) {
      throw new ConfigError('POSTLINE_CONFIG_FILE', file, 'expected a JSON object');
    }
    const known = new Set<string>(CONFIG_SCHEMA.map((k) => k.key));
    for (const k of Object.keys(fileValues)) {
      if (!known.has(k)) throw new ConfigError(k, fileValues[k], `unknown key in ${file}`);
    }
  }
  const out: Record<string, Raw> = {};
  for (const spec of CONFIG_SCHEMA as readonly ConfigKey[]) {
    const fromEnv = env[spec.env];
    if (fromEnv !== undefined && fromEnv !== '') out[spec.key] = parseValue(spec, spec.env, fromEnv);
    else out[spec.key] = parseValue(spec, spec.key, fileValues[spec.key]);
  }
  const cfg = { ...out, ...overrides } as unknown as Config;
  if ((cfg.tlsCertFile === null) !== (cfg.tlsKeyFile === null)) {
    throw new ConfigError(
      cfg.tlsCertFile === null ? 'POSTLINE_TLS_CERT_FILE' : 'POSTLINE_TLS_KEY_FILE',
      null,
      'POSTLINE_TLS_CERT_FILE and POSTLINE_TLS_KEY_FILE go together',
    );
  }
  if (cfg.relayHost !== null && !isHostPort(cfg.relayHost)) {
    throw new ConfigError('POSTLINE_RELAY_HOST', cfg.relayHost, 'expected host:port');
  }
  // The password is never part of an error: only whether it is set.
  if ((cfg.relayUsername === null) !== (cfg.relayPassword === null)) {
    throw new ConfigError(
      cfg.relayUsername === null ? 'POSTLINE_RELAY_USERNAME' : 'POSTLINE_RELAY_PASSWORD',
      '',
      'POSTLINE_RELAY_USERNAME and POSTLINE_RELAY_PASSWORD go together',
    );
  }
  if (cfg.relayHost === null) {
    const orphan =
      cfg.relayUsername !== null
        ? 'POSTLINE_RELAY_USERNAME'
        : cfg.relayTls !== 'auto'
          ? 'POSTLINE_RELAY_TLS'
          : cfg.relayCaFile !== null
            ? 'POSTLINE_RELAY_CA_FILE'
            : null;
    if (orphan) throw new ConfigError(orphan, '(set)', 'means something only with POSTLINE_RELAY_HOST');
  }
  for (const n of cfg.trustedNetworks) {
    if (!/^[0-9a-fA-F.:]+\/\d{1,3}=\d+$/.test(n)) {
      throw new ConfigError('POSTLINE_TRUSTED_NETWORKS', cfg.trustedNetworks.join(','), `"${n}" is not CIDR=serverId`);
    }
  }
  try {
    createUrlGuard({ allowCidrs: cfg.webhookAllowCidrs });
  } catch (err) {
    throw new ConfigError('POSTLINE_WEBHOOK_ALLOW_CIDRS', cfg.webhookAllowCidrs.join(','), (err as Error).message);
  }
  if (cfg.databaseUrl !== null && !/^postgres(ql)?:\/\//.test(cfg.databaseUrl)) {
    throw new ConfigError('POSTLINE_DATABASE_URL', cfg.databaseUrl, 'expected a postgres:// URL (leave unset for the embedded SQLite store)');
  }
  if (cfg.complaintAddress !== null) {
    const bounceDomain = (cfg.bounceDomain ?? cfg.hostname).toLowerCase();
    const at = cfg.complaintAddress.lastIndexOf('@');
    // The MX listener accepts mail for the bounce domain only: an address elsewhere would never arrive.
    if (at <= 0 || cfg.complaintAddress.slice(at + 1).toLowerCase() !== bounceDomain) {
      throw new ConfigError('POSTLINE_COMPLAINT_ADDRESS', cfg.complaintAddress, `expected an address in the bounce domain (@${bounceDomain})`);
    }
    if (/^b\+/i.test(cfg.complaintAddress)) {
      throw new ConfigError('POSTLINE_COMPLAINT_ADDRESS', cfg.complaintAddress, 'the b+ local parts are the bounce addresses');
    }
  }
  return Object.freeze(cfg);
}

export function publicUrlOf(cfg: Config, boundPort?: number): string {
  return cfg.publicUrl ?? `http://${cfg.hostname}:${boundPort ?? cfg.httpPort}`;
}

/** Markdown reference of every key, generated from the schema (docs/config.md). */
export function renderConfigDocs(): string {
  const rows = (CONFIG_SCHEMA as readonly ConfigKey[]).map((k) => {
    const def = k.default === null ? '(unset)' : `\`${Array.isArray(k.default) ? k.default.join(',') : String(k.default)}\``;
    const type = k.type === 'enum' ? `one of ${k.values!.map((v) => `\`${v}\``).join(', ')}` : k.type;
    return `| \`${k.env}\` | \`${k.key}\` | ${type} | ${def} | ${k.doc} |`;
  });
  return [
    '# Configuration',
    '',
    '<!-- Generated by `npm run docs:config` from src/config/schema.ts. Do not edit by hand. -->',
    '',
    'Postline reads its settings from environment variables and, optionally, from a JSON file named by',
    '`POSTLINE_CONFIG_FILE` whose keys are the names in the second column. Environment variables win',
    'over the file; the file wins over defaults. An invalid value stops start-up with an error that',
    'names the key and the value.',
    '',
    '| Environment variable | File key | Type | Default | Meaning |',
    '| --- | --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}
