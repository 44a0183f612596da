/**
 * The queue: accepted messages and their recipients, claimed by delivery workers, and the outcomes they record.
 */
import { domainOf } from '../core/address.js';
import { newId } from '../core/ids.js';
import type { MessageTemplate, NewMessage, RecipientStatus } from '../core/message.js';
import type { EventFacts } from '../core/report-metrics.js';
import { FAILURE_CODE_SUPPRESSED, suppressedFailure, suppressionKey, type NewSuppression } from '../core/suppression.js';
import { chunks, INSERT_CHUNK_ROWS, toMessage, toRecipient } from './rows.js';
import { retryConflicts } from './conflict-retry.js';
import { recordInboundReport } from './inbound-reports.js';
import { messageBodyRow, templateFromBody } from './message-body.js';
import type { Database, EventsTable, RecipientsTable } from './schema.js';
import type {
  AcceptOutcome,
  AcceptUnit,
  DeliveryOutcomeRecord,
  IdempotencyRecord,
  InboundReportRecord,
  InboundReportResult,
  StoredMessage,
  StoredRecipient,
} from './store.js';
import { suppressedForMessages, upsertSuppressions } from './suppressions.js';
import { insertEvents } from './webhooks.js';
import { sql, type Insertable, type Kysely, type Transaction, type Updateable } from 'kysely';

/** Outcomes per UPDATE ... FROM (VALUES ...): 7 parameters each, well under both dialects' bounds. */
const OUTCOME_CHUNK_ROWS = 500;

/** The queue: accepting messages, claiming their recipients for delivery, recording outcomes and the bounces and complaints that come back. */
export interface QueueRepository {
  /**
   * Commits every unit in ONE transaction (group commit: one disk flush for many requests).
   * Each unit is all-or-nothing; a unit whose idempotency key is already taken writes nothing.
   * A recipient whose address is on its server's suppression list (read in the same transaction)
   * is stored with status 'suppressed' and a Failed event (FailureType 2, FailureCode 9999)
   * instead of being queued; every other recipient is queued with a Queued event.
   */
  commitAccepts(units: readonly AcceptUnit[]): Promise<AcceptOutcome[]>;
  findIdempotency(serverId: number, key: string, notBefore: number): Promise<IdempotencyRecord | undefined>;
  getMessage(id: string): Promise<StoredMessage | undefined>;
  getMessageTemplate(id: string): Promise<MessageTemplate | undefined>;
  listRecipients(messageId: string): Promise<StoredRecipient[]>;
  getRecipient(id: string): Promise<StoredRecipient | undefined>;
  countMessages(serverId?: number): Promise<number>;
  countRecipientsByStatus(): Promise<Partial<Record<RecipientStatus, number>>>;
  /**
   * The recipients still waiting for an outcome (queued, deferred, delivering) of one server or
   * (`{ accountId }`) of every server of an account: the control panel's "queue now". Reads the
   * pending rows only (the recipients_due index), not the delivered history.
   */
  countPending(scope: number | { accountId: number }): Promise<PendingCounts>;
  /**
   * Claims up to `limit` due recipients for `workerId` (queued or deferred with next_attempt_at <=
   * now, or delivering with a lock older than staleBefore, or — given deadBefore — delivering for
   * a worker that is not registered or whose heartbeat is older than deadBefore). No recipient is
   * ever handed to two claimers at once, also across processes sharing one PostgreSQL.
   */
  claim(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]>;
  /** Gives claimed recipients back (shutdown); only rows still locked by workerId change. */
  release(workerId: string, ids: readonly string[], now: number): Promise<number>;
  /**
   * Renews the claim time of recipients workerId still holds (a live worker's heartbeat), so a
   * claim only goes stale when its worker stopped. Returns how many were renewed.
   */
  renew(workerId: string, ids: readonly string[], now: number): Promise<number>;
  /**
   * Records attempt outcomes and their events in one transaction. Only rows still locked by
   * workerId change (a worker whose claim was reclaimed as stale cannot overwrite the new owner).
   * Returns how many recipients were updated.
   */
  recordOutcomes(workerId: string, outcomes: readonly DeliveryOutcomeRecord[], now: number): Promise<number>;
  /**
   * Records an inbound report about one recipient (see InboundReportRecord) in one transaction,
   * the recipient's row locked first so that two copies of one report cannot both be recorded.
   */
  recordInboundReport(input: InboundReportRecord, now: number): Promise<InboundReportResult>;
}

