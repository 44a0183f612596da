import type { ApiKeyScope } from '../core/api-key.js';
import type { TemplateRepository } from './templates.js';
import type { CustomDomainRepository } from './custom-domains.js';
import type { SendingDomainRepository } from './sending-domains.js';
import type { NewMessage, RecipientStatus, MessageTemplate, MergeField, KeyValue, RecipientKind } from '../core/message.js';
import type { ExpandedBatch, ListSend } from './list-sends.js';
import type { Suppression, SuppressionReason } from '../core/suppression.js';
import type { SuppressionRepository } from './suppressions.js';
import type { RecipientDetailData, RecipientSearchQuery, RecipientSearchRow } from './search.js';
import type { EventReportQuery, EventReportRow } from './event-reports.js';
import type { RetentionQueries } from './retention.js';
import type { DkimKeyState, RecordCheck } from '../core/sending-domain-types.js';
import type { CustomDomainKind, RecordCheck as CustomDomainRecordCheck } from '../core/custom-domain.js';
import type {
  InboundAttempt,
  InboundAttemptRecord,
  InboundPostView,
  InboundRoute,
  InboundRouteEntry,
  InboundRoutePatch,
  InboundWork,
  NewInboundMessage,
  NewInboundRoute,
} from './inbound.js';
import type { RollupQuery, RollupRow } from './reports.js';
import type { ClaimLanes } from './claim-lanes.js';

export interface Account {
  id: number;
  name: string;
  status: 'active' | 'disabled';
  createdAt: number;
}
export interface Server {
  id: number;
  accountId: number;
  name: string;
  status: 'active' | 'disabled';
  sandbox: boolean;
  createdAt: number;
  tracking: ServerTracking;
  /**
   * Refuse mail whose From domain is not one of the server's verified sending domains (never in
   * sandbox mode). On for servers created through the v2 API; off for the trial server of `postline init`.
   */
  requireVerifiedDomain: boolean;
}
/** Engagement tracking switches of a server (all off by default) and its tracking origin. */
export interface ServerTracking {
  opens: boolean;
  clicks: boolean;
  unsubscribes: boolean;
  /** `https://track.example.com`: the origin tracking links use; null means Postline's public URL. */
  domain: string | null;
}
export interface ServerPatch {
  name?: string;
  status?: Server['status'];
  sandbox?: boolean;
  tracking?: Partial<ServerTracking>;
  requireVerifiedDomain?: boolean;
}
/** An event written outside delivery (tracking, complaints, asynchronous bounces). */
export interface NewEvent {
  serverId: number;
  messageId: string;
  recipientId: string | null;
  type: string;
  occurredAt: number;
  data: Record<string, unknown> | null;
}
/** An API key; serverId is null exactly for account keys (scope `account`), which belong to the account alone. */
export interface ApiKeyRecord {
  id: number;
  publicId: string;
  serverId: number | null;
  scope: ApiKeyScope;
  name: string;
  createdAt: number;
  revokedAt: number | null;
  accountId: number;
}
/** What authentication needs in one lookup: the key, its server (none for account keys) and its account. */
export interface ApiKeyAuth extends ApiKeyRecord {
  secretHash: string;
  serverStatus: Server['status'] | null;
  accountStatus: Account['status'];
}
/**
 * Whose keys a key call reaches: one server's (injection and management keys), or one account's
 * account-scope keys. Every key call filters by it, so no caller reaches another tenant's keys.
 */
export type ApiKeyOwner = { serverId: number } | { accountId: number };
export type ApiKeySortField = 'createdOn' | 'name';
export type ServerSortField = 'serverId' | 'name' | 'createdOn';

export interface StoredMessage {
  id: string;
  serverId: number;
  createdAt: number;
  source: 'api' | 'smtp';
  isMerge: boolean;
  fromAddress: string;
  subject: string;
  sizeBytes: number;
  recipientCount: number;
  metadata: KeyValue[];
  tags: string[];
}
export interface StoredRecipient {
  id: string;
  messageId: string;
  serverId: number;
  address: string;
  domain: string;
  kind: RecipientKind;
  merge: MergeField[] | null;
  mailingId: string | null;
  messageId_: string | null;
  status: RecipientStatus;
  attempts: number;
  nextAttemptAt: number;
  lockedBy: string | null;
  lockedAt: number | null;
  lastReply: string | null;
  lastMx: string | null;
  failureCode: number | null;
  createdAt: number;
  updatedAt: number;
}

