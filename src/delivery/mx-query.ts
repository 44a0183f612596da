import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import * as packet from 'dns-packet';

/**
 * MX lookups that return the answer's TTL, so delivery can cache an MX set exactly as long as the
 * domain's owner says (RFC 1035 §3.2.1). Node's resolver (c-ares) answers MX queries without
 * TTLs, so this asks the configured recursive resolvers directly over UDP with `dns-packet`
 * encoding the query and decoding the reply.
 */

export type MxAnswer =
  | { kind: 'records'; records: { exchange: string; priority: number }[]; ttlSec: number }
  /** NXDOMAIN, or the name exists without MX records (NODATA); ttlSec from the SOA's minimum when given. */
  | { kind: 'none'; code: 'ENOTFOUND' | 'ENODATA'; ttlSec: number | null };

export class MxQueryError extends Error {
  constructor(
    message: string,
    readonly code: string,
  ) {
    super(message);
  }
}

/** A server as Node's `dns.getServers()` lists them: `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`. */
export function parseServer(s: string): { host: string; port: number } {
  if (isIP(s)) return { host: s, port: 53 };
  const bracket = /^\[([^\]]+)\]:(\d+)$/.exec(s);
  if (bracket) return { host: bracket[1]!, port: Number(bracket[2]) };
  const i = s.lastIndexOf(':');
  if (i > 0 && isIP(s.slice(0, i)) === 4) return { host: s.slice(0, i), port: Number(s.slice(i + 1)) };
  throw new Error(`not a DNS server address: ${JSON.stringify(s)}`);
}

/**
 * Asks each server in turn (next one on timeout or SERVFAIL/REFUSED) for the domain's MX records.
 * `tries` rounds over the list; each query waits `timeoutMs`.
 */
export async function queryMx(domain: string, servers: readonly string[], opts: { timeoutMs?: number; tries?: number } = {}): Promise<MxAnswer> {
  if (servers.length === 0) throw new MxQueryError('no DNS servers configured', 'ECONNREFUSED');
  let lastError: MxQueryError = new MxQueryError('no answer', 'ETIMEOUT');
  for (let round = 0; round < (opts.tries ?? 2); round++) {
    for (const server of servers) {
      try {
        return interpret(await ask(domain, parseServer(server), opts.timeoutMs ?? 5_000), domain);
      } catch (err) {
        lastError = err instanceof MxQueryError ? err : new MxQueryError((err as Error).message, 'ECONNREFUSED');
      }
    }
  }
  throw lastError;
}

function interpret(reply: packet.DecodedPacket, domain: string): MxAnswer {
  const rcode = (reply as { rcode?: string }).rcode ?? 'NOERROR';
  if (rcode === 'NXDOMAIN') return { kind: 'none', code: 'ENOTFOUND', ttlSec: negativeTtl(reply) };
  if (rcode !== 'NOERROR') throw new MxQueryError(`DNS server answered ${rcode} for ${domain}`, rcode === 'SERVFAIL' ? 'ESERVFAIL' : 'EREFUSED');
  const mx = (reply.answers ?? []).filter((a): a is packet.Answer & { type: 'MX' } => a.type === 'MX');
  if (mx.length === 0) return { kind: 'none', code: 'ENODATA', ttlSec: negativeTtl(reply) };
  return {
    kind: 'records',
    records: mx.map((a) => ({ exchange: (a.data as { exchange: string }).exchange, priority: (a.data as { preference: number }).preference })),
    ttlSec: Math.min(...mx.map((a) => a.ttl ?? 0)),
  };
}

/** RFC 2308 §5: a negative answer is cached for the lesser of the SOA's TTL and its MINIMUM. */
function negativeTtl(reply: packet.DecodedPacket): number | null {
  const soa = (reply.authorities ?? []).find((a) => a.type === 'SOA');
  if (!soa) return null;
  return Math.min(soa.ttl ?? 0, (soa.data as { minimum: number }).minimum);
}

function ask(domain: string, server: { host: string; port: number }, timeoutMs: number): Promise<packet.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65_536);
    // EDNS0 (RFC 6891) with a 1,232-byte payload, the DNS flag day's safe size: large MX sets fit.
    const query = packet.encode({
      type: 'query',
      id,
      flags: packet.RECURSION_DESIRED,
      questions: [{ type: 'MX', name: domain }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as unknown as packet.Answer],
    });
    const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.close();
      fn();
    };
    const timer = setTimeout(
      () => done(() => reject(new MxQueryError(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`, 'ETIMEOUT'))),
      timeoutMs,
    );
    socket.on('error', (e) => done(() => reject(new MxQueryError(e.message, 'ECONNREFUSED'))));
    socket.on('message', (msg, rinfo) => {
      // Only the server we asked, answering our id and question, counts (spoofed replies are ignored).
      if (rinfo.address !== server.host && !(rinfo.address === '::ffff:' + server.host)) return;
      let reply: packet.DecodedPacket;
      try {
        reply = packet.decode(msg);
      } catch {
        return;
      }
      const q = reply.questions?.[0];
      if (reply.id !== id || !q || q.name.toLowerCase() !== domain.toLowerCase()) return;
      // A truncated answer (an MX set beyond 1,232 bytes) still lists the records that fit.
      done(() => resolve(reply));
    });
    socket.send(query, server.port, server.host);
  });
}