export interface PendingCounts {
  queued: number;
  deferred: number;
  delivering: number;
}

/** The queue for both dialects; each dialect claims recipients its own way. */
export abstract class SqlQueueRepository implements QueueRepository {
  constructor(
    protected readonly db: Kysely<Database>,
    protected readonly kind: 'sqlite' | 'postgres',
  ) {}

  abstract claim(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]>;

  async commitAccepts(units: readonly AcceptUnit[]): Promise<AcceptOutcome[]> {
    return this.db.transaction().execute(async (trx) => {
      const outcomes: AcceptOutcome[] = [];
      const messages: NewMessage[] = [];
      for (const unit of units) {
        if (unit.idempotency && !(await this.claimIdempotency(trx, unit.idempotency))) {
          outcomes.push({ kind: 'duplicate' });
          continue;
        }
        messages.push(...unit.messages);
        outcomes.push({ kind: 'committed' });
      }
      await this.insertMessages(trx, messages);
      return outcomes;
    });
  }

  /** Inserts the idempotency row unless a live one exists; false means another request owns the key. */
  private async claimIdempotency(trx: Transaction<Database>, rec: NonNullable<AcceptUnit['idempotency']>): Promise<boolean> {
    const ttlStart = rec.now - 24 * 60 * 60 * 1000;
    await trx.deleteFrom('idempotency_keys').where('server_id', '=', rec.serverId).where('key', '=', rec.key).where('created_at', '<', ttlStart).execute();
    const inserted = await trx
      .insertInto('idempotency_keys')
      .values({
        server_id: rec.serverId,
        key: rec.key,
        request_hash: rec.requestHash,
        response: rec.response,
        created_at: rec.now,
      })
      .onConflict((oc) => oc.columns(['server_id', 'key']).doNothing())
      .returning('key')
      .executeTakeFirst();
    return inserted !== undefined;
  }

  private async insertMessages(trx: Transaction<Database>, messages: readonly NewMessage[]): Promise<void> {
    if (messages.length === 0) return;
    for (const part of chunks(messages, 200)) {
      await trx
        .insertInto('messages')
        .values(
          part.map((m) => ({
            id: m.id,
            server_id: m.serverId,
            created_at: m.createdAt,
            source: m.source,
            is_merge: m.isMerge ? 1 : 0,
            from_address: m.template.from.email,
            subject: m.template.subject,
            size_bytes: m.sizeBytes,
            recipient_count: m.recipients.length,
            metadata: JSON.stringify(m.metadata),
            tags: JSON.stringify(m.tags),
          })),
        )
        .execute();
      await trx
        .insertInto('message_bodies')
        .values(part.map((m) => messageBodyRow(m.id, m.template)))
        .execute();
    }
    const suppressed = await suppressedForMessages(trx, messages);
    const rcpts: Insertable<RecipientsTable>[] = [];
    const events: Insertable<EventsTable>[] = [];
    // The reporting rollups' dimensions, from what is in memory: no look-up per recipient.
    const facts = new Map<string, EventFacts>();
    for (const m of messages) {
      const listed = suppressed.get(m.serverId);
      const messageFacts = { tags: m.tags, metadata: m.metadata, fromAddress: m.template.from.email };
      for (const r of m.recipients) {
        const reason = listed?.get(suppressionKey(r.address));
        // A suppressed address is accepted but never queued: final at once, with its Failed event.
        const failure = reason === undefined ? null : suppressedFailure(r.address, reason);
        rcpts.push({
          id: r.id,
          message_id: m.id,
          server_id: m.serverId,
          address: r.address,
          domain: domainOf(r.address),
          kind: r.kind,
          merge: r.merge === null ? null : JSON.stringify(r.merge),
          mailing_id: r.mailingId,
          custom_message_id: r.messageId,
          status: failure ? 'suppressed' : 'queued',
          attempts: 0,
          next_attempt_at: m.createdAt,
          locked_by: null,
          locked_at: null,
          last_reply: failure?.reply ?? null,
          created_at: m.createdAt,
          updated_at: m.createdAt,
          failure_code: failure ? FAILURE_CODE_SUPPRESSED : null,
        });
        // Every accepted recipient gets its event in the same transaction (the durable outbox).
        events.push({
          uid: newId(m.createdAt),
          server_id: m.serverId,
          message_id: m.id,
          recipient_id: r.id,
          type: failure ? 'Failed' : 'Queued',
          occurred_at: m.createdAt,
          data: failure ? JSON.stringify(failure.data) : null,
        });
        facts.set(r.id, { message: messageFacts, mailingId: r.mailingId, rcptDomain: domainOf(r.address) });
      }
    }
    for (const part of chunks(rcpts)) await trx.insertInto('recipients').values(part).execute();
    await insertEvents(trx, events, INSERT_CHUNK_ROWS, facts);
  }

