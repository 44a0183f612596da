import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTransport } from 'nodemailer';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import type { StoredRecipient } from '../../src/store/store.js';

const FINAL = new Set(['delivered', 'failed', 'suppressed', 'sandboxed']);
const allFinal = (rs: StoredRecipient[]) => rs.every((r) => FINAL.has(r.status));

/**
 * Suppression end to end: a listed recipient is accepted but never sent (Failed, FailureType 2,
 * FailureCode 9999), over the Injection API and over SMTP, while its co-recipients are delivered;
 * a permanent address failure lists the address, other failures do not.
 */
describe(`suppression at accept time and after delivery (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  let serverId: number;
  const sentTo = (address: string) => sink.messages.filter((m) => m.rcptTo.some((r) => r.toLowerCase() === address.toLowerCase())).length;
  const send = (to: string[]) =>
    inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: to.map((EmailAddress) => ({ EmailAddress })), From: { EmailAddress: 'sender@example.com' }, Subject: 'Hello', TextBody: 'Body' }],
    });
  const typesFor = async (messageId: string, recipientId: string) =>
    (await t.store.events.list({ messageId })).filter((e) => e.recipientId === recipientId).map((e) => e.type);

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'smtp', 'delivery'],
      config: { outboundPort: sink.port, submissionPort: 0, smtpHost: '127.0.0.1' },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] }, 'null-mx.test': { mx: [{ exchange: '.', priority: 0 }] } }),
      delivery: { retrySchedule: [100], lifetimeMs: 2_000, pollMs: 50 },
    });
    serverId = t.credentials.serverId;
    await t.store.suppressions.add(serverId, [{ address: 'blocked@sink.test', reason: 'Unsubscribe', detail: 'clicked unsubscribe' }], Date.now());
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('Injection API: answers Success, fails only the suppressed recipient (2/9999) and delivers the others', async () => {
    const r = await send(['one@sink.test', 'Blocked@SINK.test', 'two@sink.test']);
    // SocketLabs accepts the message and reports the suppression afterwards, as a Failed event.
    expect(r.text).toBe('{"ErrorCode":"Success","MessageResults":[],"TransactionReceipt":null}');
    const id = await newestMessageId(t.store);
    const rs = await waitForRecipients(t.store, id, allFinal);
    expect(rs.map((x) => [x.address, x.status, x.attempts])).toEqual([
      ['one@sink.test', 'delivered', 1],
      ['Blocked@SINK.test', 'suppressed', 0],
      ['two@sink.test', 'delivered', 1],
    ]);
    const blocked = rs[1]!;
    expect(blocked).toMatchObject({ failureCode: 9999, lastMx: null, lockedBy: null });
    expect(await typesFor(id, blocked.id)).toEqual(['Failed']);
    const failed = (await t.store.events.list({ messageId: id })).find((e) => e.recipientId === blocked.id)!;
    expect(failed.data).toMatchObject({ FailureType: 2, FailureCode: 9999, SuppressionReason: 'Unsubscribe', RemoteMta: null });
    expect((failed.data as { Reason: string }).Reason).toBe("Suppressed: Blocked@SINK.test is on this server's suppression list (Unsubscribe); not sent");
    for (const other of [rs[0]!, rs[2]!]) expect(await typesFor(id, other.id)).toEqual(['Queued', 'Delivered']);
    expect(sentTo('one@sink.test')).toBe(1);
    expect(sentTo('two@sink.test')).toBe(1);
    expect(sentTo('blocked@sink.test')).toBe(0);
  });

  it('Injection API: a message whose only recipient is suppressed is still Success, and nothing is sent', async () => {
    const before = sink.messages.length;
    expect((await send(['blocked@sink.test'])).body.ErrorCode).toBe('Success');
    const id = await newestMessageId(t.store).catch(() => null);
    const all = await t.store.events.list({ limit: 1_000_000 });
    const last = all.at(-1)!;
    expect(last).toMatchObject({ type: 'Failed', data: expect.objectContaining({ FailureType: 2, FailureCode: 9999 }) });
    expect((await t.store.queue.listRecipients(last.messageId)).map((x) => x.status)).toEqual(['suppressed']);
    expect(id).not.toBe(last.messageId); // no Queued event was written for it
    await new Promise((r) => setTimeout(r, 200));
    expect(sink.messages.length).toBe(before);
  });

  it('SMTP relay: 250 for the message; the suppressed RCPT gets 2/9999 and is not sent, the others are delivered', async () => {
    const transport = createTransport({
      host: '127.0.0.1',
      port: t.app.smtpPort!,
      secure: false,
      requireTLS: true,
      tls: { rejectUnauthorized: false },
      auth: { user: String(serverId), pass: t.credentials.apiKey },
    });
    const info = await transport.sendMail({
      from: 'sender@example.com',
      to: ['relay1@sink.test', 'BLOCKED@sink.test'],
      bcc: 'relay2@sink.test',
      subject: 'Relayed',
      text: 'Hi',
    });
    transport.close();
    expect(info.response).toMatch(/^250 /);
    const id = /queued as (\w+)/.exec(info.response)![1]!;
    const rs = await waitForRecipients(t.store, id, allFinal);
    const status = Object.fromEntries(rs.map((x) => [x.address.toLowerCase(), x.status]));
    expect(status).toEqual({ 'relay1@sink.test': 'delivered', 'blocked@sink.test': 'suppressed', 'relay2@sink.test': 'delivered' });
    const blocked = rs.find((x) => x.status === 'suppressed')!;
    const events = await t.store.events.list({ messageId: id });
    expect(
      events
        .filter((e) => e.type === 'Failed')
        .map((e) => [e.recipientId, (e.data as { FailureType: number }).FailureType, (e.data as { FailureCode: number }).FailureCode]),
    ).toEqual([[blocked.id, 2, 9999]]);
    expect(events.filter((e) => e.type === 'Queued').length).toBe(2);
    expect(sentTo('relay1@sink.test')).toBe(1);
    expect(sentTo('relay2@sink.test')).toBe(1);
    expect(sentTo('blocked@sink.test')).toBe(0);
  });

  it('a permanent 5.1.1 failure lists the address (Bounce) in the transaction that records it; the next send is suppressed', async () => {
    await send(['permfail-a@sink.test']);
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, allFinal);
    expect(r).toMatchObject({ status: 'failed', failureCode: 2001 });
    const listed = await t.store.suppressions.get(serverId, 'PERMFAIL-A@sink.test');
    expect(listed).toMatchObject({ address: 'permfail-a@sink.test', reason: 'Bounce' });
    expect(listed!.detail).toMatch(/^FailureCode 2001: 550 5\.1\.1 <permfail-a@sink\.test>: Recipient address rejected: User unknown/);
    // The outcome and the suppression are one commit: the row's update time is the outcome's.
    expect(listed!.createdAt).toBe(r!.updatedAt);

    const attempts = sink.connections;
    await send(['permfail-a@sink.test']);
    const all = await t.store.events.list({ limit: 1_000_000 });
    const again = await t.store.queue.listRecipients(all.at(-1)!.messageId);
    expect(again.map((x) => [x.status, x.failureCode])).toEqual([['suppressed', 9999]]);
    await new Promise((res) => setTimeout(res, 200));
    expect(sink.connections).toBe(attempts);
  });

  it('neither a temporary failure (4xx, even once expired) nor a 5.7.1 policy block lists the address', async () => {
    await send(['tempfail-b@sink.test', 'datafail-b@sink.test']);
    const id = await newestMessageId(t.store);
    const rs = await waitForRecipients(t.store, id, allFinal);
    expect(rs.map((x) => [x.address, x.status, x.failureCode])).toEqual([
      ['tempfail-b@sink.test', 'failed', 4004],
      ['datafail-b@sink.test', 'failed', 1004],
    ]);
    expect((await t.store.events.list({ messageId: id })).some((e) => e.type === 'Deferred')).toBe(true);
    expect(await t.store.suppressions.listedAmong(serverId, ['tempfail-b@sink.test', 'datafail-b@sink.test'])).toEqual(new Map());
  });

  it("a null MX lists the address; a domain our resolver cannot find fails the recipient but does not (it may be the resolver's fault)", async () => {
    await send(['x@null-mx.test', 'y@nowhere.test']);
    const id = await newestMessageId(t.store);
    const rs = await waitForRecipients(t.store, id, allFinal);
    expect(rs.map((x) => [x.address, x.status, x.failureCode])).toEqual([
      ['x@null-mx.test', 'failed', 2002],
      ['y@nowhere.test', 'failed', 2002],
    ]);
    const listed = await t.store.suppressions.listedAmong(serverId, ['x@null-mx.test', 'y@nowhere.test']);
    expect([...listed]).toEqual([['x@null-mx.test', 'Bounce']]);
  });

  it('a suppression added through the API applies to the next accept, and removing it lets mail through again', async () => {
    await t.store.suppressions.remove(serverId, ['permfail-a@sink.test']);
    await t.store.suppressions.add(serverId, [{ address: 'later@sink.test', reason: 'CustomerRequest' }], Date.now());
    await send(['later@sink.test']);
    let rows = await t.store.queue.listRecipients((await t.store.events.list({ limit: 1_000_000 })).at(-1)!.messageId);
    expect(rows[0]!.status).toBe('suppressed');
    await t.store.suppressions.remove(serverId, ['later@sink.test']);
    await send(['later@sink.test']);
    const id = await newestMessageId(t.store);
    rows = await waitForRecipients(t.store, id, allFinal);
    expect(rows[0]!.status).toBe('delivered');
    expect(sentTo('later@sink.test')).toBe(1);
  });
});
