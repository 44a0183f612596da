import { BlockList, isIP, type LookupFunction } from 'node:net';
import { promises as dns, type LookupAddress } from 'node:dns';

/**
 * Which webhook URLs Postline will POST to. A webhook URL is chosen by whoever holds an API key,
 * and the request leaves from inside the operator's network: without this check it reaches the
 * cloud metadata service (169.254.169.254), the database port on localhost or anything else on
 * the LAN (server-side request forgery). Names are checked when an endpoint is saved and again,
 * through `lookup`, on every connect, since a name may resolve elsewhere later (DNS rebinding).
 */

/** Longer URLs are mistakes or abuse; this keeps endpoint rows and log lines small. */
export const MAX_WEBHOOK_URL_LENGTH = 2_048;

type Family = 'ipv4' | 'ipv6';

/** Address ranges that are not the public internet, each with the reason named in errors. Order
 *  matters where ranges nest: the narrower, more telling reason comes first. */
const REFUSED_RANGES: readonly (readonly [address: string, prefix: number, family: Family, why: string])[] = [
  ['0.0.0.0', 32, 'ipv4', 'the unspecified address'],
  ['255.255.255.255', 32, 'ipv4', 'the broadcast address'],
  ['0.0.0.0', 8, 'ipv4', '"this network" (0.0.0.0/8)'],
  ['10.0.0.0', 8, 'ipv4', 'private (RFC 1918)'],
  ['172.16.0.0', 12, 'ipv4', 'private (RFC 1918)'],
  ['192.168.0.0', 16, 'ipv4', 'private (RFC 1918)'],
  ['100.64.0.0', 10, 'ipv4', 'carrier-grade NAT (100.64.0.0/10)'],
  ['127.0.0.0', 8, 'ipv4', 'loopback'],
  ['169.254.0.0', 16, 'ipv4', 'link-local (169.254.0.0/16, where cloud metadata services live)'],
  ['192.0.0.0', 24, 'ipv4', 'reserved for IETF protocol assignments'],
  ['192.0.2.0', 24, 'ipv4', 'reserved for documentation'],
  ['198.51.100.0', 24, 'ipv4', 'reserved for documentation'],
  ['203.0.113.0', 24, 'ipv4', 'reserved for documentation'],
  ['198.18.0.0', 15, 'ipv4', 'reserved for benchmarking'],
  ['224.0.0.0', 4, 'ipv4', 'multicast'],
  ['240.0.0.0', 4, 'ipv4', 'reserved (240.0.0.0/4)'],
  ['::', 128, 'ipv6', 'the unspecified address'],
  ['::1', 128, 'ipv6', 'loopback'],
  ['fe80::', 10, 'ipv6', 'link-local (fe80::/10)'],
  ['fec0::', 10, 'ipv6', 'site-local (fec0::/10)'],
  ['fc00::', 7, 'ipv6', 'unique-local (fc00::/7)'],
  ['ff00::', 8, 'ipv6', 'multicast'],
  ['64:ff9b:1::', 48, 'ipv6', 'local-use NAT64 (64:ff9b:1::/48)'],
  ['100::', 64, 'ipv6', 'discard-only (100::/64)'],
  // Teredo hides an obfuscated IPv4 address; no one serves webhooks over it.
  ['2001::', 32, 'ipv6', 'a Teredo tunnel (2001::/32)'],
  ['2001:db8::', 32, 'ipv6', 'reserved for documentation'],
];

/** One BlockList per reason, so a match can say why. Built once: the ranges never change. */
const REFUSED: readonly { why: string; list: BlockList }[] = (() => {
  const byWhy = new Map<string, BlockList>();
  for (const [address, prefix, family, why] of REFUSED_RANGES) {
    let list = byWhy.get(why);
    if (!list) byWhy.set(why, (list = new BlockList()));
    list.addSubnet(address, prefix, family);
  }
  return [...byWhy].map(([why, list]) => ({ why, list }));
})();

