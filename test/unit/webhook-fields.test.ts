import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  buildPayload,
  encodePayload,
  LEGACY_NOTIFICATION_TYPES,
  WEBHOOK_EVENT_TYPES,
  type WebhookEvent,
  type WebhookEventType,
} from '../../src/webhooks/payload.js';
import { validationEvent } from '../../src/webhooks/event-row.js';

/**
 * SocketLabs' field-availability table (from its Event Webhook documentation), written out here
 * by hand rather than derived from the code: which keys each type's payload has.
 * "all" rows: Type/DateTime/ServerId/SecretKey/Address/MailingId/MessageId; SubaccountId all but
 * Complaint; IpPoolId Deferred, Delivered, Failed; Data all but Complaint; then the per-type rows.
 */
const COMMON = ['Type', 'DateTime', 'ServerId', 'SecretKey', 'Address', 'MailingId', 'MessageId'];
const SOCKETLABS_FIELDS: Record<WebhookEventType, string[]> = {
  Queued: [...COMMON, 'SubaccountId', 'Data', 'FromAddress', 'Subject', 'MessageSize'],
  Deferred: [...COMMON, 'SubaccountId', 'IpPoolId', 'Data', 'FromAddress', 'DeferralCode', 'Reason'],
  Delivered: [...COMMON, 'SubaccountId', 'IpPoolId', 'Data', 'Response', 'LocalIp', 'RemoteMta'],
  Failed: [...COMMON, 'SubaccountId', 'IpPoolId', 'Data', 'FromAddress', 'FailureType', 'FailureCode', 'Reason', 'BounceStatus', 'DiagnosticCode', 'RemoteMta'],
  Tracking: [...COMMON, 'SubaccountId', 'Data', 'TrackingType', 'UserAgent', 'ClientIp', 'Url', 'Tag'],
  Complaint: [...COMMON, 'FblType', 'UserAgent', 'From', 'To', 'Length'],
  Validation: [...COMMON, 'SubaccountId', 'Data'],
};
/** Postline's documented additions (docs/webhooks.md): EventId everywhere, Machine on Tracking, SuppressionReason on Failed. */
const ADDITIONS: Record<WebhookEventType, string[]> = {
  Queued: ['EventId'],
  Deferred: ['EventId'],
  Delivered: ['EventId'],
  Failed: ['EventId', 'SuppressionReason'],
  Tracking: ['EventId', 'Machine'],
  Complaint: ['EventId'],
  Validation: ['EventId'],
};
/** What the legacy Notification API's form body may not carry: v2 ids, Data, and Postline's additions. */
const NOT_LEGACY = ['SubaccountId', 'IpPoolId', 'Data', 'EventId', 'Machine', 'SuppressionReason'];

const expectedJson = (t: WebhookEventType) => [...SOCKETLABS_FIELDS[t], ...ADDITIONS[t]].sort();
const sorted = (o: object) => Object.keys(o).sort();

const T = Date.UTC(2024, 0, 2, 3, 4, 5, 678);
const about = { eventId: 'E', occurredAt: T, serverId: 9, address: 'rcpt@example.net' };
const data = { meta: [{ key: 'k', value: 'v' }], tags: ['t'] };

/** Each type twice: with every optional value set, and with none of them. */
const EVENTS: Record<WebhookEventType, { full: WebhookEvent; bare: WebhookEvent }> = {
  Queued: {
    full: { ...about, ...data, mailingId: 'm', messageId: 'i', type: 'Queued', fromAddress: 'f@example.com', subject: 's', messageSize: 10 },
    bare: { ...about, meta: [], tags: [], type: 'Queued', fromAddress: 'f@example.com', subject: '', messageSize: 0 },
  },
  Deferred: {
    full: { ...about, ...data, mailingId: 'm', messageId: 'i', type: 'Deferred', fromAddress: 'f@example.com', deferralCode: 451, reason: '451 later' },
    bare: { ...about, meta: [], tags: [], type: 'Deferred', reason: 'connect ECONNREFUSED' },
  },
  Delivered: {
    full: { ...about, ...data, mailingId: 'm', messageId: 'i', type: 'Delivered', response: '250 ok', localIp: '192.0.2.1', remoteMta: 'mx.example.net' },
    bare: { ...about, meta: [], tags: [], type: 'Delivered', response: '250 Sandbox mode' },
  },
  Failed: {
    full: {
      ...about,
      ...data,
      mailingId: 'm',
      messageId: 'i',
      type: 'Failed',
      fromAddress: 'f@example.com',
      failureType: 2,
      failureCode: 9999,
      reason: 'r',
      bounceStatus: '5.1.1',
      diagnosticCode: 'smtp; 550',
      remoteMta: 'mx.example.net',
      suppressionReason: 'Complaint',
    },
    bare: { ...about, meta: [], tags: [], type: 'Failed', failureType: 0, reason: 'expired' },
  },
  Tracking: {
    full: {
      ...about,
      ...data,
      mailingId: 'm',
      messageId: 'i',
      type: 'Tracking',
      trackingType: 0,
      userAgent: 'UA',
      clientIp: '203.0.113.1',
      url: 'https://x.test/',
      tag: 'tg',
      machine: true,
    },
    bare: { ...about, meta: [], tags: [], type: 'Tracking', trackingType: 1, userAgent: 'UA', clientIp: '203.0.113.1' },
  },
  Complaint: {
    full: {
      ...about,
      mailingId: 'm',
      messageId: 'i',
      type: 'Complaint',
      fblType: 'abuse',
      userAgent: 'FBL/1',
      from: 'f@example.com',
      to: 'rcpt@example.net',
      length: 5,
    },
    bare: { ...about, type: 'Complaint', fblType: 'abuse', from: 'f@example.com', to: 'rcpt@example.net', length: 5 },
  },
  Validation: { full: validationEvent('E', 9, T), bare: validationEvent('E', 9, T) },
};

