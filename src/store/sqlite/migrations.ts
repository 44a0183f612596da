/** SQLite migrations, applied in order at start; never edit one that has shipped, add a new one. */
export const SQLITE_MIGRATIONS: readonly { id: number; name: string; sql: string }[] = [
  {
    id: 1,
    name: 'tenancy, messages, queue, events',
    sql: `
CREATE TABLE accounts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active',
  created_at INTEGER NOT NULL);
CREATE TABLE servers (
  id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER NOT NULL REFERENCES accounts(id),
  name TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'active', sandbox INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL);
-- ServerIds start at 10001, the size SocketLabs users are used to.
INSERT INTO sqlite_sequence (name, seq) VALUES ('servers', 10000);
CREATE TABLE api_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT, public_id TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL,
  server_id INTEGER NOT NULL REFERENCES servers(id), scope TEXT NOT NULL, name TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER);
CREATE INDEX api_keys_server ON api_keys(server_id);
CREATE TABLE messages (
  id TEXT PRIMARY KEY, server_id INTEGER NOT NULL, created_at INTEGER NOT NULL, source TEXT NOT NULL,
  is_merge INTEGER NOT NULL, from_address TEXT NOT NULL, subject TEXT NOT NULL,
  size_bytes INTEGER NOT NULL, recipient_count INTEGER NOT NULL, metadata TEXT NOT NULL, tags TEXT NOT NULL);
CREATE INDEX messages_server_created ON messages(server_id, created_at);
CREATE TABLE message_bodies (message_id TEXT PRIMARY KEY, content TEXT NOT NULL);
CREATE TABLE recipients (
  id TEXT PRIMARY KEY, message_id TEXT NOT NULL, server_id INTEGER NOT NULL, address TEXT NOT NULL,
  domain TEXT NOT NULL, kind TEXT NOT NULL, merge TEXT, mailing_id TEXT, custom_message_id TEXT,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL,
  locked_by TEXT, locked_at INTEGER, last_reply TEXT, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX recipients_message ON recipients(message_id);
CREATE INDEX recipients_due ON recipients(status, next_attempt_at);
CREATE TABLE events (
  id INTEGER PRIMARY KEY AUTOINCREMENT, uid TEXT NOT NULL UNIQUE, server_id INTEGER NOT NULL,
  message_id TEXT NOT NULL, recipient_id TEXT, type TEXT NOT NULL, occurred_at INTEGER NOT NULL, data TEXT);
CREATE INDEX events_message ON events(message_id);
CREATE TABLE idempotency_keys (
  server_id INTEGER NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL, response TEXT NOT NULL,
  created_at INTEGER NOT NULL, PRIMARY KEY (server_id, key));
CREATE TABLE settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`,
  },
  {
    id: 2,
    name: 'delivery: DKIM keys, last MX and failure code per recipient',
    sql: `
CREATE TABLE dkim_keys (
  id INTEGER PRIMARY KEY AUTOINCREMENT, domain TEXT NOT NULL, selector TEXT NOT NULL, algorithm TEXT NOT NULL,
  private_key TEXT NOT NULL, public_key TEXT NOT NULL, created_at INTEGER NOT NULL, retired_at INTEGER,
  UNIQUE (domain, selector));
ALTER TABLE recipients ADD COLUMN last_mx TEXT;
ALTER TABLE recipients ADD COLUMN failure_code INTEGER;
`,
  },
  {
    id: 3,
    name: 'suppression lists',
    sql: `
-- WITHOUT ROWID: the table is its primary-key index; lookups at accept time read nothing else.
CREATE TABLE suppressions (
  server_id INTEGER NOT NULL REFERENCES servers(id), address TEXT NOT NULL, reason TEXT NOT NULL, detail TEXT,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  PRIMARY KEY (server_id, address)) WITHOUT ROWID;
CREATE INDEX suppressions_updated ON suppressions(server_id, updated_at, address);
`,
  },
  {
    id: 4,
    name: 'engagement tracking: per-server switches and tracking domain; events by recipient',
    sql: `
ALTER TABLE servers ADD COLUMN track_opens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN track_clicks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN track_unsubscribes INTEGER NOT NULL DEFAULT 0;
ALTER TABLE servers ADD COLUMN tracking_domain TEXT;
CREATE INDEX events_recipient ON events(recipient_id);
`,
  },
  {
    id: 5,
    name: 'event webhooks: endpoints, the delivery outbox, attempts; events by server and time',
    sql: `
CREATE TABLE webhook_endpoints (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), url TEXT NOT NULL,
  event_types TEXT NOT NULL, format TEXT NOT NULL, secret_key TEXT NOT NULL, signing_secrets TEXT NOT NULL,
  secrets_rotated_at INTEGER, enabled INTEGER NOT NULL, disabled_reason TEXT, failing_since INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, validated_at INTEGER);
-- Every event writer looks up the enabled endpoints of its servers: one index probe per transaction.
CREATE INDEX webhook_endpoints_server ON webhook_endpoints(server_id, enabled);
-- The outbox: one row per (endpoint, event), written in the transaction that writes the event.
CREATE TABLE webhook_deliveries (
  id INTEGER PRIMARY KEY AUTOINCREMENT, endpoint_id INTEGER NOT NULL REFERENCES webhook_endpoints(id) ON DELETE CASCADE,
  event_uid TEXT NOT NULL, order_key TEXT NOT NULL, status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
  next_attempt_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT, locked_by TEXT, locked_at INTEGER,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  UNIQUE (endpoint_id, event_uid));
-- Partial: delivered and given-up rows (nearly all of them, in time) cost the claim nothing.
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status IN ('pending', 'failed');
-- Ordering per recipient (a SocketLabs message): is an earlier undelivered row of this endpoint and
-- recipient waiting? order_key is the event's recipient id (its message id for message-level events).
CREATE INDEX webhook_deliveries_order ON webhook_deliveries(endpoint_id, order_key, id) WHERE status IN ('pending', 'failed');
CREATE TABLE webhook_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, delivery_id INTEGER NOT NULL REFERENCES webhook_deliveries(id) ON DELETE CASCADE,
  endpoint_id INTEGER NOT NULL, at INTEGER NOT NULL, ok INTEGER NOT NULL, http_status INTEGER, duration_ms INTEGER NOT NULL,
  error TEXT, response_snippet TEXT);
CREATE INDEX webhook_attempts_endpoint ON webhook_attempts(endpoint_id, at);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts(delivery_id);
-- Replay selects an endpoint's events by time.
CREATE INDEX events_server_time ON events(server_id, occurred_at);
`,
  },
  {
    id: 6,
    name: 'servers: refuse mail from unverified sending domains (per server)',
    sql: `ALTER TABLE servers ADD COLUMN require_verified_domain INTEGER NOT NULL DEFAULT 0;`,
  },
  {
    id: 7,
    name: 'inbound routing: routes, received messages (raw bytes once), posts per routed recipient, attempts',
    sql: `
-- One row per routed domain or address; \`match\` is lower-cased and unique in the whole instance
-- (the MX listener must know whose mail it is).
CREATE TABLE inbound_routes (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), match TEXT NOT NULL UNIQUE, kind TEXT NOT NULL,
  url TEXT NOT NULL, secret_key TEXT NOT NULL, signing_secrets TEXT NOT NULL, secrets_rotated_at INTEGER, enabled INTEGER NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, validated_at INTEGER);
CREATE INDEX inbound_routes_server ON inbound_routes(server_id, created_at);
-- A received message: its envelope here, its bytes apart (up to 50 MB: out of the rows the poster scans).
CREATE TABLE inbound_messages (
  id TEXT PRIMARY KEY, mail_from TEXT NOT NULL, remote_ip TEXT NOT NULL, helo TEXT, size_bytes INTEGER NOT NULL, received_at INTEGER NOT NULL);
-- A message's bytes in chunks of up to 1 MiB (inbound/body-chunks.ts). A large message's chunks are
-- written in transactions of their own before the message (a 25 MB COMMIT blocked SQLite's event
-- loop for 200 ms), so they carry no foreign key; orphans of a failed accept are swept by age.
CREATE TABLE inbound_bodies (
  message_id TEXT NOT NULL, seq INTEGER NOT NULL, content BLOB NOT NULL, created_at INTEGER NOT NULL,
  PRIMARY KEY (message_id, seq));
-- The inbound outbox: one message to one routed recipient. status pending | failed (retrying) | delivered | gave_up.
CREATE TABLE inbound_posts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, message_id TEXT NOT NULL REFERENCES inbound_messages(id) ON DELETE CASCADE,
  route_id INTEGER NOT NULL REFERENCES inbound_routes(id) ON DELETE CASCADE, server_id INTEGER NOT NULL, rcpt_to TEXT NOT NULL,
  status TEXT NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_status INTEGER, last_error TEXT,
  locked_by TEXT, locked_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX inbound_posts_due ON inbound_posts(next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX inbound_posts_route ON inbound_posts(route_id, created_at);
CREATE INDEX inbound_posts_message ON inbound_posts(message_id);
CREATE TABLE inbound_attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, post_id INTEGER NOT NULL REFERENCES inbound_posts(id) ON DELETE CASCADE, route_id INTEGER NOT NULL,
  at INTEGER NOT NULL, ok INTEGER NOT NULL, http_status INTEGER, duration_ms INTEGER NOT NULL, error TEXT, response_snippet TEXT);
CREATE INDEX inbound_attempts_post ON inbound_attempts(post_id, at);
`,
  },
  {
    id: 8,
    name: 'account keys: api_keys.account_id, server_id null for account-scope keys',
    // SQLite cannot drop NOT NULL in place: the table is rebuilt with the same ids, and the public_id
    // uniqueness. Nothing references api_keys, so dropping the old table breaks no foreign key.
    sql: `
CREATE TABLE api_keys_v8 (
  id INTEGER PRIMARY KEY AUTOINCREMENT, public_id TEXT NOT NULL UNIQUE, secret_hash TEXT NOT NULL,
  server_id INTEGER REFERENCES servers(id), scope TEXT NOT NULL, name TEXT NOT NULL,
  created_at INTEGER NOT NULL, revoked_at INTEGER, account_id INTEGER NOT NULL REFERENCES accounts(id),
  CHECK ((scope = 'account') = (server_id IS NULL)));
INSERT INTO api_keys_v8 (id, public_id, secret_hash, server_id, scope, name, created_at, revoked_at, account_id)
  SELECT k.id, k.public_id, k.secret_hash, k.server_id, k.scope, k.name, k.created_at, k.revoked_at, s.account_id
  FROM api_keys k JOIN servers s ON s.id = k.server_id;
DROP TABLE api_keys;
ALTER TABLE api_keys_v8 RENAME TO api_keys;
CREATE INDEX api_keys_server ON api_keys(server_id);
CREATE INDEX api_keys_account ON api_keys(account_id, server_id);
`,
  },
  {
    id: 9,
    name: 'sending domains per server; DKIM keys per server with rotation states',
    sql: `
CREATE TABLE sending_domains (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), domain TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, verified_at INTEGER, last_checked_at INTEGER,
  check_results TEXT, UNIQUE (server_id, domain));
-- dkim_keys is rebuilt: the old UNIQUE (domain, selector) would stop two servers from sending for
-- one domain with the same (default, monthly) selector. Keys without a server are the
-- instance-wide keys of before; the expression index keeps their selectors unique too.
CREATE TABLE dkim_keys_v9 (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER REFERENCES servers(id), domain TEXT NOT NULL,
  selector TEXT NOT NULL, algorithm TEXT NOT NULL, private_key TEXT NOT NULL, public_key TEXT NOT NULL,
  created_at INTEGER NOT NULL, retired_at INTEGER, state TEXT NOT NULL DEFAULT 'active', activated_at INTEGER,
  retire_after INTEGER);
INSERT INTO dkim_keys_v9 (id, domain, selector, algorithm, private_key, public_key, created_at, retired_at, state, activated_at)
  SELECT id, domain, selector, algorithm, private_key, public_key, created_at, retired_at,
    CASE WHEN retired_at IS NULL THEN 'active' ELSE 'retired' END, created_at FROM dkim_keys;
DROP TABLE dkim_keys;
ALTER TABLE dkim_keys_v9 RENAME TO dkim_keys;
CREATE UNIQUE INDEX dkim_keys_selector ON dkim_keys(COALESCE(server_id, 0), domain, selector);
CREATE INDEX dkim_keys_server_domain ON dkim_keys(server_id, domain);
`,
  },
  {
    id: 10,
    name: 'custom bounce and tracking domains per server',
    sql: `
CREATE TABLE custom_domains (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), kind TEXT NOT NULL, domain TEXT NOT NULL,
  is_default INTEGER NOT NULL DEFAULT 0, https INTEGER NOT NULL DEFAULT 1, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  verified_at INTEGER, last_checked_at INTEGER, last_check TEXT,
  -- A domain can be claimed once per kind in the whole instance: its bounces and clicks name one server.
  UNIQUE (kind, domain));
CREATE INDEX custom_domains_server ON custom_domains(server_id, kind, created_at);
-- At most one default per server and kind.
CREATE UNIQUE INDEX custom_domains_default ON custom_domains(server_id, kind) WHERE is_default = 1;
`,
  },
  {
    id: 11,
    name: 'marketing: contact lists, contacts, list members, custom fields and their values per server',
    sql: `
CREATE TABLE contact_lists (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), name TEXT NOT NULL,
  created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, UNIQUE (server_id, name));
CREATE TABLE contacts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), email TEXT NOT NULL,
  first_name TEXT, last_name TEXT, unsubscribed_at INTEGER, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,
  UNIQUE (server_id, email));
CREATE TABLE contact_list_members (
  list_id INTEGER NOT NULL REFERENCES contact_lists(id) ON DELETE CASCADE,
  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  added_at INTEGER NOT NULL, PRIMARY KEY (list_id, contact_id));
CREATE INDEX contact_list_members_contact ON contact_list_members(contact_id);
CREATE TABLE custom_fields (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), name TEXT NOT NULL,
  created_at INTEGER NOT NULL);
-- Field names are unique per server whatever their case ("Team" and "team" are one field).
CREATE UNIQUE INDEX custom_fields_name ON custom_fields(server_id, lower(name));
CREATE TABLE contact_field_values (
  contact_id INTEGER NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
  field_id INTEGER NOT NULL REFERENCES custom_fields(id) ON DELETE CASCADE,
  value TEXT NOT NULL, PRIMARY KEY (contact_id, field_id));
CREATE INDEX contact_field_values_field ON contact_field_values(field_id);
`,
  },
  {
    id: 12,
    name: 'reporting: hourly statistics rollups, first open and click of each recipient',
    sql: `
-- One row of counters (a column per metric, core/report-metrics.ts) per server, dimension, value and
-- UTC hour, incremented in the transaction that inserts the events (store/reports.ts).
-- dim '' is all mail (dim_value ''); the others are 'mailing', 'tag', 'meta' (dim_value key=value),
-- 'from_domain' and 'rcpt_domain'. A column per metric rather than a row: a statistics query
-- reads 23 times fewer rows (measured in bench/reports.js: see docs/reporting.md).
-- WITHOUT ROWID: the primary key is the table, so a statistics query reads one contiguous range.
CREATE TABLE stats_hourly (
  server_id INTEGER NOT NULL, dim TEXT NOT NULL, dim_value TEXT NOT NULL, hour_start INTEGER NOT NULL,
  queued INTEGER NOT NULL DEFAULT 0, delivered INTEGER NOT NULL DEFAULT 0,
  deferred INTEGER NOT NULL DEFAULT 0, failed_temporary INTEGER NOT NULL DEFAULT 0,
  failed_permanent INTEGER NOT NULL DEFAULT 0, suppressed INTEGER NOT NULL DEFAULT 0,
  failed_code_1xxx INTEGER NOT NULL DEFAULT 0, failed_code_2xxx INTEGER NOT NULL DEFAULT 0,
  failed_code_3xxx INTEGER NOT NULL DEFAULT 0, failed_code_4xxx INTEGER NOT NULL DEFAULT 0,
  failed_code_5xxx INTEGER NOT NULL DEFAULT 0, failed_code_9xxx INTEGER NOT NULL DEFAULT 0,
  failed_code_other INTEGER NOT NULL DEFAULT 0, complaints INTEGER NOT NULL DEFAULT 0,
  opens_human INTEGER NOT NULL DEFAULT 0, opens_machine INTEGER NOT NULL DEFAULT 0,
  unique_opens INTEGER NOT NULL DEFAULT 0, unique_opens_human INTEGER NOT NULL DEFAULT 0,
  clicks_human INTEGER NOT NULL DEFAULT 0, clicks_machine INTEGER NOT NULL DEFAULT 0,
  unique_clicks INTEGER NOT NULL DEFAULT 0, unique_clicks_human INTEGER NOT NULL DEFAULT 0,
  unsubscribes INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (server_id, dim, dim_value, hour_start)) WITHOUT ROWID;
-- Set once, by the first open / click (any, and a person's), so unique counts need no scan.
ALTER TABLE recipients ADD COLUMN first_open_at INTEGER;
ALTER TABLE recipients ADD COLUMN first_human_open_at INTEGER;
ALTER TABLE recipients ADD COLUMN first_click_at INTEGER;
ALTER TABLE recipients ADD COLUMN first_human_click_at INTEGER;
`,
  },
  {
    id: 13,
    name: 'recipient search and message detail: recipients by server and time, address, mailing and custom message id',
    // Measured on 300,000 recipients (docs/reporting.md, "Indexes"): each index serves one search
    // filter or sort that otherwise scans every recipient of the server. Subject, From and status
    // filters have no index of their own: they are read within the time range the other indexes give.
    sql: `
-- The default search (newest first, optionally a queued-time range) and its keyset export; id breaks ties.
CREATE INDEX recipients_server_created ON recipients(server_id, created_at, id);
-- toEmailAddress (compared case-insensitively).
CREATE INDEX recipients_server_address ON recipients(server_id, lower(address), created_at);
-- mailingId and the customer's own MessageId: partial, so the many recipients without one cost no index write.
CREATE INDEX recipients_server_mailing ON recipients(server_id, mailing_id, created_at) WHERE mailing_id IS NOT NULL;
CREATE INDEX recipients_custom_message ON recipients(custom_message_id, server_id) WHERE custom_message_id IS NOT NULL;
`,
  },
  {
    id: 14,
    name: 'marketing: list sends (a send to a list, accepted as one row, expanded into merge recipients in batches)',
    sql: `
-- One send to a contact list. The message (template, no recipients yet) is written with this row in
-- the accept transaction; the expander then turns the list's members into merge recipients,
-- one batch of contacts per transaction, moving last_contact_id in that same transaction, so a
-- crash resumes after the last committed batch without duplicates. Members added after
-- accepted_at are not part of the send.
CREATE TABLE list_sends (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), list_id INTEGER NOT NULL,
  message_id TEXT NOT NULL, state TEXT NOT NULL, accepted_at INTEGER NOT NULL, last_contact_id INTEGER NOT NULL DEFAULT 0,
  contacts_seen INTEGER NOT NULL DEFAULT 0, queued INTEGER NOT NULL DEFAULT 0,
  skipped_unsubscribed INTEGER NOT NULL DEFAULT 0, skipped_suppressed INTEGER NOT NULL DEFAULT 0,
  updated_at INTEGER NOT NULL, finished_at INTEGER);
CREATE INDEX list_sends_server ON list_sends(server_id, list_id, id);
-- The expander's look for work: only unfinished sends are in this index.
CREATE INDEX list_sends_expanding ON list_sends(id) WHERE state = 'expanding';
`,
  },
  {
    id: 15,
    name: "worker registry: live workers and their heartbeats, so a dead worker's claims are taken over in seconds",
    sql: `
-- Each claiming worker (delivery, webhooks, inbound) registers at start, heartbeats every few
-- seconds and deregisters at a graceful stop. A claim whose locked_by is absent from this table or
-- whose heartbeat is old belongs to a dead process: it is claimable at once, not after the claim timeout.
CREATE TABLE workers (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, hostname TEXT NOT NULL, pid INTEGER NOT NULL,
  started_at INTEGER NOT NULL, heartbeat_at INTEGER NOT NULL);
`,
  },
  {
    id: 18,
    name: 'relayed raw MIME as bytes: message_bodies.raw_mime',
    // An 8-bit message in any charset (ISO-8859-1, Shift_JIS, broken bytes) cannot live in JSON text
    // unchanged. Older rows keep their raw MIME in the JSON (it was accepted only as UTF-8) and are
    // read from there, so no row is rewritten.
    sql: `
ALTER TABLE message_bodies ADD COLUMN raw_mime BLOB;
`,
  },
  {
    id: 19,
    name: 'lanes: due outbox rows and inbound posts by endpoint and route',
    sql: `
-- A claim takes a few due rows of each endpoint (each route) in turn, so one endpoint's backlog
-- cannot fill it: each lane's due rows are one range of these indexes.
CREATE INDEX webhook_deliveries_lane ON webhook_deliveries(endpoint_id, next_attempt_at) WHERE status IN ('pending', 'failed');
CREATE INDEX inbound_posts_lane ON inbound_posts(route_id, next_attempt_at) WHERE status IN ('pending', 'failed');
`,
  },
  {
    id: 20,
    name: 'tracking: the first unsubscribe of each recipient',
    sql: `
-- Set once, by the recipient's first unsubscribe (link or one-click POST): a replayed POST finds it
-- set and writes nothing, so one recipient makes one Unsubscribe event, count and webhook.
ALTER TABLE recipients ADD COLUMN unsubscribed_at INTEGER;
`,
  },
  {
    id: 23,
    name: 'stored templates (ApiTemplate): a template per row, each saved content a version',
    sql: `
-- The id is what a message names as ApiTemplate: one number space across servers, so another
-- server's id is simply not found among this server's templates. An update adds a version row and
-- moves current_version; the old versions stay readable. Deleting a template deletes its versions.
CREATE TABLE templates (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id),
  current_version INTEGER NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);
CREATE INDEX templates_server ON templates(server_id, id);
CREATE TABLE template_versions (
  template_id INTEGER NOT NULL REFERENCES templates(id) ON DELETE CASCADE, version INTEGER NOT NULL,
  name TEXT NOT NULL, subject TEXT, html_body TEXT, text_body TEXT, amp_body TEXT, created_at INTEGER NOT NULL,
  PRIMARY KEY (template_id, version));
`,
  },
  {
    id: 24,
    name: 'legacy Notification API: a ValidationKey per form-encoded webhook endpoint',
    sql: `
-- The key a legacy (form) receiver must put in the body of every answer; null for JSON endpoints.
-- Form endpoints stored before this get a random one, shown by the API and the CLI.
ALTER TABLE webhook_endpoints ADD COLUMN validation_key TEXT;
UPDATE webhook_endpoints SET validation_key = upper(hex(randomblob(10))) WHERE format = 'form';
`,
  },
  {
    id: 25,
    name: 'control panel: users, their sessions and the audit log',
    sql: `
-- People who sign in to the panel (docs/panel-auth.md). An email is one person across the
-- installation (sign-in names no account), stored lower-cased. password_hash is
-- scrypt$N$r$p$salt$hash (accept/passwords.ts).
CREATE TABLE users (
  id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER NOT NULL REFERENCES accounts(id),
  email TEXT NOT NULL UNIQUE CHECK (email = lower(email)), role TEXT NOT NULL, password_hash TEXT NOT NULL,
  status TEXT NOT NULL, created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL, last_sign_in_at INTEGER);
CREATE INDEX users_account ON users(account_id, id);
-- A session's id is the SHA-256 (hex) of its cookie token: a copy of this table signs no one in.
CREATE TABLE sessions (
  id TEXT PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL, expires_at INTEGER NOT NULL,
  ip TEXT, user_agent TEXT);
CREATE INDEX sessions_user ON sessions(user_id);
CREATE INDEX sessions_expires ON sessions(expires_at);
-- What people did: sign-ins, user changes and every state-changing request made with a session.
CREATE TABLE audit_log (
  id INTEGER PRIMARY KEY AUTOINCREMENT, account_id INTEGER NOT NULL REFERENCES accounts(id),
  user_id INTEGER REFERENCES users(id) ON DELETE SET NULL, at INTEGER NOT NULL, action TEXT NOT NULL,
  target TEXT, detail TEXT, ip TEXT);
-- The account's log newest first (ids grow with time in one process; at breaks no ties).
CREATE INDEX audit_log_account ON audit_log(account_id, id);
`,
  },
  {
    id: 26,
    name: 'subject search: a trigram index over message subjects',
    sql: `
-- Activity's subject search is a substring in any case: without an index it reads every message
-- of the server. The index holds trigrams only (external content: the subject stays in messages),
-- keyed by the message's rowid, and the triggers keep it in step with messages.
CREATE VIRTUAL TABLE message_subjects USING fts5(subject, content='messages', tokenize='trigram');
INSERT INTO message_subjects(message_subjects) VALUES ('rebuild');
CREATE TRIGGER message_subjects_insert AFTER INSERT ON messages BEGIN
  INSERT INTO message_subjects(rowid, subject) VALUES (new.rowid, new.subject);
END;
CREATE TRIGGER message_subjects_delete AFTER DELETE ON messages BEGIN
  INSERT INTO message_subjects(message_subjects, rowid, subject) VALUES ('delete', old.rowid, old.subject);
END;
CREATE TRIGGER message_subjects_update AFTER UPDATE OF subject ON messages BEGIN
  INSERT INTO message_subjects(message_subjects, rowid, subject) VALUES ('delete', old.rowid, old.subject);
  INSERT INTO message_subjects(rowid, subject) VALUES (new.rowid, new.subject);
END;
`,
  },
  {
    id: 27,
    name: 'contact import jobs',
    sql: `
-- A contact import (the Marketing API's POST /lists/{listId}/imports): stored with its file
-- before the 202, so it survives a restart; owner and heartbeat_at say which process runs it and
-- whether it still does (store/contact-imports.ts). The file is dropped when the job ends.
CREATE TABLE contact_imports (
  id INTEGER PRIMARY KEY AUTOINCREMENT, server_id INTEGER NOT NULL REFERENCES servers(id), list_id INTEGER NOT NULL,
  state TEXT NOT NULL, csv TEXT, total_rows INTEGER NOT NULL, rows_done INTEGER NOT NULL, imported INTEGER NOT NULL,
  updated INTEGER NOT NULL, rejected INTEGER NOT NULL, rejected_rows TEXT NOT NULL, error TEXT, owner TEXT NOT NULL,
  heartbeat_at INTEGER NOT NULL, started_at INTEGER NOT NULL, finished_at INTEGER);
CREATE INDEX contact_imports_running ON contact_imports(state, heartbeat_at);
`,
  },
  {
    id: 28,
    name: 'TLS-RPT counts and report sends',
    sql: `
-- TLS-RPT (RFC 8460): outbound sessions to domains with a TLS policy, counted per UTC day, and the
-- daily report of each (day, policy domain) (store/tls-reports.ts). A policy is keyed by a digest
-- of its type, policy-string and mx hosts (an MTA-STS policy may be long); in a result's key ''
-- stands for an absent host or address, since NULLs are never equal in a key.
CREATE TABLE tls_report_policies (
  id INTEGER PRIMARY KEY AUTOINCREMENT, day TEXT NOT NULL, policy_domain TEXT NOT NULL, policy_key TEXT NOT NULL,
  policy_type TEXT NOT NULL, policy_string TEXT NOT NULL, mx_host TEXT NOT NULL,
  UNIQUE (day, policy_domain, policy_key));
CREATE TABLE tls_report_results (
  policy_id INTEGER NOT NULL REFERENCES tls_report_policies(id), result_type TEXT NOT NULL,
  receiving_mx_hostname TEXT NOT NULL, receiving_ip TEXT NOT NULL, sending_mta_ip TEXT NOT NULL, detail TEXT,
  session_count INTEGER NOT NULL,
  PRIMARY KEY (policy_id, result_type, receiving_mx_hostname, receiving_ip, sending_mta_ip));
-- The report of a (day, policy domain): claimed by one process at a time (claimed_by until
-- claimed_until), then sent, retried at next_attempt_at, or given up; outcomes is JSON, per rua.
CREATE TABLE tls_report_sends (
  day TEXT NOT NULL, policy_domain TEXT NOT NULL, report_id TEXT NOT NULL, state TEXT NOT NULL,
  attempts INTEGER NOT NULL, claimed_by TEXT, claimed_until INTEGER, next_attempt_at INTEGER NOT NULL,
  outcomes TEXT NOT NULL, sent_at INTEGER, updated_at INTEGER NOT NULL,
  PRIMARY KEY (day, policy_domain));
`,
  },
  {
    id: 29,
    name: 'shared rate slots',
    sql: `
-- Rate limits kept across processes (store/rate-slots.ts): per limit key, the time of its next
-- free slot; a process reserves a few slots at a time with one atomic update.
CREATE TABLE rate_slots (key TEXT PRIMARY KEY, next_slot INTEGER NOT NULL);
`,
  },
];
