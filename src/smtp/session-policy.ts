/**
 * SMTP submission policy as pure functions: may this client AUTH, may this MAIL FROM / RCPT TO
 * pass, is this message too large, which server does a trusted network send as. No sockets, no
 * store: the listener (submission-server.ts) asks, these answer, and the tests check the exact
 * replies. Replies carry their enhanced status code (RFC 3463) in the text because smtp-server
 * only maps codes generically (it would answer a bad recipient 5.5.4 instead of 5.1.3).
 */
import { isIP } from 'node:net';
import { isValidEmailAddress } from '../core/address.js';
import { MAX_RECIPIENTS_PER_MESSAGE } from '../core/limits.js';

export type Decision = { ok: true } | { ok: false; code: number; message: string };
const ALLOW: Decision = { ok: true };
const refuse = (code: number, message: string): Decision => ({ ok: false, code, message });

/** Who a session sends as: an authenticated ServerId, or the server its trusted network maps to. */
export interface Principal {
  serverId: number;
  via: 'auth' | 'trusted';
}

export interface TrustedNetwork {
  /** The entry as configured, for logs and error messages. */
  readonly source: string;
  readonly family: 4 | 6;
  /** Network address, 4 or 16 bytes, host bits zero. */
  readonly bytes: Uint8Array;
  readonly prefix: number;
  readonly serverId: number;
}

function parseIpv4(text: string): Uint8Array | null {
  const parts = text.split('.');
  if (parts.length !== 4) return null;
  const out = new Uint8Array(4);
  for (const [i, p] of parts.entries()) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    out[i] = Number(p);
  }
  return out;
}