/** What one delivery attempt changed, recorded with its event in one transaction. */
export interface DeliveryOutcomeRecord {
  recipientId: string;
  status: 'delivered' | 'deferred' | 'failed' | 'sandboxed';
  attempts: number;
  /** When to try again (deferred only). */
  nextAttemptAt: number | null;
  reply: string | null;
  mx: string | null;
  failureCode: number | null;
  event: { type: 'Delivered' | 'Deferred' | 'Failed'; data: Record<string, unknown> };
  /** Suppress the recipient's address on its server, in the same transaction (a permanent address failure). */
  suppress?: { reason: SuppressionReason; detail: string } | null;
}

/**
 * What an inbound report (asynchronous bounce, delay notice, complaint) records for one recipient,
 * in one transaction: its event, and for a bounce the recipient's final status, and the
 * suppression it causes.
 */
export interface InboundReportRecord {
  recipientId: string;
  event: { type: 'Failed' | 'Deferred' | 'Complaint'; data: Record<string, unknown> };
  /** Failed only: the recipient becomes `failed` with this code and reply. */
  failure?: { failureCode: number | null; reply: string } | null;
  /** Suppress the recipient's address on its server. */
  suppress?: { reason: SuppressionReason; detail: string } | null;
}
/**
 * - recorded: written.
 * - already-failed: the recipient's status is already failed; a repeated bounce or a late delay
 *   notice adds nothing (this is what makes the same DSN delivered twice harmless).
 * - duplicate: the recipient already has a Complaint event.
 * - not-sent: the recipient was never handed to a remote server (suppressed, sandboxed, no attempt):
 *   no genuine report can be about it.
 * - unknown-recipient: no such recipient.
 */
export type InboundReportResult =
  | { kind: 'recorded'; serverId: number; messageId: string }
  | { kind: 'already-failed' | 'duplicate' | 'not-sent' | 'unknown-recipient' };

export interface DkimKeyRecord {
  id: number;
  domain: string;
  selector: string;
  algorithm: 'rsa-sha256' | 'ed25519-sha256';
  privateKey: string;
  publicKey: string;
  createdAt: number;
  retiredAt: number | null;
}
/** A DKIM key that belongs to a server's sending domain. */
export interface ServerDkimKey extends DkimKeyRecord {
  serverId: number;
  state: DkimKeyState;
  activatedAt: number | null;
  /** Retiring keys: when the overlap ends and the key is retired. */
  retireAfter: number | null;
}
export type NewServerDkimKey = Pick<ServerDkimKey, 'selector' | 'algorithm' | 'privateKey' | 'publicKey' | 'state'>;
/** A sending domain of a server, with its keys that are not retired (oldest first). */
export interface SendingDomain {
  id: number;
  serverId: number;
  domain: string;
  createdAt: number;
  updatedAt: number;
  verifiedAt: number | null;
  lastCheckedAt: number | null;
  /** The last verification's per-record results; null before the first. */
  checkResults: RecordCheck[] | null;
  keys: ServerDkimKey[];
}
/** What one verification records: its results, the verified time it decided, and key state changes. */
export interface SendingDomainCheck {
  results: RecordCheck[];
  verifiedAt: number | null;
  keyChanges: { id: number; state: DkimKeyState; activatedAt?: number | null; retireAfter?: number | null }[];
}
export interface StoredEvent {
  id: number;
  uid: string;
  serverId: number;
  messageId: string;
  recipientId: string | null;
  type: string;
  occurredAt: number;
  data: unknown;
}

