import { createSocket, type Socket } from 'node:dgram';
import * as packet from 'dns-packet';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MxResolver, MX_TTL_MIN_MS, systemDns } from '../../src/delivery/mx.js';
import { parseServer, queryMx } from '../../src/delivery/mx-query.js';

/**
 * A real DNS server on loopback (UDP, dns-packet): MX answers with TTLs, NXDOMAIN, NODATA with
 * an SOA, SERVFAIL and a null MX; it counts the queries it gets per name and type.
 */
let server: Socket;
let address: string;
const asked = new Map<string, number>();
const ttls: Record<string, number> = { 'ttl.test': 120, 'zero.test': 0 };

beforeAll(async () => {
  server = createSocket('udp4');
  server.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    const question = q.questions![0]!;
    const key = `${question.type} ${question.name}`;
    asked.set(key, (asked.get(key) ?? 0) + 1);
    const reply: packet.Packet = { type: 'response', id: q.id, flags: packet.RECURSION_AVAILABLE, questions: q.questions, answers: [], authorities: [] };
    const soa = {
      type: 'SOA' as const,
      name: 'test',
      ttl: 600,
      data: { mname: 'ns.test', rname: 'h.test', serial: 1, refresh: 1, retry: 1, expire: 1, minimum: 60 },
    };
    const name = question.name;
    if (name in ttls && question.type === 'MX') {
      reply.answers = [
        { type: 'MX', name, ttl: ttls[name], data: { preference: 10, exchange: `mx1.${name}` } },
        { type: 'MX', name, ttl: ttls[name]! + 50, data: { preference: 5, exchange: `mx0.${name}` } },
      ];
    } else if (name === 'null.test' && question.type === 'MX') {
      reply.answers = [{ type: 'MX', name, ttl: 300, data: { preference: 0, exchange: '' } }];
    } else if (name === 'servfail.test') {
      reply.flags = packet.RECURSION_AVAILABLE | 2; // RCODE 2: SERVFAIL
    } else if (name === 'nomx.test') {
      reply.authorities = [soa];
      if (question.type === 'A') reply.answers = [{ type: 'A', name, ttl: 300, data: '127.0.0.9' }];
    } else {
      reply.flags = packet.RECURSION_AVAILABLE | 3; // RCODE 3: NXDOMAIN
      reply.authorities = [soa];
    }
    server.send(packet.encode(reply), rinfo.port, rinfo.address);
  });
  await new Promise<void>((r) => server.bind(0, '127.0.0.1', r));
  address = `127.0.0.1:${server.address().port}`;
});
afterAll(() => server.close());

describe('MX lookups with TTLs against a DNS server on loopback', () => {
  it('returns the records and the smallest TTL of the set', async () => {
    const a = await queryMx('ttl.test', [address]);
    expect(a).toEqual({
      kind: 'records',
      ttlSec: 120,
      // This server does not validate DNSSEC: no AD bit, so DANE would not apply.
      authenticated: false,
      records: [
        { exchange: 'mx1.ttl.test', priority: 10 },
        { exchange: 'mx0.ttl.test', priority: 5 },
      ],
    });
  });

  it('tells NXDOMAIN from NODATA, with the negative TTL of the SOA (RFC 2308), and reports SERVFAIL as an error', async () => {
    expect(await queryMx('gone.test', [address])).toEqual({ kind: 'none', code: 'ENOTFOUND', ttlSec: 60 });
    expect(await queryMx('nomx.test', [address])).toEqual({ kind: 'none', code: 'ENODATA', ttlSec: 60 });
    await expect(queryMx('servfail.test', [address])).rejects.toMatchObject({ code: 'ESERVFAIL' });
  });

  it('a server that never answers times out and the next one is asked', async () => {
    const mute = createSocket('udp4');
    await new Promise<void>((r) => mute.bind(0, '127.0.0.1', r));
    try {
      const a = await queryMx('ttl.test', [`127.0.0.1:${mute.address().port}`, address], { timeoutMs: 200, tries: 1 });
      expect(a.kind).toBe('records');
      await expect(queryMx('ttl.test', [`127.0.0.1:${mute.address().port}`], { timeoutMs: 100, tries: 1 })).rejects.toMatchObject({ code: 'ETIMEOUT' });
    } finally {
      mute.close();
    }
  });

  it('parses server addresses as Node lists them', () => {
    expect(parseServer('10.0.0.1')).toEqual({ host: '10.0.0.1', port: 53 });
    expect(parseServer('10.0.0.1:5353')).toEqual({ host: '10.0.0.1', port: 5353 });
    expect(parseServer('::1')).toEqual({ host: '::1', port: 53 });
    expect(parseServer('[::1]:5353')).toEqual({ host: '::1', port: 5353 });
    expect(() => parseServer('dns.example')).toThrow(/not a DNS server address/);
  });

  it('delivery keeps an MX set exactly as long as its TTL, then asks again', async () => {
    let now = 1_000_000;
    const resolver = new MxResolver(systemDns([address]), 25, null, () => now);
    const first = await resolver.resolve('ttl.test');
    expect(first).toEqual({
      kind: 'hosts',
      hosts: [
        { host: 'mx0.ttl.test', port: 25 },
        { host: 'mx1.ttl.test', port: 25 },
      ],
    });
    const before = asked.get('MX ttl.test')!;
    now += 119_000;
    await resolver.resolve('ttl.test');
    expect(asked.get('MX ttl.test')).toBe(before); // still within the 120 s TTL
    now += 2_000;
    await resolver.resolve('ttl.test');
    expect(asked.get('MX ttl.test')).toBe(before + 1);
  });

  it('a TTL of 0 is kept for the floor, not asked per recipient', async () => {
    let now = 5_000_000;
    const resolver = new MxResolver(systemDns([address]), 25, null, () => now);
    await resolver.resolve('zero.test');
    const before = asked.get('MX zero.test')!;
    now += MX_TTL_MIN_MS - 1;
    await resolver.resolve('zero.test');
    expect(asked.get('MX zero.test')).toBe(before);
    now += 2;
    await resolver.resolve('zero.test');
    expect(asked.get('MX zero.test')).toBe(before + 1);
  });

  it('null MX, no MX with an address, no domain and SERVFAIL come out as delivery expects', async () => {
    const resolver = new MxResolver(systemDns([address]), 25, null);
    expect(await resolver.resolve('null.test')).toMatchObject({ kind: 'undeliverable', failureCode: 2002, definitive: true });
    expect(await resolver.resolve('nomx.test')).toEqual({ kind: 'hosts', hosts: [{ host: '127.0.0.9', port: 25 }] });
    expect(await resolver.resolve('gone.test')).toMatchObject({ kind: 'undeliverable', definitive: false });
    expect(await resolver.resolve('servfail.test')).toMatchObject({ kind: 'dns_error' });
  });
});