/** 16 bytes of an IPv6 address, including forms with an embedded IPv4 tail (::ffff:1.2.3.4). */
function parseIpv6(text: string): Uint8Array | null {
  if (isIP(text) !== 6) return null;
  let s = text.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (v4) {
    const b = parseIpv4(v4[1]!);
    if (!b) return null;
    s = s.slice(0, -v4[1]!.length) + `${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, null];
  const headGroups = head === '' ? [] : head.split(':');
  const tailGroups = tail === null || tail === '' ? [] : tail.split(':');
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail === null ? missing !== 0 : missing < 1) return null;
  const groups = [...headGroups, ...Array<string>(tail === null ? 0 : missing).fill('0'), ...tailGroups];
  const out = new Uint8Array(16);
  for (const [i, g] of groups.entries()) {
    const n = parseInt(g, 16);
    out[i * 2] = n >> 8;
    out[i * 2 + 1] = n & 0xff;
  }
  return out;
}

/** An address as bytes; an IPv4-mapped IPv6 address (::ffff:a.b.c.d) is read as the IPv4 it carries. */
export function parseIpAddress(text: string): { family: 4 | 6; bytes: Uint8Array } | null {
  const v4 = parseIpv4(text);
  if (v4) return { family: 4, bytes: v4 };
  const v6 = parseIpv6(text.replace(/%.*$/, '')); // drop a zone index (fe80::1%eth0)
  if (!v6) return null;
  const mapped = v6.subarray(0, 10).every((b) => b === 0) && v6[10] === 0xff && v6[11] === 0xff;
  return mapped ? { family: 4, bytes: v6.slice(12) } : { family: 6, bytes: v6 };
}

function prefixMatches(addr: Uint8Array, net: Uint8Array, prefix: number): boolean {
  const full = prefix >> 3;
  for (let i = 0; i < full; i++) if (addr[i] !== net[i]) return false;
  const rest = prefix & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (addr[full]! & mask) === net[full];
}

/**
 * Parses POSTLINE_TRUSTED_NETWORKS entries `CIDR=serverId` (`127.0.0.0/8=10001`, `::1/128=10001`).
 * Throws an Error naming the entry for anything doubtful, host bits set included (`10.1.2.3/16`
 * is more likely a mistake than a network), because a wrong entry here opens a relay.
 */
export function parseTrustedNetworks(entries: readonly string[]): TrustedNetwork[] {
  const out: TrustedNetwork[] = [];
  for (const raw of entries) {
    const entry = raw.trim();
    const m = /^([^/=\s]+)\/(\d{1,3})=(\d+)$/.exec(entry);
    if (!m) throw new Error(`trusted network "${raw}" is not CIDR=serverId (e.g. 127.0.0.0/8=10001)`);
    const [, addrText, prefixText, serverText] = m as unknown as [string, string, string, string];
    const v4 = parseIpv4(addrText);
    const bytes = v4 ?? (addrText.includes(':') ? parseIpv6(addrText) : null);
    if (!bytes) throw new Error(`trusted network "${raw}": "${addrText}" is not an IPv4 or IPv6 address`);
    const family = v4 ? 4 : 6;
    const max = family === 4 ? 32 : 128;
    const prefix = Number(prefixText);
    if (prefix > max) throw new Error(`trusted network "${raw}": prefix /${prefix} is longer than ${max} bits`);
    const masked = bytes.map((b, i) => (i * 8 >= prefix ? 0 : i * 8 + 8 <= prefix ? b : b & ((0xff << (8 - (prefix - i * 8))) & 0xff)));
    if (masked.some((b, i) => b !== bytes[i])) {
      throw new Error(`trusted network "${raw}" has host bits set; the network is ${formatAddress(family, masked)}/${prefix}`);
    }
    const serverId = Number(serverText);
    if (!Number.isSafeInteger(serverId) || serverId < 1) throw new Error(`trusted network "${raw}": "${serverText}" is not a ServerId`);
    const dup = out.find((n) => n.family === family && n.prefix === prefix && prefixMatches(n.bytes, masked, max));
    if (dup) throw new Error(`trusted network "${raw}": the same network is already listed as "${dup.source}"`);
    out.push({ source: entry, family, bytes: masked, prefix, serverId });
  }
  return out;
}

function formatAddress(family: 4 | 6, b: Uint8Array): string {
  if (family === 4) return Array.from(b).join('.');
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((b[i]! << 8) | b[i + 1]!).toString(16));
  // RFC 5952: the longest run of two or more zero groups becomes '::'.
  let best = { at: -1, len: 1 };
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > best.len) best = { at: i, len: j - i };
  }
  if (best.at === -1) return groups.join(':');
  return `${groups.slice(0, best.at).join(':')}::${groups.slice(best.at + best.len).join(':')}`;
}

/** The ServerId a client at `remoteAddress` may send as without AUTH; the longest matching prefix wins. */
export function trustedServerFor(remoteAddress: string, networks: readonly TrustedNetwork[]): number | null {
  if (networks.length === 0) return null;
  const addr = parseIpAddress(remoteAddress);
  if (!addr) return null;
  let best: TrustedNetwork | null = null;
  for (const n of networks) {
    if (n.family === addr.family && prefixMatches(addr.bytes, n.bytes, n.prefix) && (!best || n.prefix > best.prefix)) best = n;
  }
  return best ? best.serverId : null;
}

/** AUTH sends a reusable key: only over TLS unless the operator explicitly allows otherwise. */
export function decideAuth(s: { secure: boolean; allowInsecureAuth: boolean }): Decision {
  if (s.secure || s.allowInsecureAuth) return ALLOW;
  return refuse(538, '5.7.11 Encryption required: issue STARTTLS before AUTH');
}

/** The null reverse-path (`MAIL FROM:<>`) is allowed; anything else must be a deliverable address. */
export function decideMailFrom(address: string): Decision {
  if (address === '' || isValidEmailAddress(address)) return ALLOW;
  return refuse(501, '5.1.7 Bad sender address syntax');
}

/**
 * Never an open relay: a recipient is refused unless the session authenticated or comes from a
 * trusted network. `alreadyListed`: a repeated address replaces the earlier one (smtp-server),
 * so it does not count against the limit.
 */
export function decideRcpt(s: { principal: Principal | null; address: string; recipientCount: number; alreadyListed: boolean }): Decision {
  if (s.principal === null) return refuse(530, '5.7.0 Authentication required');
  if (!isValidEmailAddress(s.address)) return refuse(501, '5.1.3 Bad recipient address syntax');
  if (!s.alreadyListed && s.recipientCount >= MAX_RECIPIENTS_PER_MESSAGE) {
    return refuse(452, `4.5.3 Too many recipients (at most ${MAX_RECIPIENTS_PER_MESSAGE} per message)`);
  }
  return ALLOW;
}

/** The SIZE limit is enforced on what was actually sent, not only on the SIZE= the client declared. */
export function decideMessageSize(s: { receivedBytes: number; limit: number }): Decision {
  if (s.receivedBytes <= s.limit) return ALLOW;
  return refuse(552, `5.3.4 Message size exceeds fixed maximum message size (${s.limit} bytes)`);
}

/** AUTH username is the ServerId: digits only, nothing else (no whitespace, no sign). */
export function parseServerIdUsername(username: string | undefined): number | null {
  if (username === undefined || !/^\d{1,15}$/.test(username)) return null;
  const n = Number(username);
  return n >= 1 ? n : null;
}
