import { sql, type Kysely, type Transaction, type Selectable, type Insertable, type Updateable } from 'kysely';
import type { Database, RecipientsTable, ServersTable, AccountsTable, MessagesTable, EventsTable, DkimKeysTable } from './schema.js';
import type {
  Account,
  AcceptOutcome,
  AcceptUnit,
  ApiKeyAuth,
  ApiKeyRecord,
  DeliveryOutcomeRecord,
  DkimKeyRecord,
  IdempotencyRecord,
  Server,
  Store,
  StoredEvent,
  StoredMessage,
  StoredRecipient,
  WorkerRegistration,
  ServerPatch,
  NewEvent,
  InboundReportRecord,
  InboundReportResult,
  NewWebhookEndpoint,
  PageRequest,
  WebhookAttempt,
  WebhookAttemptRecord,
  WebhookEndpoint,
  WebhookEndpointPatch,
  WebhookWork,
} from './store.js';
import type { ApiKeyOwner, ApiKeySortField, ServerSortField, ServerTracking } from './store.js';
import { findKeyForAuth, getApiKeyOf, insertApiKey, listApiKeysOf, listServersOfAccount, revokeApiKeyOf, rotateApiKeyOf, toKey } from './tenancy.js';
import type { ApiKeyScope } from '../core/api-key.js';
import type { MessageTemplate, NewMessage, RecipientStatus, RecipientKind } from '../core/message.js';
import { domainOf } from '../core/address.js';
import { newId } from '../core/ids.js';
import { messageBodyRow, templateFromBody } from './message-body.js';
import {
  FAILURE_CODE_SUPPRESSED,
  suppressionKey,
  suppressedFailure,
  type NewSuppression,
  type Suppression,
  type SuppressionReason,
} from '../core/suppression.js';
import { suppressedForMessages, suppressRecipient, upsertSuppressions, SqlSuppressionRepository, type SuppressionRepository } from './suppressions.js';
import { recordInboundReport } from './inbound-reports.js';
import { SqlSendingDomainRepository, type SendingDomainRepository } from './sending-domains.js';
import {
  createEndpoint,
  getEndpoint,
  insertEvents,
  listAttempts,
  listEndpoints,
  loadWork,
  recordAttempts,
  replayEvents,
  updateEndpoint,
} from './webhooks.js';
import { SqlCustomDomainRepository, type CustomDomainRepository } from './custom-domains.js';
import * as inbound from './inbound.js';
import * as marketing from './marketing.js';
import { rebuildRollups, readRollups, type RollupQuery, type RollupRow } from './reports.js';
import type { EventFacts } from '../core/report-metrics.js';
import * as search from './search.js';
import * as eventReports from './event-reports.js';
import { retentionQueries, type RetentionQueries } from './retention.js';
import * as listSends from './list-sends.js';
import type { ListSend } from './list-sends.js';
import { lanesOrDefault, type ClaimLanes } from './claim-lanes.js';
import type { Contact, ContactList, ContactPatch, CustomField, ImportContactRow, NewContact, UnknownCustomField } from './store.js';
import * as workers from './workers.js';
import { SqlTemplateRepository, type TemplateRepository } from './templates.js';
import { retryConflicts } from './conflict-retry.js';

/** Rows per multi-row INSERT: stays under SQLite's 32,766 and PostgreSQL's 65,535 bound parameters. */
const INSERT_CHUNK_ROWS = 1_000;
/** Outcomes per UPDATE ... FROM (VALUES ...): 7 parameters each, well under both dialects' bounds. */
const OUTCOME_CHUNK_ROWS = 500;