export type WebhookFormat = 'json' | 'form';
/** A receiver of a server's event webhooks. */
export interface WebhookEndpoint {
  id: number;
  serverId: number;
  url: string;
  /** SocketLabs Type names this endpoint wants; empty means every type. */
  eventTypes: string[];
  format: WebhookFormat;
  /** SocketLabs' SecretKey, sent in every payload. */
  secretKey: string;
  /**
   * The legacy Notification API's ValidationKey (form endpoints; null for JSON ones): never sent,
   * the receiver must put it in the body of every answer (webhooks/legacy-notification.ts).
   */
  validationKey: string | null;
  /** Standard Webhooks secrets (whsec_...), newest first; see webhooks/endpoint.ts for which ones sign. */
  signingSecrets: string[];
  secretsRotatedAt: number | null;
  enabled: boolean;
  disabledReason: string | null;
  /** When the current streak of failed attempts began; null after a success. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
  validatedAt: number | null;
}
export interface NewWebhookEndpoint {
  serverId: number;
  url: string;
  eventTypes: string[];
  format: WebhookFormat;
  secretKey: string;
  signingSecret: string;
  /** Form endpoints only; absent or null for JSON ones. */
  validationKey?: string | null;
  enabled: boolean;
  disabledReason: string | null;
  validatedAt: number | null;
}
export type WebhookEndpointPatch = Partial<
  Pick<
    WebhookEndpoint,
    'url' | 'eventTypes' | 'format' | 'enabled' | 'disabledReason' | 'failingSince' | 'validatedAt' | 'signingSecrets' | 'secretsRotatedAt' | 'validationKey'
  >
>;
/** A claimed outbox row with everything its payload needs. message/recipient are null if missing (a producer's bug). */
export interface WebhookWork {
  deliveryId: number;
  attempts: number;
  endpoint: WebhookEndpoint;
  event: StoredEvent;
  message: StoredMessage | null;
  recipient: StoredRecipient | null;
}
/** One POST's result and what it decides for its outbox row. */
export interface WebhookAttemptRecord {
  deliveryId: number;
  endpointId: number;
  ok: boolean;
  /** false: nothing was sent (the payload could not be built); such a failure says nothing about the receiver. */
  posted: boolean;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
  next: { status: 'delivered' | 'failed' | 'gave_up'; attempts: number; nextAttemptAt: number };
}
export interface WebhookAttempt {
  id: number;
  deliveryId: number;
  eventUid: string;
  eventType: string;
  at: number;
  ok: boolean;
  httpStatus: number | null;
  durationMs: number;
  error: string | null;
  responseSnippet: string | null;
}
export interface PageRequest {
  limit: number;
  offset: number;
  direction: 'asc' | 'desc';
}
/** A server's custom bounce or tracking domain (core/custom-domain.ts). */
export interface CustomDomain {
  id: number;
  serverId: number;
  kind: CustomDomainKind;
  /** Lower case, no trailing dot. */
  domain: string;
  isDefault: boolean;
  /** Tracking domains: links use https:// (true) or http://. Always true for bounce domains. */
  https: boolean;
  createdAt: number;
  updatedAt: number;
  /** When the domain's records were last found correct; null while they are not. */
  verifiedAt: number | null;
  lastCheckedAt: number | null;
  /** What the last check found, record by record; null before the first check. */
  lastCheck: CustomDomainRecordCheck[] | null;
}
export interface NewCustomDomain {
  serverId: number;
  kind: CustomDomainKind;
  domain: string;
  https: boolean;
  isDefault: boolean;
  /** A check run before storing (an add that asks to be the default is checked first). */
  check: { at: number; records: CustomDomainRecordCheck[]; verified: boolean } | null;
}
/** One DNS check's result. verified null: the lookup failed, the domain keeps its verified state. */
export interface CustomDomainCheck {
  at: number;
  records: CustomDomainRecordCheck[];
  verified: boolean | null;
}
/** A verified custom domain, as routing (Return-Path, MX) needs it. */
export interface RoutedCustomDomain {
  serverId: number;
  domain: string;
  isDefault: boolean;
}

/** One accept of the Injection API or SMTP: messages plus, optionally, an idempotency record. */
export interface AcceptUnit {
  messages: NewMessage[];
  idempotency: { serverId: number; key: string; requestHash: string; response: string; now: number } | null;
}
/** `duplicate`: another request with the same idempotency key committed first; nothing was written. */
export type AcceptOutcome = { kind: 'committed' } | { kind: 'duplicate' };