describe("webhook payload fields against SocketLabs' field table", () => {
  it('the table covers every registered type', () => {
    expect(Object.keys(SOCKETLABS_FIELDS).sort()).toEqual([...WEBHOOK_EVENT_TYPES].sort());
  });

  for (const type of WEBHOOK_EVENT_TYPES) {
    it(`${type}: JSON has exactly the table's keys (plus Postline's additions), with and without optional values`, () => {
      const full = buildPayload(EVENTS[type].full, 'S');
      const bare = buildPayload(EVENTS[type].bare, 'S');
      expect(sorted(full)).toEqual(expectedJson(type));
      expect(sorted(bare)).toEqual(expectedJson(type));
      expect(full.Type).toBe(type);
      // Without values the keys stay and carry null (never undefined, which JSON would drop).
      expect(Object.values(bare)).not.toContain(undefined);
      expect(JSON.parse(encodePayload(bare, 'json').body)).toEqual(bare);
    });
  }

  it('the optional values a bare event lacks come out as null', () => {
    expect(buildPayload(EVENTS.Delivered.bare, 'S')).toMatchObject({ LocalIp: null, RemoteMta: null, MailingId: null, MessageId: null, IpPoolId: null });
    expect(buildPayload(EVENTS.Failed.bare, 'S')).toMatchObject({
      FromAddress: null,
      FailureCode: null,
      BounceStatus: null,
      DiagnosticCode: null,
      RemoteMta: null,
      SuppressionReason: null,
    });
    expect(buildPayload(EVENTS.Deferred.bare, 'S')).toMatchObject({ FromAddress: null, DeferralCode: null });
    expect(buildPayload(EVENTS.Tracking.bare, 'S')).toMatchObject({ Url: null, Tag: null, Machine: null });
    expect(buildPayload(EVENTS.Complaint.bare, 'S')).toMatchObject({ UserAgent: null });
  });

  it('SubaccountId is the ServerId (a sub-account is a server); IpPoolId is null (no IP pools)', () => {
    for (const type of WEBHOOK_EVENT_TYPES) {
      const p = buildPayload(EVENTS[type].full, 'S');
      if ('SubaccountId' in p) expect(p.SubaccountId).toBe(9);
      if ('IpPoolId' in p) expect(p.IpPoolId).toBeNull();
    }
  });

  for (const type of LEGACY_NOTIFICATION_TYPES) {
    it(`${type}: the legacy form body has the table's legacy names only, a field without value sent empty`, () => {
      const expected = SOCKETLABS_FIELDS[type].filter((k) => !NOT_LEGACY.includes(k)).sort();
      for (const e of [EVENTS[type].full, EVENTS[type].bare]) {
        const form = new URLSearchParams(encodePayload(buildPayload(e, 'S'), 'form').body);
        expect([...form.keys()].sort()).toEqual(expected);
        expect(form.get('Type')).toBe(type);
      }
      const bare = new URLSearchParams(encodePayload(buildPayload(EVENTS[type].bare, 'S'), 'form').body);
      expect(bare.get('MailingId')).toBe('');
    });
  }

  it("the legacy types are those of SocketLabs' samples: no Queued, no Deferred", () => {
    expect([...LEGACY_NOTIFICATION_TYPES].sort()).toEqual(['Complaint', 'Delivered', 'Failed', 'Tracking', 'Validation']);
  });
});

describe('docs/webhooks.md agrees with the payloads', () => {
  const doc = readFileSync(join(import.meta.dirname, '../../docs/webhooks.md'), 'utf8');
  const payloads = doc.slice(doc.indexOf('## Payloads'), doc.indexOf('## Signatures'));
  const examples = [...payloads.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!) as Record<string, unknown>);

  it('has an example of every type', () => {
    expect(new Set(examples.map((e) => e.Type))).toEqual(new Set(WEBHOOK_EVENT_TYPES));
  });

  it('every example has exactly the keys Postline sends for its type', () => {
    for (const e of examples) expect(sorted(e), String(e.Type)).toEqual(expectedJson(e.Type as WebhookEventType));
  });

  it('the field table marks each field on the types that have it', () => {
    const columns = ['Queued', 'Deferred', 'Delivered', 'Failed', 'Tracking', 'Complaint', 'Validation'] as const;
    const has = new Map<WebhookEventType, Set<string>>(columns.map((c) => [c, new Set()]));
    for (const line of payloads.split('\n')) {
      const cells = line
        .split('|')
        .slice(1, -1)
        .map((c) => c.trim());
      if (cells.length !== columns.length + 1 || !cells[0]!.includes('`')) continue;
      const fields = [...cells[0]!.matchAll(/`(\w+)`/g)].map((m) => m[1]!);
      columns.forEach((c, i) => {
        if (cells[i + 1] === '✓') for (const f of fields) has.get(c)!.add(f);
      });
    }
    for (const c of columns) expect([...has.get(c)!].sort(), c).toEqual(expectedJson(c));
  });
});
