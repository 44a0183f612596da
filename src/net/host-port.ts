/**
 * `host:port` as the smart host settings take it (POSTLINE_RELAY_HOST, relay routes): a name, an
 * IPv4 address or a bracketed IPv6 address, then the port.
 */
const HOST_PORT = /^[A-Za-z0-9.\-[\]:]+:\d{1,5}$/;

export function isHostPort(value: string): boolean {
  return HOST_PORT.test(value);
}

/** Splits a value isHostPort accepts; an IPv6 address loses its brackets. */
export function parseHostPort(value: string): { host: string; port: number } {
  const i = value.lastIndexOf(':');
  return { host: value.slice(0, i).replace(/^\[|\]$/g, ''), port: Number(value.slice(i + 1)) };
}