/** The 8 16-bit groups of a valid IPv6 address (callers check with isIP first). */
function ipv6Groups(address: string): number[] {
  let a = address.replace(/%.*$/, '');
  const dotted = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(a);
  if (dotted) {
    const [o1, o2, o3, o4] = dotted.slice(1).map(Number) as [number, number, number, number];
    a = a.slice(0, dotted.index) + `${((o1 << 8) | o2).toString(16)}:${((o3 << 8) | o4).toString(16)}`;
  }
  const [head, tail] = a.split('::') as [string, string | undefined];
  const parse = (s: string | undefined) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = parse(head);
  const t = parse(tail);
  return tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
}

const v4 = (hi: number, lo: number) => `${hi >> 8}.${hi & 255}.${lo >> 8}.${lo & 255}`;

/** The IPv4 address an IPv6 address stands for, in the forms that reach it: IPv4-mapped (what a
 *  dual-stack socket connects to), IPv4-translated (RFC 2765, ::ffff:0:0/96, which some stacks and
 *  translators also map), IPv4-compatible, NAT64 (RFC 6052) and 6to4. Teredo (2001::/32) and
 *  local-use NAT64 (64:ff9b:1::/48) are refused as whole ranges, whatever they embed. */
function embeddedIpv4(address: string): { form: string; ipv4: string } | null {
  const g = ipv6Groups(address);
  const zeros = (from: number, to: number) => g.slice(from, to).every((x) => x === 0);
  if (zeros(0, 5) && g[5] === 0xffff) return { form: 'IPv4-mapped', ipv4: v4(g[6]!, g[7]!) };
  if (zeros(0, 4) && g[4] === 0xffff && g[5] === 0) return { form: 'IPv4-translated', ipv4: v4(g[6]!, g[7]!) };
  // :: and ::1 share the IPv4-compatible prefix but are the unspecified and loopback addresses (RFC 4291).
  if (zeros(0, 6) && (g[6] !== 0 || g[7]! > 1)) return { form: 'IPv4-compatible', ipv4: v4(g[6]!, g[7]!) };
  if (g[0] === 0x64 && g[1] === 0xff9b && zeros(2, 6)) return { form: 'NAT64', ipv4: v4(g[6]!, g[7]!) };
  if (g[0] === 0x2002) return { form: '6to4', ipv4: v4(g[1]!, g[2]!) };
  return null;
}

function refusedRange(address: string, family: Family): string | null {
  return REFUSED.find((r) => r.list.check(address, family))?.why ?? null;
}

export interface UrlGuardOptions {
  /** Permit every address: a development setup whose receiver runs on the same machine or LAN. */
  allowPrivate?: boolean;
  /** Ranges permitted despite the rules, e.g. ['127.0.0.0/8'] or ['10.1.2.0/24', 'fd00::/8']; a bare address is a /32 or /128. */
  allowCidrs?: readonly string[];
  /** Resolves a name to all its addresses (family 0: both). Defaults to the system resolver (dns.lookup). */
  resolve?: (hostname: string, family: 0 | 4 | 6) => Promise<LookupAddress[]>;
}

export type UrlParse = { ok: true; url: URL; host: string } | { ok: false; error: string };
export type UrlCheck = { ok: true; url: URL; addresses: string[] } | { ok: false; error: string };

export interface UrlGuard {
  /** Why `address` may not be connected to, or null when it may. */
  refusal(address: string): string | null;
  /** The URL's syntax, then every address its host resolves to: for saving an endpoint. */
  check(rawUrl: string): Promise<UrlCheck>;
  /** For http.request's `lookup` option: resolves as dns.lookup does and fails the connection if any address is refused. */
  lookup: LookupFunction;
}

/** The syntax rules alone: http or https, a host, no user name or password. `host` has no IPv6 brackets. */
export function parseWebhookUrl(raw: string): UrlParse {
  if (raw.length > MAX_WEBHOOK_URL_LENGTH) return { ok: false, error: `webhook URL is longer than ${MAX_WEBHOOK_URL_LENGTH} characters` };
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, error: `webhook URL is not a valid absolute URL: ${JSON.stringify(raw.slice(0, 100))}` };
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return { ok: false, error: `webhook URL must use http or https, not ${url.protocol.replace(/:$/, '')}` };
  }
  // Credentials in a URL end up in logs and in the endpoint list; receivers check signatures instead.
  if (url.username !== '' || url.password !== '') return { ok: false, error: 'webhook URL must not contain a user name or password' };
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  if (host === '') return { ok: false, error: 'webhook URL has no host' };
  return { ok: true, url, host };
}

