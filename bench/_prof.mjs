import { randomBytes } from 'node:crypto';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { startDns } from '/work/main/bench/dns-server.js';
import { dnsLookup } from '/work/main/dist/dns/lookup.js';
import { buildInboundBody } from '/work/main/dist/inbound/parse/build-body.js';
import { generateDkimKey, signMessage } from '/work/main/dist/compose/dkim.js';
const key = generateDkimKey('client.example', 'b1');
const dns = await startDns(new Map([['client.example', ['v=spf1 ip4:127.0.0.1 -all']], ['b1._domainkey.client.example', [`v=DKIM1; k=rsa; p=${key.publicKeyBase64}`]], ['_dmarc.client.example', ['v=DMARC1; p=reject']]]));
const l = dnsLookup([dns.address]);
const raw = await signMessage(await new MailComposer({ from: 'a@client.example', to: 'x@bench.example', subject: 's', text: 'Hello\n'.repeat(100), html: '<p>hi</p>'.repeat(100),
  attachments: [{ filename: 'r.pdf', content: randomBytes(18000) }, { filename: 'd.bin', content: randomBytes(18000) }] }).compile().build(), [key]);
const env = { serverId: 1, secretKey: 'k', mailFrom: 'a@client.example', rcptTo: 'x@bench.example', remoteIp: '127.0.0.1', heloName: 'h' };
const mode = process.argv[2] ?? 'all';
const t0 = performance.now(); const N = Number(process.env.N ?? 300);
const inflight = [];
for (let i = 0; i < N; i++) { inflight.push(buildInboundBody(Buffer.from(raw), env, { resolver: l.resolve, hostname: 'mx' })); if (inflight.length >= 16) await inflight.shift(); }
await Promise.all(inflight);
console.log(`${(N / ((performance.now() - t0) / 1000)).toFixed(0)} msg/s, ${raw.length} bytes`);
dns.close();