  async findIdempotency(serverId: number, key: string, notBefore: number): Promise<IdempotencyRecord | undefined> {
    const row = await this.db
      .selectFrom('idempotency_keys')
      .selectAll()
      .where('server_id', '=', serverId)
      .where('key', '=', key)
      .where('created_at', '>=', notBefore)
      .executeTakeFirst();
    return (
      row && {
        serverId: Number(row.server_id),
        key: row.key,
        requestHash: row.request_hash,
        response: row.response,
        createdAt: Number(row.created_at),
      }
    );
  }

  async getMessage(id: string): Promise<StoredMessage | undefined> {
    const row = await this.db.selectFrom('messages').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toMessage(row);
  }

  async getMessageTemplate(id: string): Promise<MessageTemplate | undefined> {
    const row = await this.db.selectFrom('message_bodies').select(['content', 'raw_mime']).where('message_id', '=', id).executeTakeFirst();
    return row && templateFromBody(row.content, row.raw_mime);
  }

  async listRecipients(messageId: string): Promise<StoredRecipient[]> {
    return (await this.db.selectFrom('recipients').selectAll().where('message_id', '=', messageId).orderBy('id').execute()).map(toRecipient);
  }

  async getRecipient(id: string): Promise<StoredRecipient | undefined> {
    const row = await this.db.selectFrom('recipients').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toRecipient(row);
  }

  async countMessages(serverId?: number): Promise<number> {
    let q = this.db.selectFrom('messages').select((eb) => eb.fn.countAll<number>().as('n'));
    if (serverId !== undefined) q = q.where('server_id', '=', serverId);
    return Number((await q.executeTakeFirstOrThrow()).n);
  }

  async countRecipientsByStatus(): Promise<Partial<Record<RecipientStatus, number>>> {
    const rows = await this.db
      .selectFrom('recipients')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .groupBy('status')
      .execute();
    return Object.fromEntries(rows.map((r) => [r.status, Number(r.n)]));
  }

  async countPending(scope: number | { accountId: number }): Promise<PendingCounts> {
    const rows = await this.db
      .selectFrom('recipients')
      .select(['status', (eb) => eb.fn.countAll<number>().as('n')])
      .where('status', 'in', ['queued', 'deferred', 'delivering'])
      .where((eb) =>
        typeof scope === 'number'
          ? eb('server_id', '=', scope)
          : eb('server_id', 'in', eb.selectFrom('servers').select(sql<number>`id`.as('id')).where('account_id', '=', scope.accountId)),
      )
      .groupBy('status')
      .execute();
    const out: PendingCounts = { queued: 0, deferred: 0, delivering: 0 };
    for (const r of rows) out[r.status as keyof PendingCounts] = Number(r.n);
    return out;
  }

  renew(workerId: string, ids: readonly string[], now: number): Promise<number> {
    return this.updateHeld(workerId, ids, { locked_at: now });
  }

  release(workerId: string, ids: readonly string[], now: number): Promise<number> {
    return this.updateHeld(workerId, ids, { status: 'queued', locked_by: null, locked_at: null, updated_at: now });
  }

  /**
   * Sets `set` on the recipients among `ids` that workerId still holds (delivering, locked by it);
   * returns how many. One short transaction per chunk, rows locked in id order (see lockHeld).
   */
  private async updateHeld(workerId: string, ids: readonly string[], set: Updateable<RecipientsTable>): Promise<number> {
    let n = 0;
    for (const part of chunks([...ids].sort())) {
      n += await retryConflicts(() =>
        this.db.transaction().execute(async (trx) => {
          await this.lockHeld(trx, workerId, part);
          const res = await trx
            .updateTable('recipients')
            .set(set)
            .where('id', 'in', part)
            .where('locked_by', '=', workerId)
            .where('status', '=', 'delivering')
            .executeTakeFirst();
          return Number(res.numUpdatedRows);
        }),
      );
    }
    return n;
  }

