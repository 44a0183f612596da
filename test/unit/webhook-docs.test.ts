import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { generateSecret, sign } from '../../src/net/standard-signature.js';
import { WEBHOOK_RETRY_SCHEDULE_MS } from '../../src/net/backoff.js';
import { MAX_WEBHOOK_URL_LENGTH } from '../../src/net/url-guard.js';
import { DEFAULT_WEBHOOK_TIMEOUT_MS, MAX_RESPONSE_SNIPPET_BYTES } from '../../src/net/post.js';
import {
  DEFAULT_WEBHOOK_STALE_CLAIM_MS,
  WEBHOOK_HELD_MAX,
  WEBHOOK_HELD_PER_ENDPOINT,
  WEBHOOK_HELD_PER_SLOW_ENDPOINT,
  WEBHOOK_POSTS_PER_ENDPOINT,
} from '../../src/webhooks/dispatcher.js';

const doc = readFileSync(join(import.meta.dirname, '../../docs/webhooks.md'), 'utf8');

describe('docs/webhooks.md', () => {
  const dir = mkdtempSync(join(tmpdir(), 'postline-webhook-doc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('its verification snippet accepts what Postline signs and refuses tampering', async () => {
    const block = /<!-- verify-snippet[^>]*-->\n```js\n([\s\S]*?)```/.exec(doc);
    expect(block, 'the marked ```js block').not.toBeNull();
    const file = join(dir, 'verify.mjs');
    writeFileSync(file, block![1]!);
    const { verifyWebhook } = (await import(pathToFileURL(file).href)) as {
      verifyWebhook: (h: Record<string, string>, body: string | Buffer, secret: string) => boolean;
    };
    const oldSecret = generateSecret();
    const secret = generateSecret();
    const body = '{"Type":"Delivered","EventId":"01H2XKQ9V0M6P4T2W8Y3Z5A7BC"}';
    const headers = sign('01H2XKQ9V0M6P4T2W8Y3Z5A7BC', Math.floor(Date.now() / 1000), body, [secret, oldSecret]);
    expect(verifyWebhook(headers, body, secret)).toBe(true);
    expect(verifyWebhook(headers, Buffer.from(body), oldSecret)).toBe(true);
    expect(verifyWebhook(headers, body.replace('Delivered', 'Failed'), secret)).toBe(false);
    expect(verifyWebhook(headers, body, generateSecret())).toBe(false);
    expect(verifyWebhook({ ...headers, 'webhook-timestamp': 'x' }, body, secret)).toBe(false);
    const stale = sign('01H2XKQ9V0M6P4T2W8Y3Z5A7BC', Math.floor(Date.now() / 1000) - 3600, body, [secret]);
    expect(verifyWebhook(stale, body, secret)).toBe(false);
  });

  it('states the limits the code uses', () => {
    expect(doc).toContain(`After the ${WEBHOOK_RETRY_SCHEDULE_MS.length + 1}th failed attempt`);
    expect(doc).toContain(`at most ${MAX_WEBHOOK_URL_LENGTH.toLocaleString('en-US')} characters`);
    expect(doc).toContain(`at most ${MAX_RESPONSE_SNIPPET_BYTES / 1024} KB of your answer`);
    expect(doc).toContain(`2xx** within ${DEFAULT_WEBHOOK_TIMEOUT_MS / 1000} seconds`);
  });

  it('states the per-endpoint lanes the dispatcher uses', () => {
    expect(doc).toContain(`At most ${WEBHOOK_POSTS_PER_ENDPOINT} POSTs to one endpoint are in flight at once (\`WEBHOOK_POSTS_PER_ENDPOINT\`)`);
    expect(doc).toContain(`${WEBHOOK_HELD_PER_ENDPOINT} events of one endpoint\n  claimed and not yet recorded`);
    expect(doc).toContain(`${WEBHOOK_HELD_PER_SLOW_ENDPOINT} (\`WEBHOOK_HELD_PER_SLOW_ENDPOINT\`, two rounds of POSTs)`);
    expect(WEBHOOK_HELD_PER_SLOW_ENDPOINT).toBe(2 * WEBHOOK_POSTS_PER_ENDPOINT);
    expect(doc).toContain(`(${WEBHOOK_HELD_PER_ENDPOINT} / ${WEBHOOK_POSTS_PER_ENDPOINT} × ${DEFAULT_WEBHOOK_TIMEOUT_MS / 1000} s)`);
    expect(doc).toContain(`at most ${WEBHOOK_HELD_MAX.toLocaleString('en-US')} claimed events in all (\`WEBHOOK_HELD_MAX\`)`);
    expect(doc).toContain(`it takes ${WEBHOOK_HELD_MAX / WEBHOOK_HELD_PER_SLOW_ENDPOINT} slow\n  endpoints`);
    expect(doc).toContain(`(${DEFAULT_WEBHOOK_STALE_CLAIM_MS / 60_000} minutes)`);
  });
});
