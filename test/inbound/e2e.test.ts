import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import MailComposer from 'nodemailer/lib/mail-composer/index.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/core/log.js';
import { ensureBootstrap } from '../../src/accept/bootstrap.js';
import { startMxServer } from '../../src/mx/mx-server.js';
import { InboundRouteTable } from '../../src/inbound/route-table.js';
import type { NewInboundMessage } from '../../src/store/inbound.js';
import { verify } from '../../src/net/standard-signature.js';
import { startTestApp, type TestApp } from '../helpers/app.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { createTestDb, TEST_STORE_KIND } from '../helpers/stores.js';
import { countRows, queryRows, startReceiver, until, type WebhookReceiver } from '../helpers/webhooks.js';
import { startDnsServer, type TestDnsServer } from '../helpers/dns-server.js';
import { withAreaOverrides } from '../helpers/store-overrides.js';

interface Party {
  EmailAddress: string;
  FriendlyName: string | null;
}
interface Part {
  Name: string | null;
  ContentType: string;
  Content: string;
  ContentId: string | null;
}
interface InboundPayload {
  SecretKey: string;
  ServerId: number;
  InboundMailFrom: string;
  InboundRcptTo: string;
  InboundIpAddress: string;
  Message: {
    Subject: string;
    TextBody: string | null;
    HtmlBody: string | null;
    From: Party;
    To: Party[];
    CustomHeaders: { Name: string; Value: string | null }[];
    Attachments: Part[];
    EmbeddedMedia: Part[];
  };
}
interface RouteWire {
  id: number;
  match: string;
  secretKey: string;
  signingSecret: string;
}

/** Header names of a raw message, in order, as written (the independent check of CustomHeaders). */
function headerNames(raw: Buffer): string[] {
  const text = raw.toString('latin1');
  const head = text.slice(0, text.indexOf('\r\n\r\n'));
  return head
    .split('\r\n')
    .filter((l) => !/^[ \t]/.test(l))
    .map((l) => l.slice(0, l.indexOf(':')));
}

async function compose(mail: ConstructorParameters<typeof MailComposer>[0]): Promise<Buffer> {
  return new MailComposer(mail).compile().build();
}

const smtpTo = (port: number) => createTransport({ host: '127.0.0.1', port, secure: false, ignoreTLS: true, pool: false });
type SmtpError = { responseCode?: number; response?: string };