  /**
   * PostgreSQL: locks the rows among `ids` that workerId holds, in id order. Every writer of a
   * worker's held rows (renew, release, record) locks them this way first, so two of them (the
   * renew timer and an outcome flush, or a takeover racing the owner) cannot deadlock: a single
   * UPDATE ... WHERE id IN (...) locks in whatever order its plan visits the rows. SQLite has one
   * writer at a time.
   */
  private async lockHeld(trx: Transaction<Database>, workerId: string, ids: readonly string[]): Promise<void> {
    if (this.kind !== 'postgres' || ids.length === 0) return;
    await trx
      .selectFrom('recipients')
      .select('id')
      .where('id', 'in', ids)
      .where('locked_by', '=', workerId)
      .where('status', '=', 'delivering')
      .orderBy('id')
      .forUpdate()
      .execute();
  }

  /**
   * One short transaction: the held rows are locked in id order, updated with one
   * UPDATE ... FROM (VALUES ...) per chunk (a statement per outcome kept the locks for hundreds
   * of round trips), then the events (and rollups, outbox rows, suppressions) are written.
   * A deadlock or serialization failure runs the whole transaction again.
   */
  async recordOutcomes(workerId: string, outcomes: readonly DeliveryOutcomeRecord[], now: number): Promise<number> {
    if (outcomes.length === 0) return 0;
    const sorted = [...outcomes].sort((a, b) => (a.recipientId < b.recipientId ? -1 : a.recipientId > b.recipientId ? 1 : 0));
    return retryConflicts(() =>
      this.db.transaction().execute(async (trx) => {
        const events: Insertable<EventsTable>[] = [];
        const suppressions = new Map<number, NewSuppression[]>();
        for (const part of chunks(sorted, OUTCOME_CHUNK_ROWS)) {
          await this.lockHeld(
            trx,
            workerId,
            part.map((o) => o.recipientId),
          );
          const values = sql.join(
            part.map(
              (o) => sql`(CAST(${o.recipientId} AS TEXT), CAST(${o.status} AS TEXT), CAST(${o.attempts} AS BIGINT),
          CAST(${o.nextAttemptAt ?? now} AS BIGINT), CAST(${o.reply} AS TEXT), CAST(${o.mx} AS TEXT), CAST(${o.failureCode} AS BIGINT))`,
            ),
          );
          // `status || ''` keeps SQLite from driving the join through the status index (every
          // delivering row, each compared with every outcome): it looks each outcome's row up by id.
          const res = await sql<{ id: string; server_id: number; message_id: string; address: string }>`
          WITH v(id, status, attempts, next_attempt_at, last_reply, last_mx, failure_code) AS (VALUES ${values})
          UPDATE recipients SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_attempt_at, last_reply = v.last_reply,
            last_mx = v.last_mx, failure_code = v.failure_code, locked_by = NULL, locked_at = NULL, updated_at = ${now}
          FROM v WHERE recipients.id = v.id AND recipients.locked_by = ${workerId} AND (recipients.status || '') = 'delivering'
          RETURNING recipients.id, recipients.server_id, recipients.message_id, recipients.address`.execute(trx);
          const updated = new Map(res.rows.map((r) => [r.id, r]));
          for (const o of part) {
            const row = updated.get(o.recipientId);
            if (!row) continue; // no longer ours (taken over): its new owner records it
            events.push({
              uid: newId(now),
              server_id: Number(row.server_id),
              message_id: row.message_id,
              recipient_id: o.recipientId,
              type: o.event.type,
              occurred_at: now,
              data: JSON.stringify(o.event.data),
            });
            if (o.suppress) {
              const serverId = Number(row.server_id);
              let list = suppressions.get(serverId);
              if (!list) suppressions.set(serverId, (list = []));
              list.push({ address: row.address, reason: o.suppress.reason, detail: o.suppress.detail });
            }
          }
        }
        await insertEvents(trx, events, INSERT_CHUNK_ROWS);
        // A permanent address failure suppresses the address in the transaction that records it.
        for (const [serverId, list] of suppressions) await upsertSuppressions(trx, serverId, list, now);
        return events.length;
      }),
    );
  }

  recordInboundReport(input: InboundReportRecord, now: number): Promise<InboundReportResult> {
    return this.db.transaction().execute((trx) => recordInboundReport(trx, input, now));
  }
}
