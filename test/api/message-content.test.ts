import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey, v2, type V2Error } from '../helpers/api-v2.js';
import { MESSAGE_HTML_CSP, MESSAGE_HTML_CSP_REMOTE_IMAGES } from '../../src/api/v2/reports/content.js';
import { describeFailureCode } from '../../src/core/failure-codes.js';

interface Content {
  recipientId: string;
  to: string;
  subject: string;
  status: string;
  bodyRetained: boolean;
  renderedSubject: string | null;
  headers: { name: string; value: string }[];
  text: string | null;
  preview: string;
  hasHtml: boolean;
  attachments: { filename: string | null; mimeType: string; size: number; disposition: string | null; contentId: string | null }[];
}

// A 1x1 PNG, inline by Content-ID.
const PIXEL = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==';

/**
 * The message content routes the control panel reads a message with: the rendered message taken
 * apart (headers, text, attachments, preview) and its HTML part on a URL of its own under a
 * sandboxing Content-Security-Policy. A merge message with an attachment and an inline image,
 * and a text-only one, through the Injection API.
 */
describe(`message content and HTML (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let key: string;
  let serverId: number;
  const content = (q: Record<string, string | number>) =>
    v2<{ data: Content[]; total: number } & V2Error>(t, 'GET', `/servers/${serverId}/reports/messages/content`, { key, query: q });
  const html = (q: Record<string, string | number>) => v2<string>(t, 'GET', `/servers/${serverId}/reports/messages/html`, { key, query: q });
  let ann: Content;
  let plain: Content;

  beforeAll(async () => {
    t = await startTestApp();
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    const r = await inject(t, {
      ServerId: serverId,
      ApiKey: t.credentials.apiKey,
      Messages: [
        {
          From: { EmailAddress: 'shop@example.com' },
          To: [],
          Subject: 'Order %%Order%% shipped',
          TextBody: 'Hello %%Name%%,\n\n  your order   %%Order%% is on its way.',
          HtmlBody: '<p>Hello <b>%%Name%%</b></p><img alt="logo" src="cid:logo1"><script>alert(1)</script>',
          MailingId: 'ship',
          Attachments: [
            { Name: 'invoice.txt', ContentType: 'text/plain', Content: Buffer.from('invoice 42\n').toString('base64') },
            { Name: 'logo.png', ContentType: 'image/png', Content: PIXEL, ContentId: 'logo1' },
            { Name: 'Grüße "page".html', ContentType: 'text/html', Content: Buffer.from('<script>alert(1)</script>').toString('base64') },
          ],
          MergeData: {
            PerMessage: [
              [
                { Field: 'DeliveryAddress', Value: 'ann@example.net' },
                { Field: 'Name', Value: 'Ann' },
                { Field: 'Order', Value: '7' },
              ],
            ],
          },
        },
        { From: { EmailAddress: 'shop@example.com' }, To: [{ EmailAddress: 'bo@example.net' }], Subject: 'Plain', TextBody: 'Only text.' },
      ],
    });
    expect(r.body.ErrorCode, r.text).toBe('Success');
  });

  afterAll(async () => {
    await t?.close();
  });

  it("takes the recipient's rendered message apart: merged subject, headers, text, preview, attachments", async () => {
    const all = await content({ sortField: 'to', sortDirection: 'asc' });
    expect(all.status, all.text).toBe(200);
    expect(all.body.total).toBe(2);
    [ann, plain] = all.body.data as [Content, Content];
    expect(ann).toMatchObject({
      to: 'ann@example.net',
      subject: 'Order %%Order%% shipped',
      renderedSubject: 'Order 7 shipped',
      bodyRetained: true,
      hasHtml: true,
    });
    expect(ann.text).toContain('Hello Ann,');
    expect(ann.preview).toBe('Hello Ann, your order 7 is on its way.');
    expect(ann.headers.find((h) => h.name.toLowerCase() === 'subject')?.value).toBe('Order 7 shipped');
    expect(ann.headers.find((h) => h.name.toLowerCase() === 'to')?.value).toContain('ann@example.net');
    expect(ann.attachments).toEqual([
      { filename: 'logo.png', mimeType: 'image/png', size: Buffer.from(PIXEL, 'base64').length, disposition: 'inline', contentId: '<logo1>' },
      { filename: 'invoice.txt', mimeType: 'text/plain', size: 11, disposition: 'attachment', contentId: null },
      { filename: 'Grüße "page".html', mimeType: 'text/html', size: 25, disposition: 'attachment', contentId: null },
    ]);
    expect(plain).toMatchObject({ to: 'bo@example.net', hasHtml: false, text: 'Only text.\n', preview: 'Only text.', attachments: [] });
  });

  it('selects one recipient by recipientId, or by the search filters', async () => {
    const one = await content({ recipientId: ann.recipientId });
    expect(one.body.data.map((d) => d.to)).toEqual(['ann@example.net']);
    const byMailing = await content({ mailingId: 'ship' });
    expect(byMailing.body.data.map((d) => d.to)).toEqual(['ann@example.net']);
    const none = await content({ recipientId: 'nope' });
    expect([none.status, none.body.total]).toEqual([200, 0]);
    const bad = await content({ toEmailAddress: 'not an address' });
    expect([bad.status, bad.body.error.code, bad.body.error.field]).toEqual([400, 'validation_failed', 'toEmailAddress']);
  });

  it('serves the HTML part under a CSP that runs no script and loads no remote image, inline images as data: URLs', async () => {
    const r = await html({ recipientId: ann.recipientId });
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(r.headers.get('content-security-policy')).toBe(MESSAGE_HTML_CSP);
    expect(MESSAGE_HTML_CSP).toMatch(/^sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data: cid:;/);
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('cache-control')).toBe('no-store');
    expect(r.text).toContain('<p>Hello <b>Ann</b></p>');
    expect(r.text).toContain(`src="data:image/png;base64,${PIXEL}"`);
    const remote = await html({ recipientId: ann.recipientId, remoteImages: 'true' });
    expect(remote.headers.get('content-security-policy')).toBe(MESSAGE_HTML_CSP_REMOTE_IMAGES);
    expect(MESSAGE_HTML_CSP_REMOTE_IMAGES).toContain('img-src data: cid: https: http:;');
    expect(MESSAGE_HTML_CSP_REMOTE_IMAGES).toMatch(/^sandbox; default-src 'none';/);
  });

  it('answers 404 naming recipientId for an unknown recipient or a message without HTML, 400 without one', async () => {
    const unknown = await html({ recipientId: 'nope' });
    expect(unknown.status).toBe(404);
    expect(JSON.parse(unknown.text)).toMatchObject({ error: { code: 'not_found', field: 'recipientId' } });
    const noHtml = await html({ recipientId: plain.recipientId });
    expect(noHtml.status).toBe(404);
    expect(JSON.parse(noHtml.text).error.message).toMatch(/no HTML part/);
    const missing = await html({});
    expect(missing.status).toBe(400);
    const other = await v2(t, 'GET', `/servers/${serverId}/reports/messages/html`, { key: null, query: { recipientId: ann.recipientId } });
    expect(other.status).toBe(401);
  });

  it('serves an attachment as a download that the browser never renders, whatever type the sender declared', async () => {
    const attachment = (q: Record<string, string | number>) => v2<string>(t, 'GET', `/servers/${serverId}/reports/messages/attachment`, { key, query: q });
    const invoice = await attachment({ recipientId: ann.recipientId, index: 1 });
    expect(invoice.status).toBe(200);
    expect(invoice.text).toBe('invoice 42\n');
    expect(invoice.headers.get('content-type')).toBe('application/octet-stream');
    expect(invoice.headers.get('content-disposition')).toBe(`attachment; filename="invoice.txt"; filename*=UTF-8''invoice.txt`);
    const page = await attachment({ recipientId: ann.recipientId, index: 2 });
    expect(page.text).toBe('<script>alert(1)</script>');
    expect(page.headers.get('content-type')).toBe('application/octet-stream');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('content-security-policy')).toBe("sandbox; default-src 'none'");
    // The exact name in filename*, an ASCII stand-in (no quote to end the parameter early) in filename.
    expect(page.headers.get('content-disposition')).toBe(`attachment; filename="Gr__e _page_.html"; filename*=UTF-8''Gr%C3%BC%C3%9Fe%20%22page%22.html`);
    const missing = await attachment({ recipientId: ann.recipientId, index: 3 });
    expect(missing.status).toBe(404);
    expect(JSON.parse(missing.text)).toMatchObject({ error: { code: 'not_found', field: 'index' } });
    const none = await attachment({ recipientId: plain.recipientId, index: 0 });
    expect(JSON.parse(none.text).error.message).toMatch(/has 0 attachment/);
    expect((await attachment({ recipientId: 'nope', index: 0 })).status).toBe(404);
    expect((await attachment({ recipientId: ann.recipientId, index: -1 })).status).toBe(400);
    expect((await attachment({ recipientId: ann.recipientId })).status).toBe(400);
  });

  it('are in the OpenAPI document', async () => {
    const doc = (await (await fetch(`${t.url}/api/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining([
        '/api/v2/servers/{serverId}/reports/messages/content',
        '/api/v2/servers/{serverId}/reports/messages/html',
        '/api/v2/servers/{serverId}/reports/messages/attachment',
      ]),
    );
  });

  it('explains FailureCodes in words, by family outside the table', () => {
    expect(describeFailureCode(2001)).toMatch(/does not exist/);
    expect(describeFailureCode(9999)).toMatch(/suppression list/);
    expect(describeFailureCode(3004)).toBe('The recipient failed temporarily.');
    expect(describeFailureCode(null)).toBeNull();
  });
});