function parseCidr(cidr: string): [address: string, prefix: number, family: Family] {
  const [address = '', prefixText, extra] = cidr.trim().split('/');
  const version = isIP(address);
  if (version === 0 || extra !== undefined) throw new Error(`webhook allow-list entry is not an address or CIDR range: ${JSON.stringify(cidr)}`);
  const max = version === 4 ? 32 : 128;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText ?? String(max)) || prefix > max) {
    throw new Error(`webhook allow-list entry has a bad prefix length (0-${max}): ${JSON.stringify(cidr)}`);
  }
  return [address, prefix, version === 4 ? 'ipv4' : 'ipv6'];
}

const systemResolve = (hostname: string, family: 0 | 4 | 6): Promise<LookupAddress[]> => dns.lookup(hostname, { all: true, family });

function lookupFamily(family: number | string | undefined): 0 | 4 | 6 {
  return family === 4 || family === 'IPv4' ? 4 : family === 6 || family === 'IPv6' ? 6 : 0;
}

export function createUrlGuard(options: UrlGuardOptions = {}): UrlGuard {
  const allowed = new BlockList();
  for (const cidr of options.allowCidrs ?? []) allowed.addSubnet(...parseCidr(cidr));
  const resolve = options.resolve ?? systemResolve;

  const refusal = (address: string): string | null => {
    const version = isIP(address);
    if (version === 0) return `${address} is not an IP address`;
    if (options.allowPrivate) return null;
    const family: Family = version === 4 ? 'ipv4' : 'ipv6';
    // An IPv6 form of an IPv4 address is judged by the IPv4 address it reaches, and says so.
    const embedded = family === 'ipv6' ? embeddedIpv4(address) : null;
    const innerWhy = embedded && refusedRange(embedded.ipv4, 'ipv4');
    const why = embedded && innerWhy ? `the ${embedded.form} form of ${embedded.ipv4}, which is ${innerWhy}` : refusedRange(address, family);
    if (why === null) return null;
    if (allowed.check(address, family) || (embedded !== null && allowed.check(embedded.ipv4, 'ipv4'))) return null;
    return `${address} is ${why}`;
  };

  /** The addresses of `host`, or why it may not be used. */
  const resolveChecked = async (
    host: string,
    family: 0 | 4 | 6,
  ): Promise<{ ok: true; addresses: LookupAddress[] } | { ok: false; error: string; code?: string }> => {
    let addresses: LookupAddress[];
    try {
      addresses = await resolve(host, family);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      return { ok: false, error: `webhook host ${host} could not be resolved: ${code ?? (err as Error).message}`, code };
    }
    if (addresses.length === 0) return { ok: false, error: `webhook host ${host} has no addresses` };
    for (const a of addresses) {
      const why = refusal(a.address);
      if (why !== null) return { ok: false, error: `webhook host ${host} resolves to a refused address: ${why}` };
    }
    return { ok: true, addresses };
  };

  const check = async (rawUrl: string): Promise<UrlCheck> => {
    const parsed = parseWebhookUrl(rawUrl);
    if (!parsed.ok) return parsed;
    if (isIP(parsed.host) !== 0) {
      const why = refusal(parsed.host);
      return why === null ? { ok: true, url: parsed.url, addresses: [parsed.host] } : { ok: false, error: `webhook URL address refused: ${why}` };
    }
    const r = await resolveChecked(parsed.host, 0);
    return r.ok ? { ok: true, url: parsed.url, addresses: r.addresses.map((a) => a.address) } : { ok: false, error: r.error };
  };

  const lookup: LookupFunction = (hostname, opts, callback) => {
    void resolveChecked(hostname, lookupFamily(opts.family)).then((r) => {
      if (!r.ok) {
        const err: NodeJS.ErrnoException = new Error(r.error);
        err.code = r.code ?? 'EWEBHOOKADDRESS';
        callback(err, opts.all ? [] : '');
      } else if (opts.all) {
        callback(null, r.addresses);
      } else {
        callback(null, r.addresses[0]!.address, r.addresses[0]!.family);
      }
    });
  };

  return { refusal, check, lookup };
}
