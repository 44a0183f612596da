import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { queryRows } from '../helpers/webhooks.js';
import { newestMessageId } from '../helpers/wait.js';
import { createLogger } from '../../src/core/log.js';
import { TrackingService } from '../../src/tracking/service.js';
import { TrackingUrls } from '../../src/tracking/urls.js';

const HOUR_MS = 3_600_000;

/** Replayed unsubscribe requests over real HTTP: one unsubscribe per recipient, in events, statistics and webhooks. */
describe(`unsubscribe replays (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let urls: TrackingUrls;

  beforeAll(async () => {
    t = await startTestApp();
    // The same token secret the app uses (one per store), so these URLs are the ones delivery would write.
    const tracking = await TrackingService.open(t.store, () => t.url, createLogger('silent'));
    urls = new TrackingUrls(t.url, tracking.tokens);
    await t.store.webhooks.createEndpoint(
      {
        serverId: t.credentials.serverId,
        url: 'http://127.0.0.1:9/hook',
        eventTypes: [],
        format: 'json',
        secretKey: 'K',
        signingSecret: 'whsec_x',
        enabled: true,
        disabledReason: null,
        validatedAt: Date.now(),
      },
      Date.now(),
    );
  });
  afterAll(async () => {
    await t.close();
  });

  async function sendTo(addresses: string[]) {
    const r = await inject(t, {
      ServerId: t.credentials.serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [{ To: addresses.map((EmailAddress) => ({ EmailAddress })), From: { EmailAddress: 'news@example.com' }, Subject: 'News', TextBody: 'x' }],
    });
    expect(r.body.ErrorCode).toBe('Success');
    const messageId = await newestMessageId(t.store);
    return { messageId, recipients: await t.store.queue.listRecipients(messageId) };
  }
  const unsubscribeEvents = async (messageId: string) =>
    (await t.store.events.list({ messageId })).filter((e) => e.type === 'Tracking' && (e.data as { TrackingType: number }).TrackingType === 2);
  const webhookRows = async (uids: string[]) =>
    (await queryRows<{ event_uid: string }>(t.db, 'SELECT event_uid FROM webhook_deliveries')).filter((r) => uids.includes(r.event_uid));
  const unsubscribesCounted = async () => {
    const now = Date.now();
    const rows = await t.store.reports.readRollups({
      serverId: t.credentials.serverId,
      dim: '',
      dimValue: '',
      fromHour: now - 2 * HOUR_MS,
      toHour: now + HOUR_MS,
      grouping: { by: 'hour' },
    });
    return rows.reduce((n, r) => n + r.counts.unsubscribes, 0);
  };
  const oneClick = (url: string) =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'List-Unsubscribe=One-Click' });
  const formPost = (url: string) => fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'confirm=1' });

  it('a one-click POST sent three times (and the page and its form after it) makes one event, one count, one webhook', async () => {
    const before = await unsubscribesCounted();
    const { messageId, recipients } = await sendTo(['reader@example.org']);
    const url = urls.unsubscribe(recipients[0]!.id);
    for (let i = 0; i < 3; i++) {
      const r = await oneClick(url);
      expect([r.status, await r.text()]).toEqual([200, 'Unsubscribed\n']);
    }
    const suppression = await t.store.suppressions.get(t.credentials.serverId, 'reader@example.org');
    expect(suppression).toMatchObject({ reason: 'Unsubscribe' });
    // The page: GET unsubscribes no one; its form, posted twice, answers the page both times and changes nothing.
    expect((await fetch(url)).status).toBe(200);
    for (let i = 0; i < 2; i++) {
      const r = await formPost(url);
      expect(r.status).toBe(200);
      expect(await r.text()).toContain('You have been unsubscribed.');
    }
    const events = await unsubscribeEvents(messageId);
    expect(events).toHaveLength(1);
    expect(await unsubscribesCounted()).toBe(before + 1);
    expect(await webhookRows(events.map((e) => e.uid))).toHaveLength(1);
    expect(await t.store.suppressions.get(t.credentials.serverId, 'reader@example.org')).toEqual(suppression);
  });

  it('three one-click POSTs at once also count once; each recipient of a message counts for itself', async () => {
    const before = await unsubscribesCounted();
    const { messageId, recipients } = await sendTo(['a@example.org', 'b@example.org']);
    const [a, b] = recipients.map((r) => urls.unsubscribe(r.id)) as [string, string];
    const answers = await Promise.all([oneClick(a), oneClick(a), oneClick(a), formPost(b), formPost(b)]);
    expect(answers.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    const events = await unsubscribeEvents(messageId);
    expect(events.map((e) => e.recipientId).sort()).toEqual(recipients.map((r) => r.id).sort());
    expect(await unsubscribesCounted()).toBe(before + 2);
    expect(await webhookRows(events.map((e) => e.uid))).toHaveLength(2);
  });
});
