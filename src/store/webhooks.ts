/**
 * Event-webhook queries, written once with Kysely for both dialects: the outbox writer every event
 * producer calls inside its own transaction, endpoints, loading claimed work, recording attempts,
 * replay and the attempt log. Claiming itself differs per dialect (sqlite-store.ts, postgres-store.ts).
 */
import { lanesOrDefault } from './claim-lanes.js';
import type { ClaimLanes } from './claim-lanes.js';
import { sql, type Insertable, type Kysely, type Selectable, type Transaction } from 'kysely';
import type { Database, EventsTable, WebhookDeliveriesTable, WebhookEndpointsTable } from './schema.js';
import type {
  NewWebhookEndpoint,
  PageRequest,
  WebhookAttempt,
  WebhookAttemptRecord,
  WebhookEndpoint,
  WebhookEndpointPatch,
  WebhookFormat,
  WebhookWork,
} from './store.js';
import { toEvent, toMessage, toRecipient } from './rows.js';
import { addToRollups, type FactsByRecipient } from './reports.js';
import { typesReceived } from '../core/legacy-notification-types.js';
import { chunks } from './rows.js';

type Db = Kysely<Database> | Transaction<Database>;

/** Rows per multi-row INSERT (13 columns): far under both dialects' bound-parameter limits. */
const OUTBOX_CHUNK_ROWS = 1_000;
/** Ids per IN (...) list when loading claimed work. */
const LOAD_CHUNK = 500;

/** The outbox statuses a claim looks at; the partial indexes of migration 5 cover exactly these. */
export const UNDELIVERED = ['pending', 'failed'] as const;

export const toEndpoint = (r: Selectable<WebhookEndpointsTable>): WebhookEndpoint => ({
  id: Number(r.id),
  serverId: Number(r.server_id),
  url: r.url,
  eventTypes: JSON.parse(r.event_types) as string[],
  format: r.format as WebhookFormat,
  secretKey: r.secret_key,
  validationKey: r.validation_key ?? null,
  signingSecrets: JSON.parse(r.signing_secrets) as string[],
  secretsRotatedAt: r.secrets_rotated_at === null ? null : Number(r.secrets_rotated_at),
  enabled: Number(r.enabled) === 1,
  disabledReason: r.disabled_reason,
  failingSince: r.failing_since === null ? null : Number(r.failing_since),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
  validatedAt: r.validated_at === null ? null : Number(r.validated_at),
});

/**
 * Outbox rows written by this process so far (rolled-back writes included). The dispatcher's
 * in-process wake compares it before and after a store call, so a commit that wrote no outbox
 * row (a server without endpoints) does not make the dispatcher run a claim for nothing.
 */
let outboxRowsWritten = 0;
export const outboxWriteCount = (): number => outboxRowsWritten;

/**
 * Inserts events and, in the same transaction, their outbox rows: one indexed lookup of the
 * enabled endpoints of the servers involved, then chunked inserts of the matching rows. A server
 * without endpoints costs that one query. Every event writer goes through here, so no event can
 * be committed without its webhook deliveries (and no cursor over event ids is needed: on
 * PostgreSQL ids are not commit order). The reporting rollups are incremented here too, in the
 * same transaction (store/reports.ts); `facts` passes what the caller already knows about
 * the events' recipients and messages, so they are not looked up again.
 */
