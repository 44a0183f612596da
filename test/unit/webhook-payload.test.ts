import { describe, expect, it } from 'vitest';
import { buildPayload, dotnetDateTime, encodePayload, WEBHOOK_EVENT_TYPES, type WebhookEvent } from '../../src/webhooks/payload.js';
import { deferralCodeOf, fromEventRow, validationEvent, type EventRowInput } from '../../src/webhooks/event-row.js';
import { deferOrExpire, outcomeFor, undeliverable, type Classify } from '../../src/delivery/outcome.js';
import { classifySmtpReply } from '../../src/bounce/classify.js';
import type { StoredRecipient } from '../../src/store/store.js';
import { suppressedFailure } from '../../src/core/suppression.js';

/** The examples of reference/socketlabs-wire-format.md §3.3, as written there ("…" values kept). */
const REFERENCE = {
  Queued: {
    Type: 'Queued',
    DateTime: '2023-06-12T10:04:56.3694682Z',
    SubaccountId: 12345,
    ServerId: 12345,
    SecretKey: 'ABC123',
    Address: 'example@example.com',
    FromAddress: 'example@example.gov',
    Subject: 'Welcome',
    MessageSize: 22775,
    MailingId: 'SL5233439-5474023',
    MessageId: '1209957964',
    Data: { Meta: [{ Key: 'UserRegion', Value: 'US-West' }], Tags: ['Transactional', 'Order Confirmation'] },
  },
  Delivered: {
    Type: 'Delivered',
    DateTime: '2022-09-07T17:49:08.8139901Z',
    ServerId: 123456,
    SecretKey: 'n7BJk25EtAr39Sfa4K8R',
    Address: 'email@example.com',
    MailingId: 'SLNL-0-9999999-9999999',
    MessageId: 'SampleMessageId',
    Response: '250 2.0.0 OK',
    LocalIp: '142.0.180.1',
    RemoteMta: 'mx.example.com',
    Data: { Meta: [], Tags: [] },
  },
  Failed: {
    Type: 'Failed',
    DateTime: '…',
    ServerId: 1,
    SecretKey: '…',
    Address: 'x@example.com',
    MailingId: '…',
    MessageId: '…',
    FromAddress: 'from@example.com',
    FailureType: 1,
    FailureCode: 2001,
    Reason: '550 5.1.1 user unknown',
    BounceStatus: '5.1.1',
    DiagnosticCode: 'smtp; 550 5.1.1 user unknown',
    RemoteMta: 'mx.example.com',
  },
  Tracking: {
    Type: 'Tracking',
    DateTime: '…',
    ServerId: 1,
    SecretKey: '…',
    Address: 'x@example.com',
    MailingId: '…',
    MessageId: '…',
    TrackingType: 0,
    ClientIp: '203.0.113.9',
    UserAgent: 'Mozilla/5.0 …',
    Url: 'https://example.com/x',
  },
  Complaint: {
    Type: 'Complaint',
    DateTime: '…',
    ServerId: 1,
    SecretKey: '…',
    Address: 'x@example.com',
    MailingId: '…',
    MessageId: '…',
    FblType: 'abuse',
    UserAgent: '…',
    From: 'from@example.com',
    To: 'x@example.com',
    Length: 1234,
  },
  Validation: { Type: 'Validation', DateTime: '…', ServerId: 1, SecretKey: '…' },
};
const keysOf = (o: object) => Object.keys(o);

const T = Date.UTC(2023, 5, 12, 10, 4, 56, 369);
const base = { eventId: '01H2X0000000000000000000AB', occurredAt: T, serverId: 1, address: 'x@example.com', mailingId: 'm-1', messageId: 'id-1' };
const data = { meta: [{ key: 'UserRegion', value: 'US-West' }], tags: ['Transactional'] };

