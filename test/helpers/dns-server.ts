import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';

/**
 * A real authoritative-and-recursive-enough DNS server on loopback (UDP, dns-packet) for tests of
 * anything that looks names up: domain verification, mailauth's SPF/DKIM/DMARC checks, MX.
 * Point Postline at it with `dnsServers: [dns.address]` (POSTLINE_DNS_SERVERS). Zones can change
 * while it runs (`set`, `remove`), so a test can publish a record and re-check.
 *
 * Names are matched case-insensitively, without the trailing dot. A name with no entry answers
 * NXDOMAIN; a name with an entry but no record of the asked type answers NODATA (NOERROR, no
 * answers). A CNAME entry is answered for every type (the resolver follows it only for CNAME).
 */
export interface ZoneEntry {
  /** Each record as one string (split into 255-octet character-strings) or its character-strings. */
  TXT?: (string | string[])[];
  CNAME?: string;
  MX?: { exchange: string; priority: number }[];
  A?: string[];
  AAAA?: string[];
  /** TLSA records (DANE), as at `_25._tcp.<mx host>`. */
  TLSA?: { usage: number; selector: number; matchingType: number; data: Buffer }[];
  /** Answer with the AD bit, as a validating resolver does for a signed zone (DNSSEC itself is not simulated). */
  secure?: boolean;
  /** A failing resolver for this name: answers every question with this RCODE, or never answers ('timeout'). */
  fail?: 'SERVFAIL' | 'REFUSED' | 'timeout';
}

export interface TestDnsServer {
  /** `127.0.0.1:<port>`, for dnsServers. */
  address: string;
  /** Replaces the entry of a name. */
  set(name: string, entry: ZoneEntry): void;
  /** Removes a name (it answers NXDOMAIN). */
  remove(name: string): void;
  /** How many questions arrived for `TYPE name` (e.g. "TXT _dmarc.example.com"). */
  asked(key: string): number;
  close(): Promise<void>;
}

const chunks = (s: string): string[] => {
  const out: string[] = [];
  for (let i = 0; i < s.length; i += 255) out.push(s.slice(i, i + 255));
  return out.length > 0 ? out : [''];
};

export async function startDnsServer(zones: Record<string, ZoneEntry> = {}): Promise<TestDnsServer> {
  const table = new Map<string, ZoneEntry>();
  const key = (n: string) => n.toLowerCase().replace(/\.$/, '');
  for (const [n, e] of Object.entries(zones)) table.set(key(n), e);
  const counts = new Map<string, number>();
  const server: Socket = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    let q: packet.DecodedPacket;
    try {
      q = packet.decode(msg);
    } catch {
      return;
    }
    const question = q.questions?.[0];
    if (!question) return;
    const name = key(question.name);
    counts.set(`${question.type} ${name}`, (counts.get(`${question.type} ${name}`) ?? 0) + 1);
    const soa = { type: 'SOA' as const, name, ttl: 60, data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 } };
    const reply: packet.Packet = {
      type: 'response',
      id: q.id,
      flags: packet.RECURSION_AVAILABLE | packet.RECURSION_DESIRED,
      questions: q.questions,
      answers: [],
      authorities: [],
    };
    const entry = table.get(name);
    if (entry?.fail === 'timeout') return;
    if (entry?.fail) {
      reply.flags = (reply.flags ?? 0) | (entry.fail === 'SERVFAIL' ? 2 : 5);
    } else if (!entry) {
      reply.flags = (reply.flags ?? 0) | 3; // RCODE 3: NXDOMAIN
      reply.authorities = [soa];
    } else if (entry.CNAME) {
      reply.answers = [{ type: 'CNAME', name: question.name, ttl: 60, data: entry.CNAME }];
    } else {
      const n = question.name;
      switch (question.type) {
        case 'TXT':
          reply.answers = (entry.TXT ?? []).map((t) => ({ type: 'TXT' as const, name: n, ttl: 60, data: Array.isArray(t) ? t : chunks(t) }));
          break;
        case 'MX':
          reply.answers = (entry.MX ?? []).map((m) => ({ type: 'MX' as const, name: n, ttl: 60, data: { preference: m.priority, exchange: m.exchange } }));
          break;
        case 'A':
          reply.answers = (entry.A ?? []).map((a) => ({ type: 'A' as const, name: n, ttl: 60, data: a }));
          break;
        case 'AAAA':
          reply.answers = (entry.AAAA ?? []).map((a) => ({ type: 'AAAA' as const, name: n, ttl: 60, data: a }));
          break;
        case 'TLSA':
          reply.answers = (entry.TLSA ?? []).map((t) => ({
            type: 'TLSA' as const,
            name: n,
            ttl: 60,
            data: { usage: t.usage, selector: t.selector, matchingType: t.matchingType, certificate: t.data },
          }));
          break;
        default:
          break;
      }
      if (reply.answers!.length === 0) reply.authorities = [soa];
      if (entry.secure) reply.flags = (reply.flags ?? 0) | packet.AUTHENTIC_DATA;
    }
    server.send(packet.encode(reply), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  return {
    address: `127.0.0.1:${server.address().port}`,
    set: (n, e) => {
      table.set(key(n), e);
    },
    remove: (n) => {
      table.delete(key(n));
    },
    asked: (k) => counts.get(k) ?? 0,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
}