const toAccount = (r: Selectable<AccountsTable>): Account => ({
  id: Number(r.id),
  name: r.name,
  status: r.status as Account['status'],
  createdAt: Number(r.created_at),
});
const toServer = (r: Selectable<ServersTable>): Server => ({
  id: Number(r.id),
  accountId: Number(r.account_id),
  name: r.name,
  status: r.status as Server['status'],
  sandbox: r.sandbox === 1,
  createdAt: Number(r.created_at),
  tracking: { opens: r.track_opens === 1, clicks: r.track_clicks === 1, unsubscribes: r.track_unsubscribes === 1, domain: r.tracking_domain },
  requireVerifiedDomain: Number(r.require_verified_domain) === 1,
});
export const toMessage = (r: Selectable<MessagesTable>): StoredMessage => ({
  id: r.id,
  serverId: Number(r.server_id),
  createdAt: Number(r.created_at),
  source: r.source as 'api' | 'smtp',
  isMerge: r.is_merge === 1,
  fromAddress: r.from_address,
  subject: r.subject,
  sizeBytes: Number(r.size_bytes),
  recipientCount: Number(r.recipient_count),
  metadata: JSON.parse(r.metadata),
  tags: JSON.parse(r.tags),
});
export const toRecipient = (r: Selectable<RecipientsTable>): StoredRecipient => ({
  id: r.id,
  messageId: r.message_id,
  serverId: Number(r.server_id),
  address: r.address,
  domain: r.domain,
  kind: r.kind as RecipientKind,
  merge: r.merge === null ? null : JSON.parse(r.merge),
  mailingId: r.mailing_id,
  messageId_: r.custom_message_id,
  status: r.status as RecipientStatus,
  attempts: Number(r.attempts),
  nextAttemptAt: Number(r.next_attempt_at),
  lockedBy: r.locked_by,
  lockedAt: r.locked_at === null ? null : Number(r.locked_at),
  lastReply: r.last_reply,
  lastMx: r.last_mx ?? null,
  failureCode: r.failure_code === null || r.failure_code === undefined ? null : Number(r.failure_code),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});
export const toEvent = (r: Selectable<EventsTable>): StoredEvent => ({
  id: Number(r.id),
  uid: r.uid,
  serverId: Number(r.server_id),
  messageId: r.message_id,
  recipientId: r.recipient_id,
  type: r.type,
  occurredAt: Number(r.occurred_at),
  data: r.data === null ? null : JSON.parse(r.data),
});

const toDkimKey = (r: Selectable<DkimKeysTable>): DkimKeyRecord => ({
  id: Number(r.id),
  domain: r.domain,
  selector: r.selector,
  algorithm: r.algorithm as DkimKeyRecord['algorithm'],
  privateKey: r.private_key,
  publicKey: r.public_key,
  createdAt: Number(r.created_at),
  retiredAt: r.retired_at === null ? null : Number(r.retired_at),
});

function chunks<T>(rows: readonly T[], size = INSERT_CHUNK_ROWS): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += size) out.push(rows.slice(i, i + size));
  return out;
}

/**
 * The queries both dialects share, written once with Kysely. Subclasses own the connection,
 * migrations and the few statements whose SQL differs (claiming work).
 */
export abstract class SqlStore implements Store {
  abstract readonly kind: 'sqlite' | 'postgres';
  readonly templates: TemplateRepository;
  readonly suppressions: SuppressionRepository;
  readonly customDomains: CustomDomainRepository;
  readonly sendingDomains: SendingDomainRepository;

  protected constructor(protected readonly db: Kysely<Database>) {
    this.templates = new SqlTemplateRepository(db);
    this.suppressions = new SqlSuppressionRepository(db);
    this.customDomains = new SqlCustomDomainRepository(db);
    this.sendingDomains = new SqlSendingDomainRepository(db);
  }

  abstract migrate(): Promise<void>;
  abstract claimRecipients(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]>;
  /** The dialect's claim: locks due outbox rows for workerId and returns their ids. */
  protected abstract claimWebhookDeliveryIds(
    workerId: string,
    limit: number,
    now: number,
    staleBefore: number,
    lanes: ClaimLanes,
    deadBefore?: number,
  ): Promise<number[]>;

  async close(): Promise<void> {
    await this.db.destroy();
  }