describe(`inbound pipeline: MX -> store -> parse -> signed POST (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let dns: TestDnsServer;
  let receiver: WebhookReceiver;
  let key: string;
  let route: RouteWire;
  const inboundPayloads = (r: WebhookReceiver) => r.received.filter((x) => x.json && x.json.Type !== 'Validation');

  beforeAll(async () => {
    dns = await startDnsServer();
    receiver = await startReceiver();
    t = await startTestApp({
      roles: ['api', 'smtp', 'webhooks'],
      config: { webhookAllowCidrs: ['127.0.0.1'], smtpHost: '127.0.0.1', dnsServers: [dns.address] },
      webhooks: { retrySchedule: [100, 100, 100, 100, 100, 100, 100, 100, 100, 100], pollMs: 50, timeoutMs: 5_000 },
    });
    key = (await createKey(t.store, t.credentials.serverId, 'management')).key;
    const r = await v2<{ data: RouteWire }>(t, 'POST', `/servers/${t.credentials.serverId}/inbound-routes`, {
      key,
      body: { match: 'Customer.Example', url: receiver.url },
    });
    expect(r.status).toBe(200);
    route = r.body.data;
  });
  afterAll(async () => {
    await t?.close();
    await receiver?.close();
    await dns?.close();
  });

  it('posts a multipart message with attachments and an inline image, every part and header intact, signed', async () => {
    const pdf = randomBytes(40_000);
    const csv = Buffer.from('id,name\r\n1,Ada\r\n2,Grace\r\n');
    const png = randomBytes(5_000);
    const raw = await compose({
      from: '"Ada Lovelace" <ada@sender.example>',
      to: '"Support Desk" <support@customer.example>',
      subject: 'Order #42: the invoice',
      text: 'See the attached invoice.',
      html: '<p>See the attached invoice. <img src="cid:logo@sender"></p>',
      headers: { 'X-Ticket': '42', 'X-Repeated': ['one', 'two'] },
      attachments: [
        { filename: 'invoice.pdf', content: pdf, contentType: 'application/pdf' },
        { filename: 'rows.csv', content: csv, contentType: 'text/csv' },
        { filename: 'logo.png', content: png, contentType: 'image/png', cid: 'logo@sender' },
      ],
    });
    const transport = smtpTo(t.app.mxPort!);
    const info = await transport.sendMail({ envelope: { from: 'bounce@sender.example', to: ['SUPPORT@customer.example'] }, raw });
    transport.close();
    expect(info.response).toMatch(/^250 /);

    const got = await until(
      () => inboundPayloads(receiver)[0],
      () => receiver.received.length,
    );
    const p = got.json as unknown as InboundPayload;
    expect(got.headers['content-type']).toBe('application/json');
    expect(verify(got.headers, got.body, [route.signingSecret])).toEqual({ ok: true });
    expect(p).toMatchObject({
      SecretKey: route.secretKey,
      ServerId: t.credentials.serverId,
      InboundMailFrom: 'bounce@sender.example',
      InboundRcptTo: 'SUPPORT@customer.example',
      InboundIpAddress: '127.0.0.1',
    });
    expect(p.Message.Subject).toBe('Order #42: the invoice');
    expect(p.Message.From).toEqual({ EmailAddress: 'ada@sender.example', FriendlyName: 'Ada Lovelace' });
    expect(p.Message.To).toEqual([{ EmailAddress: 'support@customer.example', FriendlyName: 'Support Desk' }]);
    expect(p.Message.TextBody?.trim()).toBe('See the attached invoice.');
    expect(p.Message.HtmlBody).toContain('cid:logo@sender');
    expect(p.Message.CustomHeaders.map((h) => h.Name)).toEqual(headerNames(raw));
    expect(p.Message.CustomHeaders.filter((h) => h.Name === 'X-Repeated').map((h) => h.Value)).toEqual(['one', 'two']);
    expect(p.Message.Attachments.map((a) => [a.Name, a.ContentType])).toEqual([
      ['invoice.pdf', 'application/pdf'],
      ['rows.csv', 'text/csv'],
    ]);
    expect(Buffer.from(p.Message.Attachments[0]!.Content, 'base64').equals(pdf)).toBe(true);
    expect(Buffer.from(p.Message.Attachments[1]!.Content, 'base64').equals(csv)).toBe(true);
    expect(p.Message.EmbeddedMedia).toHaveLength(1);
    expect(p.Message.EmbeddedMedia[0]!.ContentType).toBe('image/png');
    expect(p.Message.EmbeddedMedia[0]!.ContentId).toContain('logo@sender');
    expect(Buffer.from(p.Message.EmbeddedMedia[0]!.Content, 'base64').equals(png)).toBe(true);

    // The API shows the message and its attempt (recorded just after the receiver answered); never the bytes.
    await until(
      async () =>
        (await t.store.inbound.listPosts(t.credentials.serverId, route.id, { limit: 1, offset: 0, direction: 'asc' })).rows[0]?.status === 'delivered'
          ? true
          : undefined,
      () => 'not recorded as delivered',
    );
    const msgs = await v2<{ data: { id: number; status: string; attempts: number; rcptTo: string; mailFrom: string; size: number }[]; total: number }>(
      t,
      'GET',
      `/servers/${t.credentials.serverId}/inbound-routes/${route.id}/messages`,
      { key },
    );
    expect(msgs.body.total).toBe(1);
    expect(msgs.body.data[0]).toMatchObject({
      status: 'delivered',
      attempts: 1,
      rcptTo: 'SUPPORT@customer.example',
      mailFrom: 'bounce@sender.example',
      size: raw.length,
    });
    expect(msgs.text).not.toContain(pdf.toString('base64').slice(0, 100));
    const attempts = await v2<{ data: { ok: boolean; status: number }[] }>(
      t,
      'GET',
      `/servers/${t.credentials.serverId}/inbound-routes/${route.id}/messages/${msgs.body.data[0]!.id}/attempts`,
      { key },
    );
    expect(attempts.body.data).toMatchObject([{ ok: true, status: 200 }]);
  });

  it('accepts with 250 while the receiver is down, and posts exactly once when it is back', async () => {
    const before = inboundPayloads(receiver).length;
    await receiver.down();
    const raw = await compose({ from: 'ops@sender.example', to: 'hello@customer.example', subject: 'while you were out', text: 'queued' });
    const transport = smtpTo(t.app.mxPort!);
    const info = await transport.sendMail({ envelope: { from: 'ops@sender.example', to: ['hello@customer.example'] }, raw });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    // The post is stored and has failed at least once (connection refused) before the receiver returns.
    const failed = await until(
      async () => {
        const page = await t.store.inbound.listPosts(t.credentials.serverId, route.id, { limit: 10, offset: 0, direction: 'desc' });
        const p = page.rows.find((x) => x.rcptTo === 'hello@customer.example');
        return p && p.status === 'failed' && p.attempts >= 1 ? p : undefined;
      },
      () => 'no failed attempt',
    );
    expect(failed.lastError).toMatch(/ECONNREFUSED|refused/i);
    await receiver.up();
    const delivered = await until(
      async () => {
        const p = await t.store.inbound.getPost(t.credentials.serverId, route.id, failed.id);
        return p?.status === 'delivered' ? p : undefined;
      },
      () => 'never delivered',
    );
    const arrived = inboundPayloads(receiver)
      .slice(before)
      .filter((x) => (x.json as unknown as InboundPayload).Message.Subject === 'while you were out');
    expect(arrived).toHaveLength(1);
    const log = await t.store.inbound.listAttempts(t.credentials.serverId, route.id, failed.id, { limit: 100, offset: 0, direction: 'asc' });
    expect(log.total).toBe(delivered.attempts);
    expect(log.rows.at(-1)).toMatchObject({ ok: true, httpStatus: 200 });
    expect(log.rows.slice(0, -1).every((a) => !a.ok)).toBe(true);
  });

  it('refuses RCPT for an unrouted address with 550, and nothing is stored', async () => {
    const before = await countRows(t.db, 'inbound_messages');
    const transport = smtpTo(t.app.mxPort!);
    const err = await transport.sendMail({ envelope: { from: 'x@sender.example', to: ['someone@unrouted.example'] }, raw: 'Subject: x\r\n\r\nx\r\n' }).then(
      () => null,
      (e: SmtpError) => e,
    );
    transport.close();
    expect(err?.responseCode).toBe(550);
    expect(await countRows(t.db, 'inbound_messages')).toBe(before);
  });

  it('an address route wins over its domain route, at once after it is created', async () => {
    const other = await startReceiver();
    try {
      const r = await v2<{ data: RouteWire }>(t, 'POST', `/servers/${t.credentials.serverId}/inbound-routes`, {
        key,
        body: { match: 'billing@customer.example', url: other.url },
      });
      expect(r.status).toBe(200);
      const transport = smtpTo(t.app.mxPort!);
      await transport.sendMail({
        envelope: { from: 'a@sender.example', to: ['billing@customer.example', 'sales@customer.example'] },
        raw: await compose({ from: 'a@sender.example', to: 'billing@customer.example', subject: 'two routes', text: 'x' }),
      });
      transport.close();
      const billing = await until(
        () => inboundPayloads(other)[0],
        () => other.received.length,
      );
      expect(billing.json as unknown as InboundPayload).toMatchObject({ InboundRcptTo: 'billing@customer.example', SecretKey: r.body.data.secretKey });
      expect(verify(billing.headers, billing.body, [r.body.data.signingSecret])).toEqual({ ok: true });
      const sales = await until(
        () => inboundPayloads(receiver).find((x) => (x.json as unknown as InboundPayload).Message.Subject === 'two routes'),
        () => receiver.received.length,
      );
      expect((sales.json as unknown as InboundPayload).InboundRcptTo).toBe('sales@customer.example');
      // One message stored once, with a post per recipient.
      const [row] = await (await import('../helpers/webhooks.js')).queryRows<{ n: number | string }>(
        t.db,
        "SELECT COUNT(DISTINCT message_id) AS n FROM inbound_posts WHERE rcpt_to IN ('billing@customer.example', 'sales@customer.example')",
      );
      expect(Number(row!.n)).toBe(1);
    } finally {
      await other.close();
    }
  });

  it('a second server cannot route a domain already routed (409 already_routed), nothing stored', async () => {
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const second = await t.store.tenancy.createServer({ accountId: account.id, name: 'Second' }, Date.now());
    const k2 = (await createKey(t.store, second.id, 'management')).key;
    const before = await countRows(t.db, 'inbound_routes');
    const r = await v2<V2Error>(t, 'POST', `/servers/${second.id}/inbound-routes`, { key: k2, body: { match: 'customer.example', url: receiver.url } });
    expect(r.status).toBe(409);
    expect(r.body.error).toMatchObject({ code: 'already_routed', field: 'match' });
    expect(await countRows(t.db, 'inbound_routes')).toBe(before);
  });

  it('stores a message larger than one chunk in chunks written ahead of its commit, and posts it intact', async () => {
    const big = randomBytes(3 * 1024 * 1024 + 123);
    const raw = await compose({
      from: 'big@sender.example',
      to: 'large@customer.example',
      subject: 'large',
      text: 'attached',
      attachments: [{ filename: 'big.bin', content: big }],
    });
    const before = inboundPayloads(receiver).length;
    const transport = smtpTo(t.app.mxPort!);
    const info = await transport.sendMail({ envelope: { from: 'big@sender.example', to: ['large@customer.example'] }, raw });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    const got = await until(
      () =>
        inboundPayloads(receiver)
          .slice(before)
          .find((x) => (x.json as unknown as InboundPayload).Message.Subject === 'large'),
      () => receiver.received.length,
    );
    const payload = got.json as unknown as InboundPayload;
    expect(Buffer.from(payload.Message.Attachments[0]!.Content, 'base64').equals(big)).toBe(true);
    expect(verify(got.headers as Record<string, string>, got.body, [route.signingSecret]).ok).toBe(true);
    // ceil(raw / 1 MiB) chunks, numbered from 0, belonging to one committed message.
    const chunks = await queryRows<{ message_id: string; seq: number | string }>(
      t.db,
      `SELECT b.message_id, b.seq FROM inbound_bodies b JOIN inbound_messages m ON m.id = b.message_id WHERE m.size_bytes = ${raw.length} ORDER BY b.seq`,
    );
    expect(chunks.map((c) => Number(c.seq))).toEqual([...Array(Math.ceil(raw.length / (1024 * 1024))).keys()]);
  });

  it('sweeps chunks that belong to no committed message once they are old, and keeps recent ones', async () => {
    const now = Date.now();
    await t.store.inbound.putBodyChunk('orphan-old', 0, Buffer.from('x'), now - 2 * 3_600_000);
    await t.store.inbound.putBodyChunk('orphan-new', 0, Buffer.from('y'), now);
    const committed = await countRows(t.db, 'inbound_bodies');
    expect(await t.store.inbound.sweepOrphanBodies(now - 3_600_000)).toBe(1);
    expect(await countRows(t.db, 'inbound_bodies')).toBe(committed - 1);
    expect(await t.store.inbound.messageRaw('orphan-new')).toEqual(Buffer.from('y'));
    expect(await t.store.inbound.messageRaw('orphan-old')).toBeUndefined();
  });
});

describe(`inbound: a store failure at the end of DATA (${TEST_STORE_KIND})`, () => {
  it('answers 451 and stores nothing', async () => {
    const db = await createTestDb();
    const store = await db.open();
    try {
      const { credentials } = await ensureBootstrap(store, db.dataDir, Date.now());
      await store.inbound.createRoute(
        {
          serverId: credentials.serverId,
          match: 'fail.example',
          kind: 'domain',
          url: 'http://127.0.0.1:1/x',
          secretKey: 'k',
          signingSecret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
          enabled: true,
          validatedAt: null,
        },
        Date.now(),
      );
      // The real commit, with posts naming a route that does not exist: the message and its bytes
      // are written, then the posts' foreign key fails the transaction, which must leave nothing.
      const failing = withAreaOverrides(store, 'inbound', () => ({
        commitMessages: (ms: readonly NewInboundMessage[]) =>
          store.inbound.commitMessages(ms.map((m) => ({ ...m, posts: m.posts.map((p) => ({ ...p, routeId: 999_999 })) }))),
      }));
      const config = loadConfig(
        {},
        { dataDir: db.dataDir, databaseUrl: db.databaseUrl, logLevel: 'silent', hostname: 'mx.postline.test', smtpHost: '127.0.0.1', mxPort: 0 },
      );
      const mx = await startMxServer({ config, log: createLogger('silent'), store: failing, now: Date.now, inbound: { routes: new InboundRouteTable(store) } });
      try {
        const transport = smtpTo(mx.port);
        const err = await transport.sendMail({ envelope: { from: 'a@sender.example', to: ['x@fail.example'] }, raw: 'Subject: x\r\n\r\nbody\r\n' }).then(
          () => null,
          (e: SmtpError) => e,
        );
        transport.close();
        expect(err?.responseCode).toBe(451);
        expect(err?.response).toMatch(/4\.3\.0/);
        expect(await countRows(db, 'inbound_messages')).toBe(0);
        expect(await countRows(db, 'inbound_posts')).toBe(0);
      } finally {
        await mx.close();
      }
    } finally {
      await store.close();
      await db.drop();
    }
  });
});
