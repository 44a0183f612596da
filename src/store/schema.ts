import type { Generated } from 'kysely';

/** Row types as Kysely sees them; both dialects' migrations create exactly these columns.
 *  Times are epoch milliseconds (BIGINT on PostgreSQL), booleans 0/1, JSON as text. */
export interface AccountsTable {
  id: Generated<number>;
  name: string;
  status: string;
  created_at: number;
}
export interface ServersTable {
  id: Generated<number>;
  account_id: number;
  name: string;
  status: string;
  sandbox: number;
  created_at: number;
  track_opens: Generated<number>;
  track_clicks: Generated<number>;
  track_unsubscribes: Generated<number>;
  tracking_domain: Generated<string | null>;
  require_verified_domain: Generated<number>;
}
/** server_id is null exactly for account keys (scope 'account'); account_id is always set (migration 8). */
export interface ApiKeysTable {
  id: Generated<number>;
  public_id: string;
  secret_hash: string;
  server_id: number | null;
  scope: string;
  name: string;
  created_at: number;
  revoked_at: number | null;
  account_id: number;
}
export interface MessagesTable {
  id: string;
  server_id: number;
  created_at: number;
  source: string;
  is_merge: number;
  from_address: string;
  subject: string;
  size_bytes: number;
  recipient_count: number;
  metadata: string;
  tags: string;
}
export interface MessageBodiesTable {
  message_id: string;
  content: string;
  /** A relayed message's MIME as received (BLOB / bytea); null for Injection API templates. */
  raw_mime: Buffer | null;
}
export interface RecipientsTable {
  id: string;
  message_id: string;
  server_id: number;
  address: string;
  domain: string;
  kind: string;
  merge: string | null;
  mailing_id: string | null;
  custom_message_id: string | null;
  status: string;
  attempts: number;
  next_attempt_at: number;
  locked_by: string | null;
  locked_at: number | null;
  last_reply: string | null;
  created_at: number;
  updated_at: number;
  last_mx: Generated<string | null>;
  failure_code: Generated<number | null>;
  /** Migration 12: the first open / click of the recipient (any, and a person's), set once; what makes unique counts. */
  first_open_at: Generated<number | null>;
  first_human_open_at: Generated<number | null>;
  first_click_at: Generated<number | null>;
  first_human_click_at: Generated<number | null>;
  /** Migration 20: the recipient's first unsubscribe, set once; later ones change nothing. */
  unsubscribed_at: Generated<number | null>;
}
export interface DkimKeysTable {
  id: Generated<number>;
  domain: string;
  selector: string;
  algorithm: string;
  private_key: string;
  public_key: string;
  created_at: number;
  retired_at: number | null;
  /** Migration 9: the owning server (null: an instance-wide key), rotation state (domains/rotation.ts). */
  server_id: Generated<number | null>;
  state: Generated<string>;
  activated_at: Generated<number | null>;
  retire_after: Generated<number | null>;
}
export interface EventsTable {
  id: Generated<number>;
  uid: string;
  server_id: number;
  message_id: string;
  recipient_id: string | null;
  type: string;
  occurred_at: number;
  data: string | null;
}
export interface IdempotencyKeysTable {
  server_id: number;
  key: string;
  request_hash: string;
  response: string;
  created_at: number;
}
export interface SettingsTable {
  key: string;
  value: string;
}
/** One suppressed address of one server; address lower-cased (core/suppression.ts). */
export interface SuppressionsTable {
  server_id: number;
  address: string;
  reason: string;
  detail: string | null;
  created_at: number;
  updated_at: number;
}

/** A receiver of event webhooks; event_types and signing_secrets are JSON lists (webhooks/endpoint.ts). */
export interface WebhookEndpointsTable {
  id: Generated<number>;
  server_id: number;
  url: string;
  event_types: string;
  format: string;
  secret_key: string;
  signing_secrets: string;
  secrets_rotated_at: number | null;
  enabled: number;
  disabled_reason: string | null;
  failing_since: number | null;
  created_at: number;
  updated_at: number;
  validated_at: number | null;
  /** Migration 24: the legacy Notification API's ValidationKey (form endpoints); null for JSON ones. */
  validation_key: string | null;
}
/** The webhook outbox: one event to one endpoint. status pending | failed (retrying) | delivered | gave_up. */
export interface WebhookDeliveriesTable {
  id: Generated<number>;
  endpoint_id: number;
  event_uid: string;
  order_key: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  locked_by: string | null;
  locked_at: number | null;
  created_at: number;
  updated_at: number;
}
export interface WebhookAttemptsTable {
  id: Generated<number>;
  delivery_id: number;
  endpoint_id: number;
  at: number;
  ok: number;
  http_status: number | null;
  duration_ms: number;
  error: string | null;
  response_snippet: string | null;
}

