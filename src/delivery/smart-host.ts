import { readFileSync } from 'node:fs';
import { parseHostPort } from '../net/host-port.js';
import type { MxHost } from './mx.js';
import type { RelaySecurity } from './smtp-client.js';

export interface SmartHostConfig {
  relayHost: string | null;
  relayUsername: string | null;
  relayPassword: string | null;
  relayTls: 'auto' | 'starttls' | 'implicit';
  relayCaFile: string | null;
}

/**
 * The smart host every message goes through (POSTLINE_RELAY_HOST), or null for MX delivery.
 * Credentials make TLS required and verified (`auto`): a password is never sent in the clear or
 * to a host that cannot prove its name. Without them `auto` keeps opportunistic STARTTLS, as for
 * MX hosts. Throws when the CA file cannot be read, so a bad setup stops the start.
 */
export function smartHostOf(cfg: SmartHostConfig): MxHost | null {
  if (cfg.relayHost === null) return null;
  const host = parseHostPort(cfg.relayHost);
  const auth = cfg.relayUsername !== null && cfg.relayPassword !== null ? { username: cfg.relayUsername, password: cfg.relayPassword } : null;
  const tls = cfg.relayTls === 'auto' ? (auth ? 'starttls' : null) : cfg.relayTls;
  if (tls === null) return host;
  let ca: string | null = null;
  if (cfg.relayCaFile !== null) {
    try {
      ca = readFileSync(cfg.relayCaFile, 'utf8');
    } catch (err) {
      throw new Error(`POSTLINE_RELAY_CA_FILE: cannot read ${cfg.relayCaFile}: ${(err as Error).message}`);
    }
  }
  const relay: RelaySecurity = { tls, ca, auth };
  return { ...host, relay };
}
