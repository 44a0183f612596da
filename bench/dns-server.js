// A DNS server on loopback for benchmarks (UDP, dns-packet): TXT records by name, every other
// question answered at once with NXDOMAIN, as a warm recursive resolver would answer.
import { createSocket } from 'node:dgram';
import * as packet from 'dns-packet';

/** `txt`: Map of lower-case name -> TXT record texts. Resolves with `{address, close}`. */
export function startDns(txt) {
  const sock = createSocket('udp4');
  sock.on('message', (msg, rinfo) => {
    const q = packet.decode(msg);
    const question = q.questions[0];
    const name = question.name.toLowerCase();
    const records = question.type === 'TXT' ? txt.get(name) : undefined;
    const reply = {
      type: 'response',
      id: q.id,
      flags: packet.RECURSION_AVAILABLE | (txt.has(name) ? 0 : 3),
      questions: q.questions,
      answers: (records ?? []).map((t) => ({ type: 'TXT', name: question.name, ttl: 60, data: t.match(/.{1,255}/g) })),
    };
    sock.send(packet.encode(reply), rinfo.port, rinfo.address);
  });
  return new Promise((r) => sock.bind(0, '127.0.0.1', () => r({ address: `127.0.0.1:${sock.address().port}`, close: () => sock.close() })));
}