/** A routed domain or address (`match`, lower-cased, unique in the instance); signing_secrets is a JSON list, newest first. */
export interface InboundRoutesTable {
  id: Generated<number>;
  server_id: number;
  match: string;
  kind: string;
  url: string;
  secret_key: string;
  signing_secrets: string;
  secrets_rotated_at: number | null;
  enabled: number;
  created_at: number;
  updated_at: number;
  validated_at: number | null;
}
export interface InboundMessagesTable {
  id: string;
  mail_from: string;
  remote_ip: string;
  helo: string | null;
  size_bytes: number;
  received_at: number;
}
export interface InboundBodiesTable {
  message_id: string;
  seq: number;
  content: Buffer;
  created_at: number;
}
/** The inbound outbox: one message to one routed recipient. status pending | failed (retrying) | delivered | gave_up. */
export interface InboundPostsTable {
  id: Generated<number>;
  message_id: string;
  route_id: number;
  server_id: number;
  rcpt_to: string;
  status: string;
  attempts: number;
  next_attempt_at: number;
  last_status: number | null;
  last_error: string | null;
  locked_by: string | null;
  locked_at: number | null;
  created_at: number;
  updated_at: number;
}
export interface InboundAttemptsTable {
  id: Generated<number>;
  post_id: number;
  route_id: number;
  at: number;
  ok: number;
  http_status: number | null;
  duration_ms: number;
  error: string | null;
  response_snippet: string | null;
}

export interface Database {
  accounts: AccountsTable;
  servers: ServersTable;
  api_keys: ApiKeysTable;
  messages: MessagesTable;
  message_bodies: MessageBodiesTable;
  recipients: RecipientsTable;
  events: EventsTable;
  idempotency_keys: IdempotencyKeysTable;
  settings: SettingsTable;
  dkim_keys: DkimKeysTable;
  suppressions: SuppressionsTable;
  webhook_endpoints: WebhookEndpointsTable;
  webhook_deliveries: WebhookDeliveriesTable;
  webhook_attempts: WebhookAttemptsTable;
  sending_domains: SendingDomainsTable;
  custom_domains: CustomDomainsTable;
  inbound_routes: InboundRoutesTable;
  inbound_messages: InboundMessagesTable;
  inbound_bodies: InboundBodiesTable;
  inbound_posts: InboundPostsTable;
  inbound_attempts: InboundAttemptsTable;

  // The Marketing API (store/marketing.ts).
  contact_lists: ContactListsTable;
  contacts: ContactsTable;
  contact_list_members: ContactListMembersTable;
  custom_fields: CustomFieldsTable;
  contact_field_values: ContactFieldValuesTable;
  list_sends: ListSendsTable;

  // Reporting (store/reports.ts).
  stats_hourly: StatsHourlyTable;

  // The worker registry (store/workers.ts).
  workers: WorkersTable;

  // Stored templates (store/templates.ts).
  templates: TemplatesTable;
  template_versions: TemplateVersionsTable;

  // The control panel's people, sessions and audit log (store/users.ts, store/audit.ts).
  users: UsersTable;
  sessions: SessionsTable;
  audit_log: AuditLogTable;
  contact_imports: ContactImportsTable;
  rate_slots: { key: string; next_slot: number };

  // TLS-RPT counts and report sends (store/tls-reports.ts).
  tls_report_policies: TlsReportPoliciesTable;
  tls_report_results: TlsReportResultsTable;
  tls_report_sends: TlsReportSendsTable;
}

/** Migration 23: a server's stored template; its content is the template_versions row current_version names. */
export interface TemplatesTable {
  id: Generated<number>;
  server_id: number;
  current_version: number;
  created_at: number;
  updated_at: number;
}
/** One saved content of a template: versions count from 1 and are never rewritten. */
export interface TemplateVersionsTable {
  template_id: number;
  version: number;
  name: string;
  subject: string | null;
  html_body: string | null;
  text_body: string | null;
  amp_body: string | null;
  created_at: number;
}

/**
 * Migration 15: one row per live claiming worker (delivery worker, webhook dispatcher, inbound
 * poster) of every process. A claim whose locked_by has no row here, or a row whose heartbeat_at
 * is old, belongs to a dead worker and is taken over at once.
 */
export interface WorkersTable {
  id: string;
  kind: string;
  hostname: string;
  pid: number;
  started_at: number;
  heartbeat_at: number;
}

/**
 * Migration 12: one row of counters (a column per metric: core/report-metrics.ts columnOf) per server,
 * dimension ('' all mail, 'mailing', 'tag', 'meta' (key=value), 'from_domain', 'rcpt_domain'), value
 * and UTC hour, incremented as events are inserted.
 */
export interface StatsHourlyTable {
  server_id: number;
  dim: string;
  dim_value: string;
  hour_start: number;
  queued: Generated<number>;
  delivered: Generated<number>;
  deferred: Generated<number>;
  failed_temporary: Generated<number>;
  failed_permanent: Generated<number>;
  suppressed: Generated<number>;
  failed_code_1xxx: Generated<number>;
  failed_code_2xxx: Generated<number>;
  failed_code_3xxx: Generated<number>;
  failed_code_4xxx: Generated<number>;
  failed_code_5xxx: Generated<number>;
  failed_code_9xxx: Generated<number>;
  failed_code_other: Generated<number>;
  complaints: Generated<number>;
  opens_human: Generated<number>;
  opens_machine: Generated<number>;
  unique_opens: Generated<number>;
  unique_opens_human: Generated<number>;
  clicks_human: Generated<number>;
  clicks_machine: Generated<number>;
  unique_clicks: Generated<number>;
  unique_clicks_human: Generated<number>;
  unsubscribes: Generated<number>;
}