describe('buildPayload: SocketLabs §3 shapes', () => {
  it('Queued: the docs example field for field (SubaccountId is the ServerId, as there), EventId appended', () => {
    const p = buildPayload(
      {
        type: 'Queued',
        eventId: 'E1',
        occurredAt: Date.parse('2023-06-12T10:04:56.369Z'),
        serverId: 12345,
        address: 'example@example.com',
        mailingId: 'SL5233439-5474023',
        messageId: '1209957964',
        fromAddress: 'example@example.gov',
        subject: 'Welcome',
        messageSize: 22775,
        meta: [{ key: 'UserRegion', value: 'US-West' }],
        tags: ['Transactional', 'Order Confirmation'],
      },
      'ABC123',
    );
    expect(keysOf(p)).toEqual([...keysOf(REFERENCE.Queued), 'EventId']);
    expect(p).toEqual({ ...REFERENCE.Queued, DateTime: '2023-06-12T10:04:56.3690000Z', EventId: 'E1' });
  });

  it("Delivered: the docs example's fields, plus SubaccountId and IpPoolId (null: no IP pools) after ServerId", () => {
    const p = buildPayload(
      {
        type: 'Delivered',
        eventId: 'E2',
        occurredAt: Date.parse('2022-09-07T17:49:08.813Z'),
        serverId: 123456,
        address: 'email@example.com',
        mailingId: 'SLNL-0-9999999-9999999',
        messageId: 'SampleMessageId',
        response: '250 2.0.0 OK',
        localIp: '142.0.180.1',
        remoteMta: 'mx.example.com',
        meta: [],
        tags: [],
      },
      'n7BJk25EtAr39Sfa4K8R',
    );
    const [type, dateTime, serverId, ...rest] = keysOf(REFERENCE.Delivered);
    expect(keysOf(p)).toEqual([type, dateTime, serverId, 'SubaccountId', 'IpPoolId', ...rest, 'EventId']);
    expect(p).toEqual({ ...REFERENCE.Delivered, SubaccountId: 123456, IpPoolId: null, DateTime: '2022-09-07T17:49:08.8130000Z', EventId: 'E2' });
  });

  it('Failed: the example keys in order, then SuppressionReason, Data (every type but Complaint has it) and EventId; FailureType numeric', () => {
    const p = buildPayload(
      {
        ...base,
        ...data,
        type: 'Failed',
        fromAddress: 'from@example.com',
        failureType: 1,
        failureCode: 2001,
        reason: '550 5.1.1 user unknown',
        bounceStatus: '5.1.1',
        diagnosticCode: 'smtp; 550 5.1.1 user unknown',
        remoteMta: 'mx.example.com',
      },
      'S',
    );
    const [type, dateTime, serverId, ...rest] = keysOf(REFERENCE.Failed);
    expect(keysOf(p)).toEqual([type, dateTime, serverId, 'SubaccountId', 'IpPoolId', ...rest, 'SuppressionReason', 'Data', 'EventId']);
    expect(p).toMatchObject({
      FailureType: 1,
      FailureCode: 2001,
      BounceStatus: '5.1.1',
      SuppressionReason: null,
      Data: { Meta: [{ Key: 'UserRegion', Value: 'US-West' }], Tags: ['Transactional'] },
    });
  });

  it('Failed: absent optional fields are present as null, the key set unchanged', () => {
    const full = buildPayload(
      {
        ...base,
        ...data,
        type: 'Failed',
        fromAddress: 'f@example.com',
        failureType: 2,
        failureCode: 9999,
        reason: 'r',
        bounceStatus: '5.1.1',
        diagnosticCode: 'd',
        remoteMta: 'm',
        suppressionReason: 'Bounce',
      },
      'S',
    );
    const p = buildPayload({ ...base, ...data, type: 'Failed', failureType: 0, reason: 'expired' }, 'S');
    expect(keysOf(p)).toEqual(keysOf(full));
    expect(full.SuppressionReason).toBe('Bounce');
    expect(p).toMatchObject({
      FromAddress: null,
      FailureCode: null,
      BounceStatus: null,
      DiagnosticCode: null,
      RemoteMta: null,
      SuppressionReason: null,
      IpPoolId: null,
    });
  });

  it('Tracking: TrackingType 0/1/2; Url, Tag and Machine null when absent', () => {
    const click = buildPayload(
      { ...base, ...data, type: 'Tracking', trackingType: 0, clientIp: '203.0.113.9', userAgent: 'Mozilla/5.0 …', url: 'https://example.com/x' },
      'S',
    );
    const [type, dateTime, serverId, ...rest] = keysOf(REFERENCE.Tracking);
    expect(keysOf(click)).toEqual([type, dateTime, serverId, 'SubaccountId', ...rest, 'Tag', 'Machine', 'Data', 'EventId']);
    expect(click).toMatchObject({ TrackingType: 0, Tag: null, Machine: null });
    const open = buildPayload({ ...base, ...data, type: 'Tracking', trackingType: 1, clientIp: '203.0.113.9', userAgent: 'UA', tag: 'newsletter' }, 'S');
    expect(keysOf(open)).toEqual(keysOf(click));
    expect(open).toMatchObject({ Url: null, Tag: 'newsletter' });
    expect(buildPayload({ ...base, ...data, type: 'Tracking', trackingType: 2, clientIp: '::1', userAgent: 'UA' }, 'S').TrackingType).toBe(2);
  });

  it("Complaint: the example's fields, no SubaccountId, no Data; a missing UserAgent is null", () => {
    const p = buildPayload(
      { ...base, type: 'Complaint', fblType: 'abuse', userAgent: 'Yahoo!-Mail-Feedback/1.0', from: 'from@example.com', to: 'x@example.com', length: 1234 },
      'S',
    );
    expect(keysOf(p)).toEqual([...keysOf(REFERENCE.Complaint), 'EventId']);
    expect(p).not.toHaveProperty('Data');
    expect(buildPayload({ ...base, type: 'Complaint', fblType: 'abuse', from: 'f', to: 't', length: 1 }, 'S').UserAgent).toBeNull();
  });

  it('Deferred: common fields, IpPoolId, FromAddress, DeferralCode, Reason, Data', () => {
    const p = buildPayload({ ...base, ...data, type: 'Deferred', fromAddress: 'from@example.com', deferralCode: 451, reason: '451 4.7.1 try later' }, 'S');
    expect(keysOf(p)).toEqual([
      'Type',
      'DateTime',
      'ServerId',
      'SubaccountId',
      'IpPoolId',
      'SecretKey',
      'Address',
      'MailingId',
      'MessageId',
      'FromAddress',
      'DeferralCode',
      'Reason',
      'Data',
      'EventId',
    ]);
    expect(p.DeferralCode).toBe(451);
  });

  it("Validation: the example's fields, then the other common fields with no values", () => {
    const p = buildPayload(validationEvent('E9', 7, T), 'S');
    expect(p).toEqual({
      Type: 'Validation',
      DateTime: '2023-06-12T10:04:56.3690000Z',
      ServerId: 7,
      SubaccountId: 7,
      SecretKey: 'S',
      Address: null,
      MailingId: null,
      MessageId: null,
      Data: { Meta: [], Tags: [] },
      EventId: 'E9',
    });
    expect(keysOf(p).filter((k) => k in REFERENCE.Validation)).toEqual(keysOf(REFERENCE.Validation));
  });

  it('every registered type builds', () => {
    const built = new Set<string>();
    const events: WebhookEvent[] = [
      { ...base, ...data, type: 'Queued', fromAddress: 'a@b.c', subject: 's', messageSize: 1 },
      { ...base, ...data, type: 'Deferred', reason: 'r' },
      { ...base, ...data, type: 'Delivered', response: '250 ok' },
      { ...base, ...data, type: 'Failed', failureType: 1, reason: 'r' },
      { ...base, ...data, type: 'Tracking', trackingType: 1, clientIp: '1.1.1.1', userAgent: 'u' },
      { ...base, type: 'Complaint', fblType: 'abuse', userAgent: 'u', from: 'f', to: 't', length: 1 },
      validationEvent('E', 1, T),
    ];
    for (const e of events) built.add(buildPayload(e, 'S').Type as string);
    expect([...built]).toEqual([...WEBHOOK_EVENT_TYPES]);
  });
});