export async function insertEvents(trx: Db, events: readonly Insertable<EventsTable>[], insertChunk = 1_000, facts?: FactsByRecipient): Promise<void> {
  if (events.length === 0) return;
  for (const part of chunks(events, insertChunk)) await trx.insertInto('events').values(part).execute();
  await addToRollups(trx, events, facts);
  const serverIds = [...new Set(events.map((e) => Number(e.server_id)))];
  const endpoints = await trx
    .selectFrom('webhook_endpoints')
    .select(['id', 'server_id', 'event_types', 'format'])
    .where('server_id', 'in', serverIds)
    .where('enabled', '=', 1)
    .execute();
  if (endpoints.length === 0) return;
  const byServer = new Map<number, { id: number; types: Set<string> | null }[]>();
  for (const ep of endpoints) {
    const types = typesReceived({ format: ep.format, eventTypes: JSON.parse(ep.event_types) as string[] });
    const list = byServer.get(Number(ep.server_id)) ?? [];
    list.push({ id: Number(ep.id), types: types === null ? null : new Set(types) });
    byServer.set(Number(ep.server_id), list);
  }
  const rows: Insertable<WebhookDeliveriesTable>[] = [];
  for (const e of events) {
    for (const ep of byServer.get(Number(e.server_id)) ?? []) {
      if (ep.types && !ep.types.has(e.type)) continue;
      rows.push({
        endpoint_id: ep.id,
        event_uid: e.uid,
        order_key: e.recipient_id ?? e.message_id,
        status: 'pending',
        attempts: 0,
        next_attempt_at: e.occurred_at,
        last_status: null,
        last_error: null,
        locked_by: null,
        locked_at: null,
        created_at: e.occurred_at,
        updated_at: e.occurred_at,
      });
    }
  }
  for (const part of chunks(rows, OUTBOX_CHUNK_ROWS)) await trx.insertInto('webhook_deliveries').values(part).execute();
  outboxRowsWritten += rows.length;
}