/** A sending domain of one server; check_results is the last verification's per-record results (JSON). */
export interface SendingDomainsTable {
  id: Generated<number>;
  server_id: number;
  domain: string;
  created_at: number;
  updated_at: number;
  verified_at: number | null;
  last_checked_at: number | null;
  check_results: string | null;
}

/**
 * A server's custom bounce or tracking domain (custom-domains/): kind 'bounce' | 'tracking', domain
 * lower-case and unique per kind in the whole instance, at most one is_default per server and kind,
 * https for tracking origins, last_check the JSON list of the last DNS check's record results.
 */
export interface CustomDomainsTable {
  id: Generated<number>;
  server_id: number;
  kind: string;
  domain: string;
  is_default: number;
  https: number;
  created_at: number;
  updated_at: number;
  verified_at: number | null;
  last_checked_at: number | null;
  last_check: string | null;
}

/** Marketing API (api/compat/marketing): a server's contact lists, by a name unique in the server. */
export interface ContactListsTable {
  id: Generated<number>;
  server_id: number;
  name: string;
  created_at: number;
  updated_at: number;
}
/** A server's contact: email lower-cased and unique per server; unsubscribed_at set by POST /contacts/unsubscribe. */
export interface ContactsTable {
  id: Generated<number>;
  server_id: number;
  email: string;
  first_name: string | null;
  last_name: string | null;
  unsubscribed_at: number | null;
  created_at: number;
  updated_at: number;
}
export interface ContactListMembersTable {
  list_id: number;
  contact_id: number;
  added_at: number;
}
/** A server's custom field (string-typed); names are unique per server case-insensitively. */
export interface CustomFieldsTable {
  id: Generated<number>;
  server_id: number;
  name: string;
  created_at: number;
}
export interface ContactFieldValuesTable {
  contact_id: number;
  field_id: number;
  value: string;
}

/**
 * A send to a contact list (marketing/list-send.ts): state 'expanding' until every member added up
 * to accepted_at has been turned into a merge recipient of message_id, then 'done'.
 * last_contact_id is the keyset cursor of the expansion.
 */
export interface ListSendsTable {
  id: Generated<number>;
  server_id: number;
  list_id: number;
  message_id: string;
  state: string;
  accepted_at: number;
  last_contact_id: number;
  contacts_seen: number;
  queued: number;
  skipped_unsubscribed: number;
  skipped_suppressed: number;
  updated_at: number;
  finished_at: number | null;
}

/** A person who signs in to the panel (migration 25); email lower-cased, unique across accounts. */
export interface UsersTable {
  id: Generated<number>;
  account_id: number;
  email: string;
  role: string;
  password_hash: string;
  status: string;
  created_at: number;
  updated_at: number;
  last_sign_in_at: number | null;
}
/** A signed-in browser: id = SHA-256 hex of the cookie token, never the token. */
export interface SessionsTable {
  id: string;
  user_id: number;
  csrf_token: string;
  created_at: number;
  last_seen_at: number;
  expires_at: number;
  ip: string | null;
  user_agent: string | null;
}
/** One thing a person did; detail is JSON text. */
export interface AuditLogTable {
  id: Generated<number>;
  account_id: number;
  user_id: number | null;
  at: number;
  action: string;
  target: string | null;
  detail: string | null;
  ip: string | null;
}

/** Migration 27: a contact import job, its file until it finishes (store/contact-imports.ts). */
export interface ContactImportsTable {
  id: Generated<number>;
  server_id: number;
  list_id: number;
  state: string;
  csv: string | null;
  total_rows: number;
  rows_done: number;
  imported: number;
  updated: number;
  rejected: number;
  rejected_rows: string;
  error: string | null;
  owner: string;
  heartbeat_at: number;
  started_at: number;
  finished_at: number | null;
}

/** Migration 28: a TLS policy seen for a recipient domain on a UTC day (store/tls-reports.ts); policy_key is a digest of type, string and mx hosts. */
export interface TlsReportPoliciesTable {
  id: Generated<number>;
  day: string;
  policy_domain: string;
  policy_key: string;
  policy_type: string;
  policy_string: string;
  mx_host: string;
}
/** Sessions under one policy-day by result and hosts; '' for an absent host or address (it is part of the key). */
export interface TlsReportResultsTable {
  policy_id: number;
  result_type: string;
  receiving_mx_hostname: string;
  receiving_ip: string;
  sending_mta_ip: string;
  detail: string | null;
  session_count: number;
}
/** The report of one (day, policy domain): its claim, state and per-rua outcomes (JSON). */
export interface TlsReportSendsTable {
  day: string;
  policy_domain: string;
  report_id: string;
  state: string;
  attempts: number;
  claimed_by: string | null;
  claimed_until: number | null;
  next_attempt_at: number;
  outcomes: string;
  sent_at: number | null;
  updated_at: number;
}
