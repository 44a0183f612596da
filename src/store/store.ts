import type { ApiKeyScope } from '../core/api-key.js';
import type { QueueRepository } from './queue.js';
import type { RetentionRepository } from './retention.js';
import type { UsersRepository } from './users.js';
import type { AuditRepository } from './audit.js';
import type { ContactImportRepository } from './contact-imports.js';
import type { RateSlotRepository } from './rate-slots.js';
import type { TlsReportRepository } from './tls-reports.js';
import type { ReportRepository } from './reports.js';
import type { ListSendRepository } from './list-sends.js';
import type { MarketingRepository } from './marketing.js';
import type { InboundRepository } from './inbound.js';
import type { WebhookRepository } from './webhooks.js';
import type { EventRepository } from './events.js';
import type { WorkerRepository } from './workers.js';
import type { SettingsRepository } from './settings.js';
import type { TenancyRepository } from './tenancy.js';
import type { TemplateRepository } from './templates.js';
import type { CustomDomainRepository } from './custom-domains.js';
import type { SendingDomainRepository } from './sending-domains.js';
import type { NewMessage, RecipientStatus, MergeField, KeyValue, RecipientKind } from '../core/message.js';
import type { SuppressionReason } from '../core/suppression.js';
import type { SuppressionRepository } from './suppressions.js';
import type { DkimKeyState, RecordCheck } from '../core/sending-domain-types.js';
import type { CustomDomainKind, RecordCheck as CustomDomainRecordCheck } from '../core/custom-domain.js';

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

/**
 * The one storage interface: a repository per area, each one class for both dialects (SQLite,
 * PostgreSQL), passing the same contract tests on each (test/store/). Every method is its own
 * transaction unless it says otherwise.
 */
export interface Store {
  readonly kind: 'sqlite' | 'postgres';
  migrate(): Promise<void>;
  close(): Promise<void>;

  /** Accounts, servers and API keys: store/tenancy.ts. */
  readonly tenancy: TenancyRepository;
  /** Instance settings and instance-wide DKIM keys: store/settings.ts. */
  readonly settings: SettingsRepository;
  /** Accepted messages, their recipients and their delivery: store/queue.ts. */
  readonly queue: QueueRepository;
  /** The registry of live workers, for takeovers: store/workers.ts. */
  readonly workers: WorkerRepository;
  /** The event log: store/events.ts. */
  readonly events: EventRepository;
  /** Webhook endpoints, their outbox and attempts: store/webhooks.ts. */
  readonly webhooks: WebhookRepository;
  /** Suppression lists, one per server: store/suppressions.ts. */
  readonly suppressions: SuppressionRepository;
  /** Stored templates (ApiTemplate): store/templates.ts. */
  readonly templates: TemplateRepository;
  /** Sending domains of a server and their DKIM keys: store/sending-domains.ts. */
  readonly sendingDomains: SendingDomainRepository;
  /** Custom bounce and tracking domains: store/custom-domains.ts. */
  readonly customDomains: CustomDomainRepository;
  /** Inbound routes, received messages and their posts: store/inbound.ts. */
  readonly inbound: InboundRepository;
  /** Contact lists, contacts and custom fields: store/marketing.ts. */
  readonly marketing: MarketingRepository;
  /** Sends to a contact list, expanded in batches: store/list-sends.ts. */
  readonly listSends: ListSendRepository;
  /** Statistics rollups, recipient search and event lists: store/reports.ts. */
  readonly reports: ReportRepository;
  /** Deleting what is past its retention, and giving the space back: store/retention.ts. */
  readonly retention: RetentionRepository;
  /** The control panel's people and sessions: store/users.ts. */
  readonly users: UsersRepository;
  /** The control panel's audit log: store/audit.ts. */
  readonly audit: AuditRepository;
  /** Contact import jobs of the Marketing API: store/contact-imports.ts. */
  readonly contactImports: ContactImportRepository;
  /** Rate limits shared by the processes of one database: store/rate-slots.ts. */
  readonly rateSlots: RateSlotRepository;
  /** TLS-RPT daily counts and the reports sent from them: store/tls-reports.ts. */
  readonly tlsReports: TlsReportRepository;

  /** SQLite with background checkpoints only (metrics): how its checkpoint thread is doing; absent or null otherwise. */
  checkpointState?(): CheckpointState | null;
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
export type { UserRecord, SessionRecord, NewUser, UserPatch } from './users.js';
export type { AuditEntry, NewAuditEntry } from './audit.js';