describe('dotnetDateTime', () => {
  it('writes seven fractional digits and Z', () => {
    expect(dotnetDateTime(0)).toBe('1970-01-01T00:00:00.0000000Z');
    expect(dotnetDateTime(Date.UTC(2024, 1, 29, 23, 59, 59, 999))).toBe('2024-02-29T23:59:59.9990000Z');
    expect(dotnetDateTime(T)).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{7}Z$/);
  });
});

describe('encodePayload', () => {
  const p = buildPayload({ ...base, ...data, type: 'Delivered', response: '250 2.0.0 OK & done', remoteMta: 'mx.example.com' }, 'k=y&z');

  it('json: the payload as compact JSON', () => {
    const { body, contentType } = encodePayload(p, 'json');
    expect(contentType).toBe('application/json');
    expect(body).toBe(JSON.stringify(p));
    expect(body).not.toMatch(/\n/);
  });

  it('form: the legacy Notification API body: legacy names in order, nulls empty, no Data, v2 ids or Postline additions, values escaped', () => {
    const { body, contentType } = encodePayload(p, 'form');
    expect(contentType).toBe('application/x-www-form-urlencoded');
    const parsed = new URLSearchParams(body);
    expect([...parsed.keys()]).toEqual(['Type', 'DateTime', 'ServerId', 'SecretKey', 'Address', 'MailingId', 'MessageId', 'Response', 'LocalIp', 'RemoteMta']);
    expect(parsed.get('SecretKey')).toBe('k=y&z');
    expect(parsed.get('Response')).toBe('250 2.0.0 OK & done');
    expect(parsed.get('ServerId')).toBe('1');
    expect(parsed.get('LocalIp')).toBe('');
    expect(body).toContain('Type=Delivered&');
  });
});

