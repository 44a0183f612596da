import { readFileSync } from 'node:fs';
import { normalizeDomain } from '../core/custom-domain.js';
import { isHostPort } from '../net/host-port.js';
import type { MxHost } from './mx.js';
import { type SmartHostConfig, smartHostOf } from './smart-host.js';

/**
 * Relay routes (POSTLINE_RELAY_ROUTES_FILE): mail of one server, or to one recipient domain (and
 * its subdomains), goes through a smart host of its own instead of the recipients' MX hosts (or
 * the global POSTLINE_RELAY_HOST). The first route that matches wins, as in a transport map; a
 * route naming both a server and a domain needs both. Each route's host is reached as the global
 * smart host is (smart-host.ts): verified TLS and AUTH when it has credentials.
 *
 * The file is a JSON array:
 *   [{ "domain": "example.com", "host": "smtp.example.net:587", "username": "u", "password": "p" },
 *    { "serverId": 10001, "host": "relay.internal:25", "tls": "starttls", "caFile": "/etc/postline/relay-ca.pem" }]
 */
export interface RelayRoute {
  serverId: number | null;
  /** Lower case, without a trailing dot: matches itself and its subdomains. */
  domain: string | null;
  host: MxHost;
}

const KEYS = new Set(['serverId', 'domain', 'host', 'username', 'password', 'tls', 'caFile']);

/** Why the routes cannot be used; names the route and the field, never a password. */
export class RelayRoutesError extends Error {
  constructor(message: string) {
    super(`POSTLINE_RELAY_ROUTES_FILE: ${message}`);
    this.name = 'RelayRoutesError';
  }
}

/** Reads and checks the routes file; throws RelayRoutesError naming what is wrong. */
export function loadRelayRoutes(file: string): RelayRoute[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new RelayRoutesError(`cannot read ${file}: ${(err as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new RelayRoutesError(`${file} is not JSON: ${(err as Error).message}`);
  }
  return parseRelayRoutes(parsed);
}

export function parseRelayRoutes(parsed: unknown): RelayRoute[] {
  if (!Array.isArray(parsed)) throw new RelayRoutesError('expected a JSON array of routes');
  return parsed.map((raw, i) => {
    const at = `route ${i + 1}`;
    if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new RelayRoutesError(`${at} is not an object`);
    const r = raw as Record<string, unknown>;
    for (const k of Object.keys(r)) if (!KEYS.has(k)) throw new RelayRoutesError(`${at}: unknown field "${k}"`);
    const text = (k: string): string | null => {
      const v = r[k];
      if (v === undefined || v === null) return null;
      if (typeof v !== 'string' || v === '') throw new RelayRoutesError(`${at}: ${k} must be a non-empty string`);
      return v;
    };
    const serverId = r.serverId === undefined || r.serverId === null ? null : r.serverId;
    if (serverId !== null && (typeof serverId !== 'number' || !Number.isInteger(serverId) || serverId < 1)) {
      throw new RelayRoutesError(`${at}: serverId must be a positive integer`);
    }
    const domainText = text('domain');
    const domain = domainText === null ? null : normalizeDomain(domainText);
    if (domainText !== null && domain === null) throw new RelayRoutesError(`${at}: domain "${domainText}" is not a domain name`);
    if (serverId === null && domain === null) throw new RelayRoutesError(`${at}: give serverId, domain or both`);
    const host = text('host');
    if (host === null || !isHostPort(host)) throw new RelayRoutesError(`${at}: host must be host:port`);
    const username = text('username');
    const password = text('password');
    if ((username === null) !== (password === null)) throw new RelayRoutesError(`${at}: username and password go together`);
    const tls = text('tls') ?? 'auto';
    if (tls !== 'auto' && tls !== 'starttls' && tls !== 'implicit') throw new RelayRoutesError(`${at}: tls must be auto, starttls or implicit`);
    const cfg: SmartHostConfig = { relayHost: host, relayUsername: username, relayPassword: password, relayTls: tls, relayCaFile: text('caFile') };
    let smart: MxHost | null;
    try {
      smart = smartHostOf(cfg);
    } catch (err) {
      throw new RelayRoutesError(`${at}: ${(err as Error).message}`);
    }
    return { serverId: serverId as number | null, domain, host: smart! };
  });
}

/** The smart host a recipient's mail goes through by the routes, or null for the default way. */
export function routeFor(routes: readonly RelayRoute[], serverId: number, domain: string): MxHost | null {
  const d = domain.toLowerCase();
  for (const r of routes) {
    if (r.serverId !== null && r.serverId !== serverId) continue;
    if (r.domain !== null && d !== r.domain && !d.endsWith(`.${r.domain}`)) continue;
    return r.host;
  }
  return null;
}