export interface IdempotencyRecord {
  serverId: number;
  key: string;
  requestHash: string;
  response: string;
  createdAt: number;
}

/**
 * The one storage interface. Two implementations (SQLite, PostgreSQL) pass the same contract
 * suite (test/store/contract.test.ts). Every method is its own transaction unless it says otherwise.
 */
/** The SQLite checkpoint thread's counts (store/sqlite/background-checkpoint.ts). */
export interface CheckpointState {
  /** Checkpoints that found frames in the WAL. */
  checkpoints: number;
  /** Checkpoints that failed, and a thread that could not open the file. */
  errors: number;
  /** Frames in the WAL at the last checkpoint that found any. */
  walFrames: number;
  lastError: string | null;
}

export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  createAccount(name: string, now: number): Promise<Account>;
  listAccounts(): Promise<Account[]>;
  createServer(
    input: { accountId: number; name: string; sandbox?: boolean; requireVerifiedDomain?: boolean; tracking?: Partial<Omit<ServerTracking, 'domain'>> },
    now: number,
  ): Promise<Server>;
  getServer(id: number): Promise<Server | undefined>;
  listServers(): Promise<Server[]>;
  /** Changes the given fields; undefined when there is no such server. */
  updateServer(id: number, patch: ServerPatch): Promise<Server | undefined>;

  /**
   * A server's key (serverId set; its account is the server's), or an account key (scope
   * `account`, serverId null, accountId set).
   */
  createApiKey(
    input: { serverId: number | null; accountId?: number; scope: ApiKeyScope; name: string; publicId: string; secretHash: string },
    now: number,
  ): Promise<ApiKeyRecord>;
  listApiKeys(serverId?: number): Promise<ApiKeyRecord[]>;
  findApiKeyForAuth(publicId: string): Promise<ApiKeyAuth | undefined>;
  revokeApiKey(publicId: string, now: number): Promise<boolean>;

  /** The account's servers, a page at a time; ties ordered by id. */
  listServersOfAccount(accountId: number, page: PageRequest & { sortField: ServerSortField }): Promise<{ rows: Server[]; total: number }>;
  /** The owner's keys (revoked ones too), a page at a time; ties ordered by id. */
  listApiKeysOf(owner: ApiKeyOwner, page: PageRequest & { sortField: ApiKeySortField }): Promise<{ rows: ApiKeyRecord[]; total: number }>;
  getApiKeyOf(owner: ApiKeyOwner, publicId: string): Promise<ApiKeyRecord | undefined>;
  /** Revokes the owner's key if live; returns the key (revoked, now or before), undefined when the owner has no such key. */
  revokeApiKeyOf(owner: ApiKeyOwner, publicId: string, now: number): Promise<ApiKeyRecord | undefined>;
  /** Replaces a live key's secret (same id, public id and name); undefined when the owner has no such live key. */
  rotateApiKeyOf(owner: ApiKeyOwner, publicId: string, secretHash: string): Promise<ApiKeyRecord | undefined>;

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
  /** Writes events in one transaction; returns their uids (stable event ids), in order. */
  appendEvents(events: readonly NewEvent[]): Promise<string[]>;
  listEvents(filter: { messageId?: string; afterId?: number; limit?: number }): Promise<StoredEvent[]>;
  countMessages(serverId?: number): Promise<number>;
  countRecipientsByStatus(): Promise<Partial<Record<RecipientStatus, number>>>;

  /**
   * Claims up to `limit` due recipients for `workerId` (queued or deferred with next_attempt_at <=
   * now, or delivering with a lock older than staleBefore, or — given deadBefore — delivering for
   * a worker that is not registered or whose heartbeat is older than deadBefore). No recipient is
   * ever handed to two claimers at once, also across processes sharing one PostgreSQL.
   */
  claimRecipients(workerId: string, limit: number, now: number, staleBefore: number, deadBefore?: number): Promise<StoredRecipient[]>;
  /** Gives claimed recipients back (shutdown); only rows still locked by workerId change. */
  releaseRecipients(workerId: string, ids: readonly string[], now: number): Promise<number>;
  /**
   * Renews the claim time of recipients workerId still holds (a live worker's heartbeat), so a
   * claim only goes stale when its worker stopped. Returns how many were renewed.
   */
  renewClaims(workerId: string, ids: readonly string[], now: number): Promise<number>;

  /**
   * The worker registry (store/workers.ts). Registers this process's workers with heartbeat
   * `now`; `sole` (SQLite: one process owns the file) removes every other registration, so a
   * previous run's claims are taken over at once.
   */
  registerWorkers(workers: readonly WorkerRegistration[], now: number, sole: boolean): Promise<void>;
  /** Refreshes the workers' heartbeats (re-inserting a row that was removed). */
  heartbeatWorkers(workers: readonly WorkerRegistration[], now: number): Promise<void>;
  /** Removes the workers' rows (graceful stop): what they still hold is taken over at once. */
  deregisterWorkers(ids: readonly string[]): Promise<void>;
  listWorkers(): Promise<(WorkerRegistration & { heartbeatAt: number })[]>;

  /**
   * Records attempt outcomes and their events in one transaction. Only rows still locked by
   * workerId change (a worker whose claim was reclaimed as stale cannot overwrite the new owner).
   * Returns how many recipients were updated.
   */
  recordOutcomes(workerId: string, outcomes: readonly DeliveryOutcomeRecord[], now: number): Promise<number>;

  /** Suppression lists, one per server: store/suppressions.ts. */
  readonly suppressions: SuppressionRepository;
  /**
   * Suppresses the address of an accepted recipient on its server because of something that
   * recipient's message caused (a complaint report, an unsubscribe, an asynchronous bounce), and
   * records `event` for that recipient in the same transaction. undefined: no such recipient.
   */
  suppressRecipient(
    input: { recipientId: string; reason: SuppressionReason; detail: string | null; event?: { type: string; data: Record<string, unknown> } | null },
    now: number,
  ): Promise<Suppression | undefined>;

  /**
   * Records an inbound report about one recipient (see InboundReportRecord) in one transaction,
   * the recipient's row locked first so that two copies of one report cannot both be recorded.
   */
  recordInboundReport(input: InboundReportRecord, now: number): Promise<InboundReportResult>;

  /**
   * Event webhooks. Every event writer above (commitAccepts, recordOutcomes, appendEvents,
   * suppressRecipient) also writes, in its own transaction, one webhook_deliveries row per
   * enabled endpoint of the event's server that wants the event's type: the webhook outbox.
   * Endpoint calls take the serverId so one server can never reach another's endpoints.
   */
  createWebhookEndpoint(input: NewWebhookEndpoint, now: number): Promise<WebhookEndpoint>;
  getWebhookEndpoint(serverId: number, id: number): Promise<WebhookEndpoint | undefined>;
  listWebhookEndpoints(serverId: number, page: PageRequest): Promise<{ rows: WebhookEndpoint[]; total: number }>;
  updateWebhookEndpoint(serverId: number, id: number, patch: WebhookEndpointPatch, now: number): Promise<WebhookEndpoint | undefined>;
  /** Deletes the endpoint with its outbox rows and attempts. */
  deleteWebhookEndpoint(serverId: number, id: number): Promise<boolean>;
  /**
   * Claims up to `limit` due outbox rows of enabled endpoints (pending or failed, next_attempt_at
   * <= now, unlocked or locked before staleBefore) for `workerId`, never a row while an earlier
   * undelivered row of the same endpoint and recipient waits (a recipient's events arrive in order; a bulk send's recipients do not wait for each other).
   * With `lanes`, at most `lanes.perLane` rows of any one endpoint, less what the caller already holds of it (store/claim-lanes.ts).
   */
  claimWebhookDeliveries(workerId: string, limit: number, now: number, staleBefore: number, lanes?: ClaimLanes, deadBefore?: number): Promise<WebhookWork[]>;
  /** Gives claimed rows back unposted (shutdown, or their endpoint was disabled): only rows still locked by workerId. */
  releaseWebhookDeliveries(workerId: string, deliveryIds: readonly number[]): Promise<void>;
  /**
   * Records attempts and their rows' next state in one transaction; only rows still locked by
   * workerId change. Returns the endpoints that failed in this batch with their failing_since.
   */
  recordWebhookAttempts(workerId: string, records: readonly WebhookAttemptRecord[], now: number): Promise<{ endpointId: number; failingSince: number }[]>;
  /**
   * Queues the endpoint's matching events of [from, to) again (new rows, or rows not pending reset
   * to pending with no attempts). Refuses, writing nothing, when more than `max` events match.
   */
  replayWebhookEvents(
    serverId: number,
    endpointId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }>;
  listWebhookAttempts(serverId: number, endpointId: number, page: PageRequest): Promise<{ rows: WebhookAttempt[]; total: number }>;

  /** Custom bounce and tracking domains: store/custom-domains.ts. */
  readonly customDomains: CustomDomainRepository;

  /** Stored templates (ApiTemplate): store/templates.ts. */
  readonly templates: TemplateRepository;

  addDkimKey(key: Omit<DkimKeyRecord, 'id' | 'createdAt' | 'retiredAt'>, now: number): Promise<DkimKeyRecord>;
  /** Live (not retired) keys, for one domain or all. */
  listDkimKeys(domain?: string): Promise<DkimKeyRecord[]>;

  /** Sending domains of a server and their DKIM keys: store/sending-domains.ts. */
  readonly sendingDomains: SendingDomainRepository;

  getSetting(key: string): Promise<string | undefined>;
  setSetting(key: string, value: string): Promise<void>;
  /** Stores the value unless the key exists; returns the stored value (the first writer's). */
  setSettingIfAbsent(key: string, value: string): Promise<string>;
  /**
   * Inbound routing (src/inbound/). A route is a server's claim on a domain or an address; a match
   * is routed by at most one route in the whole instance. Route calls take the serverId.
   */
  /** undefined when the match is already routed (by this or another server); nothing is written then. */
  createInboundRoute(input: NewInboundRoute, now: number): Promise<InboundRoute | undefined>;
  getInboundRoute(serverId: number, id: number): Promise<InboundRoute | undefined>;
  listInboundRoutes(serverId: number, page: PageRequest): Promise<{ rows: InboundRoute[]; total: number }>;
  updateInboundRoute(serverId: number, id: number, patch: InboundRoutePatch, now: number): Promise<InboundRoute | undefined>;
  /** Deletes the route, its posts and attempts, and the messages no other route wants. */
  deleteInboundRoute(serverId: number, id: number): Promise<boolean>;
  /** Every route of every server, for the MX listener's RCPT decisions. */
  inboundRoutingTable(): Promise<InboundRouteEntry[]>;
  /** Stores received messages (each one's bytes once) and their posts in one transaction (group commit). */
  commitInboundMessages(messages: readonly NewInboundMessage[]): Promise<void>;
  /**
   * Claims up to `limit` due posts of enabled routes for workerId, `lanes` per route; with
   * deadBefore also the claims of dead workers (see inbound.ts claimPostIds).
   */
  claimInboundPosts(workerId: string, limit: number, now: number, staleBefore: number, lanes?: ClaimLanes, deadBefore?: number): Promise<InboundWork[]>;
  inboundMessageRaw(messageId: string): Promise<Buffer | undefined>;
  /** Stores one chunk of a large inbound message's bytes ahead of commitInboundMessages (with bodyStored), in its own transaction. */
  putInboundBodyChunk(messageId: string, seq: number, content: Buffer, now: number): Promise<void>;
  /** Removes the chunks of a message whose commit failed. */
  deleteInboundBody(messageId: string): Promise<void>;
  /** Removes chunks older than `before` that belong to no committed message; returns how many. */
  sweepOrphanInboundBodies(before: number): Promise<number>;
  /** Records attempts and the posts' next state in one transaction; only rows still locked by workerId. */
  recordInboundAttempts(workerId: string, records: readonly InboundAttemptRecord[], now: number): Promise<number>;
  releaseInboundPosts(workerId: string, postIds: readonly number[]): Promise<void>;
  listInboundPosts(serverId: number, routeId: number, page: PageRequest): Promise<{ rows: InboundPostView[]; total: number }>;
  getInboundPost(serverId: number, routeId: number, postId: number): Promise<InboundPostView | undefined>;
  listInboundAttempts(serverId: number, routeId: number, postId: number, page: PageRequest): Promise<{ rows: InboundAttempt[]; total: number }>;
  replayInboundPosts(
    serverId: number,
    routeId: number,
    range: { from: number; to: number; max: number },
    now: number,
  ): Promise<{ ok: true; queued: number } | { ok: false; matching: number }>;

  /**
   * The Marketing API (store/marketing.ts). Every call takes the serverId and reads or
   * changes only that server's lists, contacts and fields: another server's ids are not found.
   */
  listContactLists(serverId: number): Promise<ContactList[]>;
  getContactList(serverId: number, listId: number): Promise<ContactList | undefined>;
  /** null when the server already has a list of that name. */
  createContactList(serverId: number, name: string, now: number): Promise<ContactList | null>;
  renameContactList(serverId: number, listId: number, name: string, now: number): Promise<ContactList | 'duplicate' | undefined>;
  /** The list and its memberships (its contacts stay). */
  deleteContactList(serverId: number, listId: number): Promise<boolean>;
  /** Upserts the contact by email (an existing contact keeps its names) and adds it to the list; undefined: no such list. */
  addContactToListByEmail(serverId: number, listId: number, contact: NewContact, now: number): Promise<{ contact: Contact; added: boolean } | undefined>;
  addContactToList(serverId: number, listId: number, contactId: number, now: number): Promise<{ added: boolean } | 'no-list' | 'no-contact'>;
  /** Removes the address from the list; 'no-list' when there is no such list, false when it was not on it. */
  removeContactFromList(serverId: number, listId: number, email: string): Promise<boolean | 'no-list'>;
  createContact(serverId: number, contact: NewContact, now: number): Promise<Contact | 'exists' | UnknownCustomField>;
  getContact(serverId: number, contactId: number): Promise<Contact | undefined>;
  updateContact(serverId: number, contactId: number, patch: ContactPatch, now: number): Promise<Contact | UnknownCustomField | undefined>;
  /** The contact, its memberships and field values. */
  deleteContact(serverId: number, contactId: number): Promise<boolean>;
  /** Contacts by exact address or address prefix (both lower-cased), oldest first. */
  searchContacts(
    serverId: number,
    q: { email?: string; startsWith?: string },
    page: { limit: number; offset: number },
  ): Promise<{ rows: Contact[]; total: number }>;
  /** Marks the contact unsubscribed (the first time only); undefined when the server has no such contact. */
  unsubscribeContact(serverId: number, email: string, now: number): Promise<Contact | undefined>;
  /** 'duplicate': the name exists in any case; 'limit': the server has `max` fields already. */
  createCustomField(serverId: number, name: string, max: number, now: number): Promise<CustomField | 'duplicate' | 'limit'>;
  listCustomFields(serverId: number): Promise<CustomField[]>;
  /** The field (matched case-insensitively) and every contact's value of it. */
  deleteCustomField(serverId: number, name: string): Promise<boolean>;
  /**
   * One batch of a CSV import in one transaction: contacts upserted by address, added to the list,
   * field values written (undefined names keep the stored ones; an empty field value removes it).
   * Counts are of distinct addresses; 'no-list': no such list; nothing is written when refused.
   */
  importContacts(
    serverId: number,
    listId: number,
    rows: readonly ImportContactRow[],
    now: number,
  ): Promise<{ created: number; updated: number } | 'no-list' | UnknownCustomField>;
  /** Every contact of the server (or of one list), by id, `batchSize` per batch (CSV export). */
  streamContacts(serverId: number, listId: number | undefined, batchSize: number): AsyncGenerator<Contact[]>;

  // Reporting (store/reports.ts): rollups kept by insertEvents.
  /** The summed hourly counters of one dimension value over a range, per metric and bucket key. */
  readReportRollups(q: RollupQuery): Promise<RollupRow[]>;
  /** Recomputes the rollups of one server (or all, null) from the events table, in one transaction. */
  rebuildReportRollups(serverId: number | null): Promise<{ events: number }>;
  /**
   * Recipient search and message detail (store/search.ts; api/v2/reports/). Every call
   * takes the serverId and reads only that server's rows.
   */
  searchRecipients(
    serverId: number,
    query: RecipientSearchQuery,
    page: { limit: number; offset: number },
  ): Promise<{ rows: RecipientSearchRow[]; total: number }>;
  /** Every matching row in order, `batchSize` per batch, by keyset (CSV export). */
  streamRecipientSearch(serverId: number, query: RecipientSearchQuery, batchSize: number): AsyncGenerator<RecipientSearchRow[]>;
  /** The server's recipients among `recipientIds`, their events in order and their messages' templates (while retained). */
  loadRecipientDetail(serverId: number, recipientIds: readonly string[]): Promise<RecipientDetailData>;
  /** A page of the server's events of some types in a time range, oldest first, with their messages and recipients (store/event-reports.ts). */
  searchEvents(serverId: number, query: EventReportQuery, page: { limit: number; offset: number }): Promise<{ rows: EventReportRow[]; total: number }>;
  /** The statements of a retention pass (retention/). */
  retentionQueries(): RetentionQueries;
  /** Makes the space deleted rows left reusable by the file system (SQLite: incremental vacuum); returns pages freed. */
  reclaimSpace(): Promise<number>;
  /** SQLite with background checkpoints only (metrics): how its checkpoint thread is doing; absent or null otherwise. */
  checkpointState?(): CheckpointState | null;
  /**
   * A send to a list (store/list-sends.ts): the message (no recipients yet) and the job row
   * in one transaction; 'no-list' (not this server's) or 'empty' (no subscribed contact) write nothing.
   */
  acceptListSend(serverId: number, listId: number, message: NewMessage): Promise<ListSend | 'no-list' | 'empty'>;
  getListSend(serverId: number, listId: number, sendId: number): Promise<ListSend | undefined>;
  /** Ids of the sends still being expanded, oldest first. */
  expandingListSends(limit: number): Promise<number[]>;
  /** One batch of the send into merge recipients (and their events) in one transaction; undefined: nothing was left or another expander took it. */
  expandListSend(sendId: number, batchSize: number, now: number): Promise<ExpandedBatch | undefined>;
}