describe('fromEventRow: from what the delivery worker records', () => {
  const recipient: StoredRecipient = {
    id: 'R1',
    messageId: 'M1',
    serverId: 3,
    address: 'rcpt@example.net',
    domain: 'example.net',
    kind: 'to',
    merge: null,
    mailingId: 'mailing-7',
    messageId_: 'custom-9',
    status: 'delivering',
    attempts: 0,
    nextAttemptAt: 0,
    lockedBy: 'w',
    lockedAt: 0,
    lastReply: null,
    lastMx: null,
    failureCode: null,
    createdAt: T,
    updatedAt: T,
  };
  const message: EventRowInput['message'] = {
    id: 'M1',
    fromAddress: 'sender@example.com',
    subject: 'Hi',
    sizeBytes: 2048,
    metadata: [{ key: 'Order', value: '42' }],
    tags: ['receipt'],
  };
  const classify: Classify = classifySmtpReply;
  const ctx = { now: T, lifetimeMs: 72 * 3_600_000, random: () => 0.5 };
  /** The row as the store hands it back: data went through JSON. */
  const row = (type: string, d: unknown) => ({ uid: 'EV1', type, serverId: 3, occurredAt: T, data: d === null ? null : JSON.parse(JSON.stringify(d)) });
  const map = (type: string, d: unknown, r: EventRowInput['recipient'] = recipient) => fromEventRow({ event: row(type, d), message, recipient: r });

  it('Queued (no data): from the message', () => {
    const m = map('Queued', null);
    expect(m).toEqual({
      ok: true,
      event: {
        type: 'Queued',
        eventId: 'EV1',
        occurredAt: T,
        serverId: 3,
        address: 'rcpt@example.net',
        mailingId: 'mailing-7',
        messageId: 'custom-9',
        meta: message.metadata,
        tags: ['receipt'],
        fromAddress: 'sender@example.com',
        subject: 'Hi',
        messageSize: 2048,
      },
    });
  });

  it("MessageId falls back on Postline's message id; an unset MailingId is null", () => {
    const m = map('Queued', null, { address: 'a@b.c', mailingId: null, messageId_: null });
    if (!m.ok) throw new Error(m.error);
    const p = buildPayload(m.event, 'S');
    expect(p.MessageId).toBe('M1');
    expect(p).toHaveProperty('MailingId', null);
  });

  it("Delivered: Response, LocalIp (the delivering socket's address) and RemoteMta; our own fields (Tls, Sandbox) stay out", () => {
    const o = outcomeFor(
      recipient,
      { kind: 'accepted', response: '250 2.0.0 OK queued', mx: 'mx1.example.net', tls: true, localIp: '198.51.100.4' },
      classify,
      ctx,
    );
    const m = map(o.event.type, o.event.data);
    if (!m.ok) throw new Error(m.error);
    const p = buildPayload(m.event, 'S');
    expect(p).toMatchObject({
      Type: 'Delivered',
      Response: '250 2.0.0 OK queued',
      LocalIp: '198.51.100.4',
      RemoteMta: 'mx1.example.net',
      Address: 'rcpt@example.net',
    });
    expect(keysOf(p)).toEqual([
      'Type',
      'DateTime',
      'ServerId',
      'SubaccountId',
      'IpPoolId',
      'SecretKey',
      'Address',
      'MailingId',
      'MessageId',
      'Response',
      'LocalIp',
      'RemoteMta',
      'Data',
      'EventId',
    ]);
  });

  it('Delivered in sandbox mode: RemoteMta and LocalIp null (nothing was sent)', () => {
    const m = map('Delivered', { Response: '250 Sandbox mode: processed and kept, not sent', RemoteMta: null, Sandbox: true });
    if (!m.ok) throw new Error(m.error);
    expect(buildPayload(m.event, 'S')).toMatchObject({ RemoteMta: null, LocalIp: null });
  });

  it('Failed (permanent 5xx): FailureType 1, classified FailureCode, BounceStatus, DiagnosticCode', () => {
    const o = outcomeFor(
      recipient,
      { kind: 'rejected', code: 550, response: '550 5.1.1 <rcpt@example.net>: user unknown', mx: 'mx1.example.net' },
      classify,
      ctx,
    );
    const m = map(o.event.type, o.event.data);
    if (!m.ok) throw new Error(m.error);
    const p = buildPayload(m.event, 'S');
    expect(p).toMatchObject({
      Type: 'Failed',
      FromAddress: 'sender@example.com',
      FailureType: 1,
      FailureCode: 2001,
      BounceStatus: '5.1.1',
      Reason: '550 5.1.1 <rcpt@example.net>: user unknown',
      DiagnosticCode: 'smtp; 550 5.1.1 <rcpt@example.net>: user unknown',
      RemoteMta: 'mx1.example.net',
    });
    expect(p).not.toHaveProperty('Explanation');
  });

  it('Failed (expired): FailureType 0, FailureCode 4004, no DiagnosticCode, no Expired', () => {
    const old = { ...recipient, createdAt: T - 73 * 3_600_000 };
    const o = deferOrExpire(old, 9, '451 4.7.1 try later', 'mx1.example.net', classify({ code: 451, text: '451 4.7.1 try later' }), ctx);
    const m = map(o.event.type, o.event.data);
    if (!m.ok) throw new Error(m.error);
    const p = buildPayload(m.event, 'S');
    expect(p).toMatchObject({ Type: 'Failed', FailureType: 0, FailureCode: 4004, DiagnosticCode: null });
    expect(p).not.toHaveProperty('Expired');
  });

  it('Failed (undeliverable domain): no RemoteMta, BounceStatus or DiagnosticCode (all null)', () => {
    const o = undeliverable(recipient, 'example.net has a null MX', 2002, 'The recipient domain accepts no mail.');
    const m = map(o.event.type, o.event.data);
    if (!m.ok) throw new Error(m.error);
    expect(buildPayload(m.event, 'S')).toMatchObject({ FailureCode: 2002, RemoteMta: null, BounceStatus: null, DiagnosticCode: null, SuppressionReason: null });
  });

  it('Deferred: DeferralCode from the reply; none for a network error', () => {
    const o = outcomeFor(recipient, { kind: 'rejected', code: 451, response: '451 4.7.1 Greylisted, try again later', mx: 'mx1.example.net' }, classify, ctx);
    const m = map(o.event.type, o.event.data);
    if (!m.ok) throw new Error(m.error);
    expect(buildPayload(m.event, 'S')).toMatchObject({
      Type: 'Deferred',
      DeferralCode: 451,
      Reason: '451 4.7.1 Greylisted, try again later',
      FromAddress: 'sender@example.com',
    });

    const n = outcomeFor(recipient, { kind: 'unreachable', error: 'connect ECONNREFUSED 192.0.2.1:25', mx: null }, classify, ctx);
    const mn = map(n.event.type, n.event.data);
    if (!mn.ok) throw new Error(mn.error);
    expect(n.event.type).toBe('Deferred');
    expect(buildPayload(mn.event, 'S')).toHaveProperty('DeferralCode', null);
  });

  it('Tracking and Complaint rows map from their PascalCase data', () => {
    const t = map('Tracking', { TrackingType: 0, UserAgent: 'UA', ClientIp: '198.51.100.7', Url: 'https://example.com/' });
    expect(t.ok && buildPayload(t.event, 'S')).toMatchObject({ TrackingType: 0, ClientIp: '198.51.100.7', Url: 'https://example.com/' });
    expect(t.ok && buildPayload(t.event, 'S')).toHaveProperty('Machine', null);
    // Beyond SocketLabs: Tracking events say whether a machine (proxy, scanner) or a reader did it, before Data.
    const m = map('Tracking', { TrackingType: 1, UserAgent: 'Mozilla/5.0', ClientIp: '17.58.1.1', Machine: true, MachineReason: 'apple-mpp' });
    const mp = m.ok ? buildPayload(m.event, 'S') : null;
    expect(mp).toMatchObject({ TrackingType: 1, Machine: true });
    expect(Object.keys(mp!).slice(-3)).toEqual(['Machine', 'Data', 'EventId']);
    const c = map('Complaint', { FblType: 'abuse', UserAgent: 'FBL/1', From: 'sender@example.com', To: 'rcpt@example.net', Length: 900 });
    expect(c.ok && buildPayload(c.event, 'S')).toMatchObject({ FblType: 'abuse', Length: 900 });
    expect(c.ok && buildPayload(c.event, 'S')).not.toHaveProperty('Data');
  });

  it("Failed (suppressed at accept): FailureType 2, FailureCode 9999 and the list entry's SuppressionReason", () => {
    const m = map('Failed', suppressedFailure('rcpt@example.net', 'Complaint').data);
    if (!m.ok) throw new Error(m.error);
    expect(buildPayload(m.event, 'S')).toMatchObject({ FailureType: 2, FailureCode: 9999, SuppressionReason: 'Complaint', RemoteMta: null });
    expect(buildPayload(m.event, 'S')).not.toHaveProperty('Explanation');
  });

  it('Complaint from a report without a User-Agent (the MX records null): UserAgent null, not an unsendable row', () => {
    const c = map('Complaint', { FblType: 'abuse', UserAgent: null, From: 'sender@example.com', To: 'rcpt@example.net', Length: 900 });
    if (!c.ok) throw new Error(c.error);
    expect(buildPayload(c.event, 'S')).toMatchObject({ Type: 'Complaint', UserAgent: null, FblType: 'abuse' });
  });

  it('a row that cannot become a payload is an error value naming the event and field', () => {
    expect(map('Delivered', {})).toEqual({ ok: false, error: 'event EV1 (Delivered): data.Response is missing' });
    expect(map('Failed', { FailureType: 7, Reason: 'x' })).toEqual({ ok: false, error: 'event EV1 (Failed): data.FailureType is not one of 0, 1, 2: 7' });
    expect(map('Failed', { FailureType: '1', Reason: 'x' })).toEqual({ ok: false, error: 'event EV1 (Failed): data.FailureType is not a number: "1"' });
    expect(map('Tracking', { TrackingType: 3, UserAgent: 'u', ClientIp: 'i' })).toMatchObject({ ok: false });
    expect(map('Opened', null)).toEqual({ ok: false, error: 'event EV1: type "Opened" has no webhook payload' });
    expect(map('Delivered', 'text')).toEqual({ ok: false, error: 'event EV1: data is not an object' });
  });

  it('deferralCodeOf', () => {
    expect(deferralCodeOf('421 4.7.0 too many connections')).toBe(421);
    expect(deferralCodeOf('452-4.2.2 over quota')).toBe(452);
    expect(deferralCodeOf('450')).toBe(450);
    expect(deferralCodeOf('connect ETIMEDOUT')).toBeUndefined();
    expect(deferralCodeOf('4510 odd')).toBeUndefined();
  });
});
