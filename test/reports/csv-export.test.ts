import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { inject, startTestApp, type TestApp } from '../helpers/app.js';
import { TEST_STORE_KIND } from '../helpers/stores.js';
import { createKey } from '../helpers/api-v2.js';
import { REPORT_EXPORT_BATCH } from '../../src/core/api-v2-limits.js';
import { byteCompare, parseCsv, recipientFacts } from './sql.js';

const ROWS = 20_000;

/**
 * A large export: 20,000 recipients injected through the Injection API (two merge messages of
 * 10,000), exported as CSV. Every recipient comes once, in sort order across the store's keyset
 * batches, and the body arrives in pieces rather than as one buffered answer.
 */
describe(`recipient search CSV export of ${ROWS} rows (${TEST_STORE_KIND})`, () => {
  let t: TestApp;
  let key: string;
  let serverId: number;

  beforeAll(async () => {
    t = await startTestApp({ roles: ['api'] });
    serverId = t.credentials.serverId;
    key = (await createKey(t.store, serverId, 'management')).key;
    for (let m = 0; m < 2; m++) {
      // Addresses in an order unlike their ids, so sorting by `to` really reorders.
      const rows = Array.from({ length: ROWS / 2 }, (_, i) => [
        { Field: 'DeliveryAddress', Value: `r${String((i * 7919 + m) % 100_000).padStart(5, '0')}-${m}@bulk.example` },
      ]);
      const r = await inject(t, {
        ServerId: serverId,
        ApiKey: t.credentials.apiKey,
        Messages: [{ From: { EmailAddress: 'bulk@example.com' }, Subject: `bulk ${m}`, TextBody: 'hi', To: [], MergeData: { PerMessage: rows } }],
      });
      expect(r.body.ErrorCode, r.text.slice(0, 500)).toBe('Success');
    }
  }, 60_000);
  afterAll(async () => {
    await t?.close();
  });

  it.each([
    ['to', 'asc'],
    ['queuedTime', 'dsc'],
  ] as const)(
    'sorted by %s %s: every row once, in order, streamed in pieces',
    async (sortField, sortDirection) => {
      const res = await fetch(`${t.url}/api/v2/servers/${serverId}/reports/recipient-search?format=csv&sortField=${sortField}&sortDirection=${sortDirection}`, {
        headers: { authorization: `Bearer ${key}` },
      });
      expect(res.status).toBe(200);
      const reader = res.body!.getReader();
      const decoder = new TextDecoder();
      let text = '';
      let pieces = 0;
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        pieces++;
        text += decoder.decode(value, { stream: true });
      }
      expect(pieces).toBeGreaterThan(1);
      const [header, ...rows] = parseCsv(text);
      expect(header![1]).toBe('to');
      expect(rows).toHaveLength(ROWS);
      expect(ROWS).toBeGreaterThan(REPORT_EXPORT_BATCH * 2);
      const facts = await recipientFacts(t.db, serverId);
      const want = facts.sort((a, b) => (sortField === 'to' ? byteCompare(a.address, b.address) : a.created_at - b.created_at) || byteCompare(a.id, b.id));
      if (sortDirection === 'dsc') want.reverse();
      expect(rows.map((r) => r[9])).toEqual(want.map((f) => f.id));
      expect(rows.map((r) => r[1])).toEqual(want.map((f) => f.address));
    },
    60_000,
  );
});