/** A contact list of the Marketing API, with how many contacts are on it. */
export interface ContactList {
  id: number;
  serverId: number;
  name: string;
  contactCount: number;
  createdAt: number;
  updatedAt: number;
}
/** A contact of the Marketing API: email lower-cased; customFields by the fields' names as created. */
export interface Contact {
  id: number;
  serverId: number;
  email: string;
  firstName: string | null;
  lastName: string | null;
  unsubscribedAt: number | null;
  createdAt: number;
  updatedAt: number;
  customFields: Record<string, string>;
}
export interface CustomField {
  id: number;
  serverId: number;
  name: string;
  createdAt: number;
}
export interface NewContact {
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  customFields?: Record<string, string>;
}
export interface ContactPatch {
  firstName?: string | null;
  lastName?: string | null;
  customFields?: Record<string, string>;
}
/** A custom field name the server does not have (contact writes name fields that must exist). */
export interface UnknownCustomField {
  unknownField: string;
}
/** A contact row of a CSV import: email lower-cased; an undefined name keeps the stored one. */
export interface ImportContactRow {
  email: string;
  firstName?: string | null;
  lastName?: string | null;
  customFields?: Record<string, string>;
}
export type { ExpandedBatch, ListSend, ListSendState } from './list-sends.js';

/** A claiming worker of one process, as the worker registry (migration 15) keeps it. */
export interface WorkerRegistration {
  id: string;
  kind: 'delivery' | 'webhooks' | 'inbound';
  hostname: string;
  pid: number;
  startedAt: number;
}

export type { StoredTemplate, TemplateContent } from './templates.js';
