import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';
import { fakeDns } from '../helpers/fake-dns.js';
import { newestMessageId, waitForRecipients } from '../helpers/wait.js';
import { tracedIdOf } from '../helpers/verp.js';

const FINAL = new Set(['delivered', 'failed', 'sandboxed']);

describe(`delivery outcomes against a real SMTP sink (${TEST_STORE_KIND})`, () => {
  let sink: SmtpSink;
  let t: TestApp;
  const send = (to: string[], extra: Record<string, unknown> = {}) =>
    inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        { To: to.map((EmailAddress) => ({ EmailAddress })), From: { EmailAddress: 'sender@example.com' }, Subject: 'Hello', TextBody: 'Body', ...extra },
      ],
    });

  beforeAll(async () => {
    sink = await startSmtpSink();
    t = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] }, 'null-mx.test': { mx: [{ exchange: '.', priority: 0 }] } }),
      // Seconds, not minutes, so retries happen within the test; lifetime long enough for one retry.
      delivery: { retrySchedule: [200, 400], lifetimeMs: 60_000, pollMs: 50 },
    });
  });
  afterAll(async () => {
    await t.close();
    await sink.close();
  });

  it('delivers: the sink gets the message from a traceable Return-Path and a Delivered event is written', async () => {
    expect((await send(['alice@sink.test'], { MailingId: 'm-1' })).body.ErrorCode).toBe('Success');
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
    expect(r).toMatchObject({ status: 'delivered', attempts: 1, lastMx: '127.0.0.1' });
    expect(r!.lastReply).toMatch(/^250/);
    const got = sink.messages.find((m) => m.rcptTo.includes('alice@sink.test'))!;
    // The recipient id with the tag that proves a report about it came from mail we sent.
    const traced = await tracedIdOf(t.store, r!.id);
    expect(traced).toMatch(new RegExp(`^${r!.id.toLowerCase()}-[0-9a-hjkmnp-tv-z]{13}$`));
    expect(got.mailFrom).toBe(`b+${traced}@postline.test`);
    const text = got.data.toString();
    expect(text).toMatch(/^Subject: Hello\r$/m);
    expect(text).toContain(`Message-ID: <${traced}@postline.test>`);
    const events = (await t.store.events.list({ messageId: id })).map((e) => [e.type, (e.data as { RemoteMta?: string } | null)?.RemoteMta ?? null]);
    expect(events).toEqual([
      ['Queued', null],
      ['Delivered', '127.0.0.1'],
    ]);
  });

  it('defers a temporary failure with the schedule and delivers on the retry', async () => {
    await send(['tempfail-once@sink.test']);
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
    expect(r).toMatchObject({ status: 'delivered', attempts: 2 });
    const events = await t.store.events.list({ messageId: id });
    expect(events.map((e) => e.type)).toEqual(['Queued', 'Deferred', 'Delivered']);
    expect(events[1]!.data).toMatchObject({ FailureCode: 3003, BounceStatus: '4.7.1', Attempts: 1 });
  });

  it('fails a permanent rejection at once, classified', async () => {
    await send(['permfail@sink.test']);
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
    expect(r).toMatchObject({ status: 'failed', attempts: 1, failureCode: 2001 });
    const failed = (await t.store.events.list({ messageId: id })).find((e) => e.type === 'Failed')!;
    expect(failed.data).toMatchObject({ FailureType: 1, FailureCode: 2001, BounceStatus: '5.1.1', RemoteMta: '127.0.0.1' });
    expect((failed.data as { Reason: string }).Reason).toContain('User unknown');
  });

  it('fails a rejection at the end of DATA as a content block', async () => {
    await send(['datafail@sink.test']);
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
    expect(r).toMatchObject({ status: 'failed', failureCode: 1004 });
  });

  it('expires a recipient that keeps failing temporarily past its lifetime', async () => {
    const short = await startTestApp({
      roles: ['api', 'delivery'],
      config: { outboundPort: sink.port },
      dns: fakeDns({ 'sink.test': { mx: [{ exchange: '127.0.0.1', priority: 10 }] } }),
      delivery: { retrySchedule: [100], lifetimeMs: 600, pollMs: 50 },
    });
    try {
      await inject(short, {
        ServerId: short.credentials.serverId,
        ApiKey: short.credentials.apiKey,
        Messages: [{ To: [{ EmailAddress: 'tempfail@sink.test' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'T' }],
      });
      const id = await newestMessageId(short.store);
      const [r] = await waitForRecipients(short.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
      expect(r).toMatchObject({ status: 'failed', failureCode: 4004 });
      expect(r!.attempts).toBeGreaterThanOrEqual(2);
      const events = await short.store.events.list({ messageId: id });
      expect(events.at(-1)!.data).toMatchObject({ FailureType: 0, FailureCode: 4004, Expired: true });
      expect(events.filter((e) => e.type === 'Deferred').length).toBe(r!.attempts - 1);
    } finally {
      await short.close();
    }
  });

  it('fails a domain with a null MX without trying', async () => {
    await send(['x@null-mx.test']);
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
    expect(r).toMatchObject({ status: 'failed', failureCode: 2002, lastMx: null });
  });

  it("keeps a sandbox server's mail: processed and evented, never sent", async () => {
    const account = (await t.store.tenancy.listAccounts())[0]!;
    const box = await t.store.tenancy.createServer({ accountId: account.id, name: 'Sandbox', sandbox: true }, Date.now());
    const { generateApiKey } = await import('../../src/core/api-key.js');
    const k = generateApiKey();
    await t.store.tenancy.createApiKey({ serverId: box.id, scope: 'injection', name: 'k', publicId: k.publicId, secretHash: k.secretHash }, Date.now());
    const before = sink.messages.length;
    const res = await inject(t, {
      ServerId: box.id,
      ApiKey: k.key,
      Messages: [{ To: [{ EmailAddress: 'kept@sink.test' }], From: { EmailAddress: 's@example.com' }, Subject: 'S', TextBody: 'T' }],
    });
    expect(res.body.ErrorCode).toBe('Success');
    const id = await newestMessageId(t.store);
    const [r] = await waitForRecipients(t.store, id, (rs) => rs.every((x) => FINAL.has(x.status)));
    expect(r!.status).toBe('sandboxed');
    expect((await t.store.events.list({ messageId: id })).map((e) => e.type)).toEqual(['Queued', 'Delivered']);
    expect(await t.store.queue.getMessageTemplate(id)).toBeTruthy();
    expect(sink.messages.length).toBe(before);
  });
});
