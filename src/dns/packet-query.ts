import { createSocket } from 'node:dgram';
import { randomInt } from 'node:crypto';
import { isIP } from 'node:net';
import * as packet from 'dns-packet';

/**
 * DNS questions asked directly of the configured recursive resolvers over UDP, for what Node's
 * resolver (c-ares) does not give: the TTL of an answer (MX caching, delivery/mx-query.ts) and the
 * AD bit, the resolver's word that the answer was DNSSEC-validated (DANE, delivery/dane.ts), with
 * record types c-ares cannot ask (TLSA). `dns-packet` encodes the query and decodes the reply.
 */

export class DnsQueryError extends Error {
  constructor(
    message: string,
    /** Node's codes: ETIMEOUT, ESERVFAIL, EREFUSED, ECONNREFUSED. */
    readonly code: string,
  ) {
    super(message);
  }
}

/** A reply that answers the question: NOERROR (with or without records) or NXDOMAIN. */
export interface DnsReply {
  rcode: 'NOERROR' | 'NXDOMAIN';
  answers: packet.Answer[];
  authorities: packet.Answer[];
  /** The AD bit: the resolver validated the answer with DNSSEC (RFC 4035 §3.2.3). Only as good as the path to the resolver. */
  authenticated: boolean;
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
 * Asks each server in turn (the next one on timeout or SERVFAIL/REFUSED) for `type` records of
 * `name`. `tries` rounds over the list; each query waits `timeoutMs`.
 */
export async function queryDns(
  name: string,
  type: packet.RecordType,
  servers: readonly string[],
  opts: { timeoutMs?: number; tries?: number } = {},
): Promise<DnsReply> {
  if (servers.length === 0) throw new DnsQueryError('no DNS servers configured', 'ECONNREFUSED');
  let lastError = new DnsQueryError('no answer', 'ETIMEOUT');
  for (let round = 0; round < (opts.tries ?? 2); round++) {
    for (const server of servers) {
      try {
        const reply = await ask(name, type, parseServer(server), opts.timeoutMs ?? 5_000);
        const rcode = (reply as { rcode?: string }).rcode ?? 'NOERROR';
        if (rcode !== 'NOERROR' && rcode !== 'NXDOMAIN')
          throw new DnsQueryError(`DNS server answered ${rcode} for ${type} ${name}`, rcode === 'SERVFAIL' ? 'ESERVFAIL' : 'EREFUSED');
        return {
          rcode,
          answers: reply.answers ?? [],
          authorities: reply.authorities ?? [],
          authenticated: (reply as { flag_ad?: boolean }).flag_ad === true,
        };
      } catch (err) {
        lastError = err instanceof DnsQueryError ? err : new DnsQueryError((err as Error).message, 'ECONNREFUSED');
      }
    }
  }
  throw lastError;
}

/** RFC 2308 §5: a negative answer is cached for the lesser of the SOA's TTL and its MINIMUM; null without an SOA. */
export function negativeTtl(reply: DnsReply): number | null {
  const soa = reply.authorities.find((a) => a.type === 'SOA');
  if (!soa) return null;
  return Math.min(soa.ttl ?? 0, (soa.data as { minimum: number }).minimum);
}

function ask(name: string, type: packet.RecordType, server: { host: string; port: number }, timeoutMs: number): Promise<packet.DecodedPacket> {
  return new Promise((resolve, reject) => {
    const id = randomInt(0, 65_536);
    const query = packet.encode({
      type: 'query',
      id,
      // AD in a query asks a validating resolver to say whether it validated (RFC 6840 §5.7).
      flags: packet.RECURSION_DESIRED | packet.AUTHENTIC_DATA,
      questions: [{ type, name }],
      // EDNS0 (RFC 6891) with a 1,232-byte payload, the DNS flag day's safe size: large MX sets fit.
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232 } as unknown as packet.Answer],
    });
    const socket = createSocket(isIP(server.host) === 6 ? 'udp6' : 'udp4');
    const done = (fn: () => void) => {
      clearTimeout(timer);
      socket.close();
      fn();
    };
    const timer = setTimeout(
      () => done(() => reject(new DnsQueryError(`no answer from ${server.host}:${server.port} within ${timeoutMs} ms`, 'ETIMEOUT'))),
      timeoutMs,
    );
    socket.on('error', (e) => done(() => reject(new DnsQueryError(e.message, 'ECONNREFUSED'))));
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
      if (reply.id !== id || !q || q.name.toLowerCase() !== name.toLowerCase() || q.type !== type) return;
      // A truncated answer (an MX set beyond 1,232 bytes) still lists the records that fit.
      done(() => resolve(reply));
    });
    socket.send(query, server.port, server.host);
  });
}
