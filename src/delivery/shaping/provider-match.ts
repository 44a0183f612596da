import type { ProviderShaping } from './shaping-config.js';

/**
 * Which mailbox provider a destination belongs to, by the names of its MX hosts: gmail.com,
 * googlemail.com and every Google Workspace domain point at Google's MX hosts and share Google's
 * limits, whatever the recipient domain is called. Providers are tried in the file's order; the
 * first with a pattern matching any of the destination's hosts wins. A smart host (a relay
 * route) is never a provider's MX, whatever its name.
 */
export function providerOf(hosts: readonly { host: string; relay?: unknown }[], providers: readonly ProviderShaping[]): ProviderShaping | null {
  if (hosts.some((h) => h.relay)) return null;
  const names = hosts.map((h) => h.host.toLowerCase().replace(/\.$/, ''));
  for (const p of providers) {
    for (const pattern of p.mx) if (names.some((n) => hostMatches(n, pattern))) return p;
  }
  return null;
}

/** `*.example.com` matches any name below example.com (not example.com itself); anything else matches itself only. */
export function hostMatches(host: string, pattern: string): boolean {
  if (pattern.startsWith('*.')) return host.length > pattern.length - 1 && host.endsWith(pattern.slice(1));
  return host === pattern;
}