export async function createEndpoint(db: Db, input: NewWebhookEndpoint, now: number): Promise<WebhookEndpoint> {
  const row = await db
    .insertInto('webhook_endpoints')
    .values({
      server_id: input.serverId,
      url: input.url,
      event_types: JSON.stringify(input.eventTypes),
      format: input.format,
      secret_key: input.secretKey,
      validation_key: input.validationKey ?? null,
      signing_secrets: JSON.stringify([input.signingSecret]),
      secrets_rotated_at: null,
      enabled: input.enabled ? 1 : 0,
      disabled_reason: input.disabledReason,
      failing_since: null,
      created_at: now,
      updated_at: now,
      validated_at: input.validatedAt,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
  return toEndpoint(row);
}

export async function getEndpoint(db: Db, serverId: number, id: number): Promise<WebhookEndpoint | undefined> {
  const row = await db.selectFrom('webhook_endpoints').selectAll().where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst();
  return row && toEndpoint(row);
}

export async function listEndpoints(db: Db, serverId: number, page: PageRequest): Promise<{ rows: WebhookEndpoint[]; total: number }> {
  const [rows, count] = await Promise.all([
    db
      .selectFrom('webhook_endpoints')
      .selectAll()
      .where('server_id', '=', serverId)
      .orderBy('created_at', page.direction)
      .orderBy('id', page.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom('webhook_endpoints')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('server_id', '=', serverId)
      .executeTakeFirstOrThrow(),
  ]);
  return { rows: rows.map(toEndpoint), total: Number(count.n) };
}

export async function updateEndpoint(db: Db, serverId: number, id: number, patch: WebhookEndpointPatch, now: number): Promise<WebhookEndpoint | undefined> {
  const set: Partial<Selectable<WebhookEndpointsTable>> = { updated_at: now };
  if (patch.url !== undefined) set.url = patch.url;
  if (patch.eventTypes !== undefined) set.event_types = JSON.stringify(patch.eventTypes);
  if (patch.format !== undefined) set.format = patch.format;
  if (patch.enabled !== undefined) set.enabled = patch.enabled ? 1 : 0;
  if (patch.disabledReason !== undefined) set.disabled_reason = patch.disabledReason;
  if (patch.failingSince !== undefined) set.failing_since = patch.failingSince;
  if (patch.validatedAt !== undefined) set.validated_at = patch.validatedAt;
  if (patch.signingSecrets !== undefined) set.signing_secrets = JSON.stringify(patch.signingSecrets);
  if (patch.secretsRotatedAt !== undefined) set.secrets_rotated_at = patch.secretsRotatedAt;
  if (patch.validationKey !== undefined) set.validation_key = patch.validationKey;
  const row = await db.updateTable('webhook_endpoints').set(set).where('server_id', '=', serverId).where('id', '=', id).returningAll().executeTakeFirst();
  return row && toEndpoint(row);
}

/** Loads what the payloads of claimed outbox rows need: a few IN queries, not a query per row. */
export async function loadWork(db: Db, deliveryIds: readonly number[]): Promise<WebhookWork[]> {
  const out: WebhookWork[] = [];
  for (const ids of chunks(deliveryIds, LOAD_CHUNK)) {
    const deliveries = await db
      .selectFrom('webhook_deliveries')
      .select(['id', 'endpoint_id', 'event_uid', 'attempts'])
      .where('id', 'in', ids)
      .orderBy('id')
      .execute();
    if (deliveries.length === 0) continue;
    const [endpoints, events] = await Promise.all([
      db
        .selectFrom('webhook_endpoints')
        .selectAll()
        .where('id', 'in', [...new Set(deliveries.map((d) => Number(d.endpoint_id)))])
        .execute(),
      db
        .selectFrom('events')
        .selectAll()
        .where('uid', 'in', [...new Set(deliveries.map((d) => d.event_uid))])
        .execute(),
    ]);
    const messageIds = [...new Set(events.map((e) => e.message_id))];
    const recipientIds = [...new Set(events.flatMap((e) => (e.recipient_id === null ? [] : [e.recipient_id])))];
    const [messages, recipients] = await Promise.all([
      db.selectFrom('messages').selectAll().where('id', 'in', messageIds).execute(),
      recipientIds.length === 0 ? Promise.resolve([]) : db.selectFrom('recipients').selectAll().where('id', 'in', recipientIds).execute(),
    ]);
    const ep = new Map(endpoints.map((r) => [Number(r.id), toEndpoint(r)]));
    const ev = new Map(events.map((r) => [r.uid, toEvent(r)]));
    const msg = new Map(messages.map((r) => [r.id, toMessage(r)]));
    const rcpt = new Map(recipients.map((r) => [r.id, toRecipient(r)]));
    for (const d of deliveries) {
      const endpoint = ep.get(Number(d.endpoint_id));
      const event = ev.get(d.event_uid);
      if (!endpoint || !event) continue; // the endpoint was deleted meanwhile: its rows went with it
      out.push({
        deliveryId: Number(d.id),
        attempts: Number(d.attempts),
        endpoint,
        event,
        message: msg.get(event.messageId) ?? null,
        recipient: event.recipientId === null ? null : (rcpt.get(event.recipientId) ?? null),
      });
    }
  }
  return out;
}

/**
 * Records a dispatcher's batch: the rows' next state (only rows the worker still owns), one
 * attempt row each, and the endpoints' failure streaks. Successes, nearly every row of a healthy
 * stream, are set with one statement per HTTP status; the statements per row of the first version
 * were most of the dispatcher's database time in the fan-out benchmark.
 */
export async function recordAttempts(
  trx: Db,
  workerId: string,
  records: readonly WebhookAttemptRecord[],
  now: number,
): Promise<{ endpointId: number; failingSince: number }[]> {
  const recorded: WebhookAttemptRecord[] = [];
  const delivered = new Map<number | null, WebhookAttemptRecord[]>();
  for (const r of records) {
    if (r.ok && r.next.status === 'delivered') {
      const group = delivered.get(r.httpStatus) ?? [];
      group.push(r);
      delivered.set(r.httpStatus, group);
      continue;
    }
    const res = await trx
      .updateTable('webhook_deliveries')
      .set({
        status: r.next.status,
        attempts: r.next.attempts,
        next_attempt_at: r.next.nextAttemptAt,
        last_status: r.httpStatus,
        last_error: r.error,
        locked_by: null,
        locked_at: null,
        updated_at: now,
      })
      .where('id', '=', r.deliveryId)
      .where('locked_by', '=', workerId)
      .executeTakeFirst();
    // A claim taken over as stale belongs to its new owner now, who records its own attempt.
    if (Number(res.numUpdatedRows) > 0) recorded.push(r);
  }
  for (const [status, group] of delivered) {
    for (const part of chunks(group, LOAD_CHUNK)) {
      // attempts + 1 is the dispatcher's next.attempts for a row it still owns (the owner check).
      const owned = await trx
        .updateTable('webhook_deliveries')
        .set({
          status: 'delivered',
          attempts: sql<number>`attempts + 1`,
          next_attempt_at: now,
          last_status: status,
          last_error: null,
          locked_by: null,
          locked_at: null,
          updated_at: now,
        })
        .where(
          'id',
          'in',
          part.map((r) => r.deliveryId),
        )
        .where('locked_by', '=', workerId)
        .returning('id')
        .execute();
      const ids = new Set(owned.map((o) => Number(o.id)));
      recorded.push(...part.filter((r) => ids.has(r.deliveryId)));
    }
  }
  for (const part of chunks(recorded, LOAD_CHUNK)) {
    await trx
      .insertInto('webhook_attempts')
      .values(
        part.map((r) => ({
          delivery_id: r.deliveryId,
          endpoint_id: r.endpointId,
          at: now,
          ok: r.ok ? 1 : 0,
          http_status: r.httpStatus,
          duration_ms: r.durationMs,
          error: r.error,
          response_snippet: r.responseSnippet,
        })),
      )
      .execute();
  }
  // Failure streaks, per endpoint, as the batch's attempts in order leave them: a success ends the
  // streak; a receiver failure starts one (anew if a success came before it in this batch).
  const streak = new Map<number, { sawOk: boolean; lastOk: boolean }>();
  for (const r of records.filter((x) => recorded.includes(x))) {
    if (!r.ok && !r.posted) continue; // a payload we could not build says nothing about the receiver
    const s = streak.get(r.endpointId) ?? { sawOk: false, lastOk: false };
    s.sawOk ||= r.ok;
    s.lastOk = r.ok;
    streak.set(r.endpointId, s);
  }
  const failing: { endpointId: number; failingSince: number }[] = [];
  const ended = [...streak].filter(([, s]) => s.lastOk).map(([id]) => id);
  if (ended.length > 0) {
    await trx.updateTable('webhook_endpoints').set({ failing_since: null }).where('id', 'in', ended).where('failing_since', 'is not', null).execute();
  }
  for (const [endpointId, s] of streak) {
    if (s.lastOk) continue;
    const row = await trx
      .updateTable('webhook_endpoints')
      .set({ failing_since: s.sawOk ? now : sql<number>`COALESCE(failing_since, ${now})` })
      .where('id', '=', endpointId)
      .returning('failing_since')
      .executeTakeFirst();
    if (row?.failing_since != null) failing.push({ endpointId, failingSince: Number(row.failing_since) });
  }
  return failing;
}

export async function replayEvents(
  trx: Db,
  endpoint: WebhookEndpoint,
  range: { from: number; to: number; max: number },
  now: number,
): Promise<{ ok: true; queued: number } | { ok: false; matching: number }> {
  let events = trx.selectFrom('events').where('server_id', '=', endpoint.serverId).where('occurred_at', '>=', range.from).where('occurred_at', '<', range.to);
  const types = typesReceived(endpoint);
  if (types !== null) {
    if (types.length === 0) return { ok: true, queued: 0 };
    events = events.where('type', 'in', [...types]);
  }
  const matching = Number((await events.select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
  if (matching > range.max) return { ok: false, matching };
  if (matching === 0) return { ok: true, queued: 0 };
  // Existing rows (the unique key is one per endpoint and event) start over, keeping their
  // attempt log; rows already pending are left as they are and not counted.
  const res = await trx
    .insertInto('webhook_deliveries')
    .columns([
      'endpoint_id',
      'event_uid',
      'order_key',
      'status',
      'attempts',
      'next_attempt_at',
      'last_status',
      'last_error',
      'locked_by',
      'locked_at',
      'created_at',
      'updated_at',
    ])
    .expression(
      events.select([
        sql<number>`${endpoint.id}`.as('endpoint_id'),
        'uid',
        sql<string>`COALESCE(recipient_id, message_id)`.as('order_key'),
        sql<string>`'pending'`.as('status'),
        sql<number>`0`.as('attempts'),
        sql<number>`${now}`.as('next_attempt_at'),
        sql<null>`NULL`.as('last_status'),
        sql<null>`NULL`.as('last_error'),
        sql<null>`NULL`.as('locked_by'),
        sql<null>`NULL`.as('locked_at'),
        sql<number>`${now}`.as('created_at'),
        sql<number>`${now}`.as('updated_at'),
      ]),
    )
    .onConflict((oc) =>
      oc
        .columns(['endpoint_id', 'event_uid'])
        .doUpdateSet({
          status: 'pending',
          attempts: 0,
          next_attempt_at: now,
          locked_by: null,
          locked_at: null,
          updated_at: now,
        })
        .where('webhook_deliveries.status', '<>', 'pending'),
    )
    .executeTakeFirst();
  const queued = Number(res.numInsertedOrUpdatedRows ?? 0);
  outboxRowsWritten += queued;
  return { ok: true, queued };
}

export async function listAttempts(db: Db, serverId: number, endpointId: number, page: PageRequest): Promise<{ rows: WebhookAttempt[]; total: number }> {
  // The endpoint filter carries the server check: an endpoint of another server matches no attempt.
  const owned = db.selectFrom('webhook_endpoints').select('id').where('id', '=', endpointId).where('server_id', '=', serverId);
  const [rows, count] = await Promise.all([
    db
      .selectFrom('webhook_attempts as a')
      .innerJoin('webhook_deliveries as d', 'd.id', 'a.delivery_id')
      .innerJoin('events as e', 'e.uid', 'd.event_uid')
      .select(['a.id', 'a.delivery_id', 'a.at', 'a.ok', 'a.http_status', 'a.duration_ms', 'a.error', 'a.response_snippet', 'e.uid', 'e.type'])
      .where('a.endpoint_id', 'in', owned)
      .orderBy('a.at', page.direction)
      .orderBy('a.id', page.direction)
      .limit(page.limit)
      .offset(page.offset)
      .execute(),
    db
      .selectFrom('webhook_attempts')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('endpoint_id', 'in', owned)
      .executeTakeFirstOrThrow(),
  ]);
  return {
    rows: rows.map((r) => ({
      id: Number(r.id),
      deliveryId: Number(r.delivery_id),
      eventUid: r.uid,
      eventType: r.type,
      at: Number(r.at),
      ok: Number(r.ok) === 1,
      httpStatus: r.http_status === null ? null : Number(r.http_status),
      durationMs: Number(r.duration_ms),
      error: r.error,
      responseSnippet: r.response_snippet,
    })),
    total: Number(count.n),
  };
}

/** Webhook endpoints, the outbox of events to post to them, and the attempts. */
export interface WebhookRepository {
  /**
   * Event webhooks. Every event writer (queue.commitAccepts, queue.recordOutcomes, events.append,
   * suppressions.suppressRecipient) also writes, in its own transaction, one webhook_deliveries row per
   * enabled endpoint of the event's server that wants the event's type: the webhook outbox.
   * Endpoint calls take the serverId so one server can never reach another's endpoints.
   */
  createEndpoint(input: NewWebhookEndpoint, now: number): Promise<WebhookEndpoint>;
  getEndpoint(serverId: number, id: number): Promise<WebhookEndpoint | undefined>;
  listEndpoints(serverId: number, page: PageRequest): Promise<{ rows: WebhookEndpoint[]; total: number }>;
  updateEndpoint(serverId: number, id: number, patch: WebhookEndpointPatch, now: number): Promise<WebhookEndpoint | undefined>;
  /** Deletes the endpoint with its outbox rows and attempts. */
  deleteEndpoint(serverId: number, id: number): Promise<boolean>;
  /**
   * Claims up to `limit` due outbox rows of enabled endpoints (pending or failed, next_attempt_at
   * <= now, unlocked or locked before staleBefore) for `workerId`, never a row while an earlier
   * undelivered row of the same endpoint and recipient waits (a recipient's events arrive in order; a bulk send's recipients do not wait for each other).
   * With `lanes`, at most `lanes.perLane` rows of any one endpoint, less what the caller already holds of it (store/claim-lanes.ts).
   */
  claimDeliveries(workerId: string, limit: number, now: number, staleBefore: number, lanes?: ClaimLanes, deadBefore?: number): Promise<WebhookWork[]>;
  /** Gives claimed rows back unposted (shutdown, or their endpoint was disabled): only rows still locked by workerId. */
  releaseDeliveries(workerId: string, deliveryIds: readonly number[]): Promise<void>;
  /**
   * Records attempts and their rows' next state in one transaction; only rows still locked by
   * workerId change. Returns the endpoints that failed in this batch with their failing_since.
   */
  recordAttempts(workerId: string, records: readonly WebhookAttemptRecord[], now: number): Promise<{ endpointId: number; failingSince: number }[]>;
  /**
   * Queues the endpoint's matching events of [from, to) again (new rows, or rows not pending reset
   * to pending with no attempts). Refuses, writing nothing, when more than `max` events match.
   */
  replayEvents(
    serverId: number,
    endpointId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }>;
  listAttempts(serverId: number, endpointId: number, page: PageRequest): Promise<{ rows: WebhookAttempt[]; total: number }>;
}

/** Webhooks for both dialects; each dialect claims outbox rows its own way. */
export abstract class SqlWebhookRepository implements WebhookRepository {
  constructor(protected readonly db: Kysely<Database>) {}

  /** The dialect's claim: locks due outbox rows for workerId and returns their ids. */
  protected abstract claimIds(workerId: string, limit: number, now: number, staleBefore: number, lanes: ClaimLanes, deadBefore?: number): Promise<number[]>;

  createEndpoint(input: NewWebhookEndpoint, now: number): Promise<WebhookEndpoint> {
    return createEndpoint(this.db, input, now);
  }

  getEndpoint(serverId: number, id: number): Promise<WebhookEndpoint | undefined> {
    return getEndpoint(this.db, serverId, id);
  }

  listEndpoints(serverId: number, page: PageRequest): Promise<{ rows: WebhookEndpoint[]; total: number }> {
    return listEndpoints(this.db, serverId, page);
  }

  updateEndpoint(serverId: number, id: number, patch: WebhookEndpointPatch, now: number): Promise<WebhookEndpoint | undefined> {
    return updateEndpoint(this.db, serverId, id, patch, now);
  }

  async deleteEndpoint(serverId: number, id: number): Promise<boolean> {
    // Attempts and outbox rows go with it (ON DELETE CASCADE), in this one statement's transaction.
    const res = await this.db.deleteFrom('webhook_endpoints').where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }

  async claimDeliveries(workerId: string, limit: number, now: number, staleBefore: number, lanes?: ClaimLanes, deadBefore?: number): Promise<WebhookWork[]> {
    const ids = await this.claimIds(workerId, limit, now, staleBefore, lanesOrDefault(lanes, limit), deadBefore);
    return ids.length === 0 ? [] : loadWork(this.db, ids);
  }

  async releaseDeliveries(workerId: string, deliveryIds: readonly number[]): Promise<void> {
    for (const ids of chunks(deliveryIds, 500)) {
      await this.db
        .updateTable('webhook_deliveries')
        .set({ locked_by: null, locked_at: null })
        .where('id', 'in', ids)
        .where('locked_by', '=', workerId)
        .execute();
    }
  }

  async recordAttempts(workerId: string, records: readonly WebhookAttemptRecord[], now: number): Promise<{ endpointId: number; failingSince: number }[]> {
    if (records.length === 0) return [];
    return this.db.transaction().execute((trx) => recordAttempts(trx, workerId, records, now));
  }

  async replayEvents(
    serverId: number,
    endpointId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }> {
    return this.db.transaction().execute(async (trx) => {
      const endpoint = await getEndpoint(trx, serverId, endpointId);
      return endpoint ? replayEvents(trx, endpoint, range, now) : { ok: true as const, queued: 0 };
    });
  }

  listAttempts(serverId: number, endpointId: number, page: PageRequest): Promise<{ rows: WebhookAttempt[]; total: number }> {
    return listAttempts(this.db, serverId, endpointId, page);
  }
}
