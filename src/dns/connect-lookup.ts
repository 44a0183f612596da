import { Resolver } from 'node:dns/promises';
import type { LookupAddress, LookupOptions } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';

/**
 * The `lookup` a socket (net.connect, tls.connect, https.request) uses to find a host's address,
 * through the configured resolvers (POSTLINE_DNS_SERVERS) rather than the operating system's, so
 * an MX host or an MTA-STS policy host is found where its MX record was. Undefined when no servers
 * are configured: the system lookup (getaddrinfo, /etc/hosts) is what the operator chose then.
 *
 * IPv4 first, then IPv6 (most MX hosts have both; the first answer is what is tried).
 */
export function lookupThrough(servers: readonly string[]): LookupFunction | undefined {
  if (servers.length === 0) return undefined;
  const r = new Resolver({ timeout: 5_000, tries: 2 });
  r.setServers([...servers]);
  const addresses = async (host: string, family: number): Promise<LookupAddress[]> => {
    if (isIP(host)) return [{ address: host, family: isIP(host) }];
    const [v4, v6] = await Promise.allSettled([family === 6 ? Promise.resolve([]) : r.resolve4(host), family === 4 ? Promise.resolve([]) : r.resolve6(host)]);
    const out = [
      ...(v4.status === 'fulfilled' ? v4.value.map((address) => ({ address, family: 4 })) : []),
      ...(v6.status === 'fulfilled' ? v6.value.map((address) => ({ address, family: 6 })) : []),
    ];
    if (out.length > 0) return out;
    const reason = v4.status === 'rejected' ? v4.reason : v6.status === 'rejected' ? v6.reason : null;
    throw Object.assign(new Error(`no address for ${host}${reason ? `: ${(reason as Error).message}` : ''}`), {
      code: (reason as { code?: string } | null)?.code ?? 'ENOTFOUND',
    });
  };
  // Node calls it with `all: true` when it races IPv4 and IPv6 (autoSelectFamily), else for one address.
  return ((host: string, options: LookupOptions, callback: (err: Error | null, address: string | LookupAddress[], family?: number) => void) => {
    addresses(host, typeof options.family === 'number' ? options.family : 0).then(
      (list) => (options.all ? callback(null, list) : callback(null, list[0]!.address, list[0]!.family)),
      (err: Error) => callback(err, ''),
    );
  }) as LookupFunction;
}