  async createAccount(name: string, now: number): Promise<Account> {
    const row = await this.db.insertInto('accounts').values({ name, status: 'active', created_at: now }).returningAll().executeTakeFirstOrThrow();
    return toAccount(row);
  }
  async listAccounts(): Promise<Account[]> {
    return (await this.db.selectFrom('accounts').selectAll().orderBy('id').execute()).map(toAccount);
  }
  async createServer(
    input: { accountId: number; name: string; sandbox?: boolean; requireVerifiedDomain?: boolean; tracking?: Partial<Omit<ServerTracking, 'domain'>> },
    now: number,
  ): Promise<Server> {
    const row = await this.db
      .insertInto('servers')
      .values({
        account_id: input.accountId,
        name: input.name,
        status: 'active',
        sandbox: input.sandbox ? 1 : 0,
        created_at: now,
        require_verified_domain: input.requireVerifiedDomain ? 1 : 0,
        track_opens: input.tracking?.opens ? 1 : 0,
        track_clicks: input.tracking?.clicks ? 1 : 0,
        track_unsubscribes: input.tracking?.unsubscribes ? 1 : 0,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toServer(row);
  }
  async updateServer(id: number, patch: ServerPatch): Promise<Server | undefined> {
    const set: Updateable<ServersTable> = {};
    if (patch.name !== undefined) set.name = patch.name;
    if (patch.status !== undefined) set.status = patch.status;
    if (patch.sandbox !== undefined) set.sandbox = patch.sandbox ? 1 : 0;
    if (patch.requireVerifiedDomain !== undefined) set.require_verified_domain = patch.requireVerifiedDomain ? 1 : 0;
    const t = patch.tracking ?? {};
    if (t.opens !== undefined) set.track_opens = t.opens ? 1 : 0;
    if (t.clicks !== undefined) set.track_clicks = t.clicks ? 1 : 0;
    if (t.unsubscribes !== undefined) set.track_unsubscribes = t.unsubscribes ? 1 : 0;
    if (t.domain !== undefined) set.tracking_domain = t.domain;
    if (Object.keys(set).length > 0) await this.db.updateTable('servers').set(set).where('id', '=', id).execute();
    return this.getServer(id);
  }
  async getServer(id: number): Promise<Server | undefined> {
    const row = await this.db.selectFrom('servers').selectAll().where('id', '=', id).executeTakeFirst();
    return row && toServer(row);
  }
  async listServers(): Promise<Server[]> {
    return (await this.db.selectFrom('servers').selectAll().orderBy('id').execute()).map(toServer);
  }

  createApiKey(
    input: { serverId: number | null; accountId?: number; scope: ApiKeyScope; name: string; publicId: string; secretHash: string },
    now: number,
  ): Promise<ApiKeyRecord> {
    return insertApiKey(this.db, input, now);
  }
  async listApiKeys(serverId?: number): Promise<ApiKeyRecord[]> {
    let q = this.db.selectFrom('api_keys').selectAll().orderBy('id');
    if (serverId !== undefined) q = q.where('server_id', '=', serverId);
    return (await q.execute()).map(toKey);
  }
  async findApiKeyForAuth(publicId: string): Promise<ApiKeyAuth | undefined> {
    const row = await findKeyForAuth(this.db, publicId);
    if (!row) return undefined;
    return {
      ...toKey(row),
      secretHash: row.secret_hash,
      serverStatus: row.server_status as Server['status'] | null,
      accountStatus: row.account_status as Account['status'],
    };
  }
  async revokeApiKey(publicId: string, now: number): Promise<boolean> {
    const res = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: now })
      .where('public_id', '=', publicId)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) > 0;
  }
  async listServersOfAccount(accountId: number, page: PageRequest & { sortField: ServerSortField }): Promise<{ rows: Server[]; total: number }> {
    const { rows, total } = await listServersOfAccount(this.db, accountId, page);
    return { rows: rows.map(toServer), total };
  }
  listApiKeysOf(owner: ApiKeyOwner, page: PageRequest & { sortField: ApiKeySortField }): Promise<{ rows: ApiKeyRecord[]; total: number }> {
    return listApiKeysOf(this.db, owner, page);
  }
  getApiKeyOf(owner: ApiKeyOwner, publicId: string): Promise<ApiKeyRecord | undefined> {
    return getApiKeyOf(this.db, owner, publicId);
  }
  revokeApiKeyOf(owner: ApiKeyOwner, publicId: string, now: number): Promise<ApiKeyRecord | undefined> {
    return revokeApiKeyOf(this.db, owner, publicId, now);
  }
  rotateApiKeyOf(owner: ApiKeyOwner, publicId: string, secretHash: string): Promise<ApiKeyRecord | undefined> {
    return rotateApiKeyOf(this.db, owner, publicId, secretHash);
  }

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

  async appendEvents(events: readonly NewEvent[]): Promise<string[]> {
    if (events.length === 0) return [];
    const rows = events.map((e) => ({
      uid: newId(e.occurredAt),
      server_id: e.serverId,
      message_id: e.messageId,
      recipient_id: e.recipientId,
      type: e.type,
      occurred_at: e.occurredAt,
      data: e.data === null ? null : JSON.stringify(e.data),
    }));
    await this.db.transaction().execute((trx) => insertEvents(trx, rows, INSERT_CHUNK_ROWS));
    return rows.map((r) => r.uid);
  }

  async listEvents(filter: { messageId?: string; afterId?: number; limit?: number }): Promise<StoredEvent[]> {
    let q = this.db
      .selectFrom('events')
      .selectAll()
      .orderBy('id')
      .limit(filter.limit ?? 1000);
    if (filter.messageId !== undefined) q = q.where('message_id', '=', filter.messageId);
    if (filter.afterId !== undefined) q = q.where('id', '>', filter.afterId);
    return (await q.execute()).map(toEvent);
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

  renewClaims(workerId: string, ids: readonly string[], now: number): Promise<number> {
    return this.updateHeld(workerId, ids, { locked_at: now });
  }

  releaseRecipients(workerId: string, ids: readonly string[], now: number): Promise<number> {
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

  registerWorkers(list: readonly WorkerRegistration[], now: number, sole: boolean): Promise<void> {
    return retryConflicts(() => this.db.transaction().execute((trx) => workers.register(trx, list, now, sole)));
  }
  heartbeatWorkers(list: readonly WorkerRegistration[], now: number): Promise<void> {
    return retryConflicts(() => workers.heartbeat(this.db, list, now));
  }
  deregisterWorkers(ids: readonly string[]): Promise<void> {
    return workers.deregister(this.db, ids);
  }
  listWorkers(): Promise<(WorkerRegistration & { heartbeatAt: number })[]> {
    return workers.list(this.db);
  }

  async suppressRecipient(
    input: { recipientId: string; reason: SuppressionReason; detail: string | null; event?: { type: string; data: Record<string, unknown> } | null },
    now: number,
  ): Promise<Suppression | undefined> {
    return this.db.transaction().execute((trx) => suppressRecipient(trx, input, now));
  }

  recordInboundReport(input: InboundReportRecord, now: number): Promise<InboundReportResult> {
    return this.db.transaction().execute((trx) => recordInboundReport(trx, input, now));
  }
  createWebhookEndpoint(input: NewWebhookEndpoint, now: number): Promise<WebhookEndpoint> {
    return createEndpoint(this.db, input, now);
  }
  getWebhookEndpoint(serverId: number, id: number): Promise<WebhookEndpoint | undefined> {
    return getEndpoint(this.db, serverId, id);
  }
  listWebhookEndpoints(serverId: number, page: PageRequest): Promise<{ rows: WebhookEndpoint[]; total: number }> {
    return listEndpoints(this.db, serverId, page);
  }
  updateWebhookEndpoint(serverId: number, id: number, patch: WebhookEndpointPatch, now: number): Promise<WebhookEndpoint | undefined> {
    return updateEndpoint(this.db, serverId, id, patch, now);
  }
  async deleteWebhookEndpoint(serverId: number, id: number): Promise<boolean> {
    // Attempts and outbox rows go with it (ON DELETE CASCADE), in this one statement's transaction.
    const res = await this.db.deleteFrom('webhook_endpoints').where('server_id', '=', serverId).where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
  async claimWebhookDeliveries(
    workerId: string,
    limit: number,
    now: number,
    staleBefore: number,
    lanes?: ClaimLanes,
    deadBefore?: number,
  ): Promise<WebhookWork[]> {
    const ids = await this.claimWebhookDeliveryIds(workerId, limit, now, staleBefore, lanesOrDefault(lanes, limit), deadBefore);
    return ids.length === 0 ? [] : loadWork(this.db, ids);
  }
  async releaseWebhookDeliveries(workerId: string, deliveryIds: readonly number[]): Promise<void> {
    for (const ids of chunks(deliveryIds, 500)) {
      await this.db
        .updateTable('webhook_deliveries')
        .set({ locked_by: null, locked_at: null })
        .where('id', 'in', ids)
        .where('locked_by', '=', workerId)
        .execute();
    }
  }
  async recordWebhookAttempts(
    workerId: string,
    records: readonly WebhookAttemptRecord[],
    now: number,
  ): Promise<{ endpointId: number; failingSince: number }[]> {
    if (records.length === 0) return [];
    return this.db.transaction().execute((trx) => recordAttempts(trx, workerId, records, now));
  }
  async replayWebhookEvents(
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
  listWebhookAttempts(serverId: number, endpointId: number, page: PageRequest): Promise<{ rows: WebhookAttempt[]; total: number }> {
    return listAttempts(this.db, serverId, endpointId, page);
  }

  async addDkimKey(key: Omit<DkimKeyRecord, 'id' | 'createdAt' | 'retiredAt'>, now: number): Promise<DkimKeyRecord> {
    const row = await this.db
      .insertInto('dkim_keys')
      .values({
        domain: key.domain,
        selector: key.selector,
        algorithm: key.algorithm,
        private_key: key.privateKey,
        public_key: key.publicKey,
        created_at: now,
        retired_at: null,
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return toDkimKey(row);
  }
  async listDkimKeys(domain?: string): Promise<DkimKeyRecord[]> {
    // Instance-wide keys only: a server's keys sign only that server's mail (store/sending-domains.ts).
    let q = this.db.selectFrom('dkim_keys').selectAll().where('retired_at', 'is', null).where('server_id', 'is', null).orderBy('id');
    if (domain !== undefined) q = q.where('domain', '=', domain);
    return (await q.execute()).map(toDkimKey);
  }

  async getSetting(key: string): Promise<string | undefined> {
    return (await this.db.selectFrom('settings').select('value').where('key', '=', key).executeTakeFirst())?.value;
  }
  async setSettingIfAbsent(key: string, value: string): Promise<string> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doNothing())
      .execute();
    return (await this.getSetting(key))!;
  }
  async setSetting(key: string, value: string): Promise<void> {
    await this.db
      .insertInto('settings')
      .values({ key, value })
      .onConflict((oc) => oc.column('key').doUpdateSet({ value }))
      .execute();
  }
  createInboundRoute(input: inbound.NewInboundRoute, now: number): Promise<inbound.InboundRoute | undefined> {
    return inbound.createRoute(this.db, input, now);
  }
  getInboundRoute(serverId: number, id: number): Promise<inbound.InboundRoute | undefined> {
    return inbound.getRoute(this.db, serverId, id);
  }
  listInboundRoutes(serverId: number, page: PageRequest): Promise<{ rows: inbound.InboundRoute[]; total: number }> {
    return inbound.listRoutes(this.db, serverId, page);
  }
  updateInboundRoute(serverId: number, id: number, patch: inbound.InboundRoutePatch, now: number): Promise<inbound.InboundRoute | undefined> {
    return inbound.updateRoute(this.db, serverId, id, patch, now);
  }
  deleteInboundRoute(serverId: number, id: number): Promise<boolean> {
    return this.db.transaction().execute((trx) => inbound.deleteRoute(trx, serverId, id));
  }
  inboundRoutingTable(): Promise<inbound.InboundRouteEntry[]> {
    return inbound.routingTable(this.db);
  }
  async commitInboundMessages(messages: readonly inbound.NewInboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.db.transaction().execute(async (trx) => {
      for (const m of messages) await inbound.insertMessage(trx, m);
    });
  }
  async claimInboundPosts(
    workerId: string,
    limit: number,
    now: number,
    staleBefore: number,
    lanes?: ClaimLanes,
    deadBefore?: number,
  ): Promise<inbound.InboundWork[]> {
    const ids = await this.db
      .transaction()
      .execute((trx) => inbound.claimPostIds(trx, this.kind, workerId, limit, now, staleBefore, lanesOrDefault(lanes, limit), deadBefore));
    return inbound.loadWork(this.db, ids);
  }
  inboundMessageRaw(messageId: string): Promise<Buffer | undefined> {
    return inbound.rawOf(this.db, messageId);
  }
  putInboundBodyChunk(messageId: string, seq: number, content: Buffer, now: number): Promise<void> {
    return inbound.putBodyChunk(this.db, messageId, seq, content, now);
  }
  deleteInboundBody(messageId: string): Promise<void> {
    return inbound.deleteBody(this.db, messageId);
  }
  sweepOrphanInboundBodies(before: number): Promise<number> {
    return inbound.sweepOrphanBodies(this.db, before);
  }
  async recordInboundAttempts(workerId: string, records: readonly inbound.InboundAttemptRecord[], now: number): Promise<number> {
    if (records.length === 0) return 0;
    return this.db.transaction().execute((trx) => inbound.recordAttempts(trx, workerId, records, now));
  }
  releaseInboundPosts(workerId: string, postIds: readonly number[]): Promise<void> {
    return inbound.releasePosts(this.db, workerId, postIds);
  }
  listInboundPosts(serverId: number, routeId: number, page: PageRequest): Promise<{ rows: inbound.InboundPostView[]; total: number }> {
    return inbound.listPosts(this.db, serverId, routeId, page);
  }
  getInboundPost(serverId: number, routeId: number, postId: number): Promise<inbound.InboundPostView | undefined> {
    return inbound.getPost(this.db, serverId, routeId, postId);
  }
  listInboundAttempts(serverId: number, routeId: number, postId: number, page: PageRequest): Promise<{ rows: inbound.InboundAttempt[]; total: number }> {
    return inbound.listAttempts(this.db, serverId, routeId, postId, page);
  }
  replayInboundPosts(
    serverId: number,
    routeId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }> {
    return this.db.transaction().execute((trx) => inbound.replayPosts(trx, serverId, routeId, range, now));
  }

  // Marketing API (store/marketing.ts).
  listContactLists(serverId: number): Promise<ContactList[]> {
    return marketing.listContactLists(this.db, serverId);
  }
  getContactList(serverId: number, listId: number): Promise<ContactList | undefined> {
    return marketing.getContactList(this.db, serverId, listId);
  }
  createContactList(serverId: number, name: string, now: number): Promise<ContactList | null> {
    return marketing.createContactList(this.db, serverId, name, now);
  }
  renameContactList(serverId: number, listId: number, name: string, now: number): Promise<ContactList | 'duplicate' | undefined> {
    return marketing.renameContactList(this.db, serverId, listId, name, now);
  }
  deleteContactList(serverId: number, listId: number): Promise<boolean> {
    return marketing.deleteContactList(this.db, serverId, listId);
  }
  addContactToListByEmail(serverId: number, listId: number, contact: NewContact, now: number): Promise<{ contact: Contact; added: boolean } | undefined> {
    return marketing.addContactToListByEmail(this.db, serverId, listId, contact, now);
  }
  addContactToList(serverId: number, listId: number, contactId: number, now: number): Promise<{ added: boolean } | 'no-list' | 'no-contact'> {
    return marketing.addContactToList(this.db, serverId, listId, contactId, now);
  }
  removeContactFromList(serverId: number, listId: number, email: string): Promise<boolean | 'no-list'> {
    return marketing.removeContactFromList(this.db, serverId, listId, email);
  }
  createContact(serverId: number, contact: NewContact, now: number): Promise<Contact | 'exists' | UnknownCustomField> {
    return marketing.createContact(this.db, serverId, contact, now);
  }
  getContact(serverId: number, contactId: number): Promise<Contact | undefined> {
    return marketing.getContact(this.db, serverId, contactId);
  }
  updateContact(serverId: number, contactId: number, patch: ContactPatch, now: number): Promise<Contact | UnknownCustomField | undefined> {
    return marketing.updateContact(this.db, serverId, contactId, patch, now);
  }
  deleteContact(serverId: number, contactId: number): Promise<boolean> {
    return marketing.deleteContact(this.db, serverId, contactId);
  }
  searchContacts(
    serverId: number,
    q: { email?: string; startsWith?: string },
    page: { limit: number; offset: number },
  ): Promise<{ rows: Contact[]; total: number }> {
    return marketing.searchContacts(this.db, serverId, q, page);
  }
  unsubscribeContact(serverId: number, email: string, now: number): Promise<Contact | undefined> {
    return marketing.unsubscribeContact(this.db, serverId, email, now);
  }
  createCustomField(serverId: number, name: string, max: number, now: number): Promise<CustomField | 'duplicate' | 'limit'> {
    return marketing.createCustomField(this.db, serverId, name, max, now);
  }
  listCustomFields(serverId: number): Promise<CustomField[]> {
    return marketing.listCustomFields(this.db, serverId);
  }
  deleteCustomField(serverId: number, name: string): Promise<boolean> {
    return marketing.deleteCustomField(this.db, serverId, name);
  }
  importContacts(
    serverId: number,
    listId: number,
    rows: readonly ImportContactRow[],
    now: number,
  ): Promise<{ created: number; updated: number } | 'no-list' | UnknownCustomField> {
    return marketing.importContacts(this.db, serverId, listId, rows, now);
  }
  streamContacts(serverId: number, listId: number | undefined, batchSize: number): AsyncGenerator<Contact[]> {
    return marketing.streamContacts(this.db, serverId, listId, batchSize);
  }
  acceptListSend(serverId: number, listId: number, message: NewMessage): Promise<ListSend | 'no-list' | 'empty'> {
    return listSends.acceptListSend(this.db, serverId, listId, message);
  }
  getListSend(serverId: number, listId: number, sendId: number): Promise<ListSend | undefined> {
    return listSends.getListSend(this.db, serverId, listId, sendId);
  }
  expandingListSends(limit: number): Promise<number[]> {
    return listSends.expandingListSends(this.db, limit);
  }
  expandListSend(sendId: number, batchSize: number, now: number): Promise<listSends.ExpandedBatch | undefined> {
    return listSends.expandListSend(this.db, sendId, batchSize, now);
  }

  // Recipient search, message detail (store/search.ts) and retention (store/retention.ts).
  searchRecipients(
    serverId: number,
    query: search.RecipientSearchQuery,
    page: { limit: number; offset: number },
  ): Promise<{ rows: search.RecipientSearchRow[]; total: number }> {
    return search.searchRecipients(this.db, this.kind, serverId, query, page);
  }
  streamRecipientSearch(serverId: number, query: search.RecipientSearchQuery, batchSize: number): AsyncGenerator<search.RecipientSearchRow[]> {
    return search.streamRecipientSearch(this.db, this.kind, serverId, query, batchSize);
  }
  loadRecipientDetail(serverId: number, recipientIds: readonly string[]): Promise<search.RecipientDetailData> {
    return search.loadRecipientDetail(this.db, serverId, recipientIds);
  }
  searchEvents(
    serverId: number,
    query: eventReports.EventReportQuery,
    page: { limit: number; offset: number },
  ): Promise<{ rows: eventReports.EventReportRow[]; total: number }> {
    return eventReports.searchEvents(this.db, serverId, query, page);
  }
  retentionQueries(): RetentionQueries {
    return retentionQueries(this.db, this.kind);
  }
  /** PostgreSQL: (auto)vacuum makes deleted rows' space reusable; nothing to do here. SQLite overrides it. */
  async reclaimSpace(): Promise<number> {
    return 0;
  }

  readReportRollups(q: RollupQuery): Promise<RollupRow[]> {
    return readRollups(this.db, q);
  }
  rebuildReportRollups(serverId: number | null): Promise<{ events: number }> {
    return this.db.transaction().execute((trx) => rebuildRollups(trx, this.kind, serverId));
  }
}
