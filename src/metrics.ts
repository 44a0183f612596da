import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { CheckpointState, Store } from './store/store.js';
import { RECIPIENT_STATUSES } from './core/message.js';
import type { DeliveryMetrics } from './delivery/worker.js';
import type { MxMetrics } from './mx/mx-server.js';
import type { WebhookMetrics } from './webhooks/dispatcher.js';
import type { InboundPosterMetrics } from './inbound/poster.js';
import type { RetentionMetrics } from './retention/pass.js';
import type { ShapingMetrics } from './delivery/shaping/traffic-shaper.js';

/** Queue depth is counted from the store on scrape, at most this often (a COUNT over the queue is not free). */
const QUEUE_DEPTH_CACHE_MS = 5_000;

export interface Metrics extends DeliveryMetrics, MxMetrics, WebhookMetrics, InboundPosterMetrics, RetentionMetrics, ShapingMetrics {
  registry: Registry;
  accepted(source: 'api' | 'smtp', messages: number, recipients: number): void;
  /** An outbound session under a receiving domain's TLS policy (MTA-STS, DANE), by its RFC 8460 result. */
  tlsSession(policy: 'sts' | 'tlsa' | 'no-policy-found', result: string): void;
}

/** Prometheus metrics of one process, served at /metrics. Names are public API (docs/operations.md). */
export function createMetrics(store: Store): Metrics {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'postline_process_' });
  const acceptedMessages = new Counter({
    name: 'postline_accepted_messages_total',
    help: 'Messages accepted (committed)',
    labelNames: ['source'],
    registers: [registry],
  });
  const acceptedRecipients = new Counter({
    name: 'postline_accepted_recipients_total',
    help: 'Recipients accepted (committed)',
    labelNames: ['source'],
    registers: [registry],
  });
  const deliveries = new Counter({ name: 'postline_deliveries_total', help: 'Delivery attempts by outcome', labelNames: ['outcome'], registers: [registry] });
  const latency = new Histogram({
    name: 'postline_delivery_attempt_seconds',
    help: 'Time of one delivery attempt (DNS, compose, sign, SMTP)',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [registry],
  });
  const inboundReports = new Counter({
    name: 'postline_inbound_reports_total',
    help: 'Messages received by the MX listener, by report kind and what was recorded',
    labelNames: ['kind', 'outcome'],
    registers: [registry],
  });
  const webhookPosts = new Counter({
    name: 'postline_webhook_posts_total',
    help: 'Webhook attempts by what they left the event at: delivered, failed (will retry), gave_up',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const webhookLatency = new Histogram({
    name: 'postline_webhook_post_seconds',
    help: 'Time of one webhook attempt (payload, signature, HTTP POST)',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15],
    registers: [registry],
  });
  const inboundMessages = new Counter({
    name: 'postline_inbound_messages_total',
    help: 'Messages for routed inbound recipients accepted by the MX listener (stored)',
    registers: [registry],
  });
  const inboundRecipients = new Counter({
    name: 'postline_inbound_recipients_total',
    help: 'Routed recipients of accepted inbound messages (one post each)',
    registers: [registry],
  });
  const inboundPosts = new Counter({
    name: 'postline_inbound_posts_total',
    help: 'Inbound post attempts by what they left the post at: delivered, failed (will retry), gave_up',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const inboundLatency = new Histogram({
    name: 'postline_inbound_post_seconds',
    help: 'Time of one inbound post attempt (load, parse, sign, HTTP POST)',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 15, 30],
    registers: [registry],
  });
  const retentionRows = new Counter({
    name: 'postline_retention_deleted_rows_total',
    help: 'Rows deleted by retention passes, by kind (message_bodies, events, ...)',
    labelNames: ['kind'],
    registers: [registry],
  });
  const retentionPasses = new Histogram({
    name: 'postline_retention_pass_seconds',
    help: 'Time of one retention pass',
    buckets: [0.01, 0.1, 1, 10, 60, 300, 1800],
    registers: [registry],
  });
  const retentionPages = new Counter({
    name: 'postline_retention_pages_freed_total',
    help: 'SQLite pages handed back to the file system after retention',
    registers: [registry],
  });
  const retentionLast = new Gauge({
    name: 'postline_retention_last_pass_timestamp_seconds',
    help: 'When the last retention pass finished (Unix time)',
    registers: [registry],
  });
  const shapingSuspended = new Gauge({
    name: 'postline_shaping_suspended',
    help: 'Providers suspended now after asking to slow down, by provider ("default": destinations of no known provider, counted) and sending IP',
    labelNames: ['provider', 'source_ip'],
    registers: [registry],
  });
  const shapingSlowDowns = new Counter({
    name: 'postline_shaping_slowdown_replies_total',
    help: 'Replies that asked Postline to slow down (a slow-down pattern of the shaping file matched), by provider',
    labelNames: ['provider'],
    registers: [registry],
  });
  const tlsSessions = new Counter({
    name: 'postline_tls_policy_sessions_total',
    help: "Outbound SMTP sessions under a receiving domain's TLS policy, by policy (sts: MTA-STS, tlsa: DANE) and RFC 8460 result (success, certificate-not-trusted, starttls-not-supported, ...), and MTA-STS policies that could not be had",
    labelNames: ['policy', 'result'],
    registers: [registry],
  });
  if (store.checkpointState?.()) registerCheckpointMetrics(registry, () => store.checkpointState?.() ?? null);
  let cached: { at: number; counts: Partial<Record<string, number>> } | null = null;
  new Gauge({
    name: 'postline_queue_recipients',
    help: 'Recipients by status (queued, deferred, delivering, ...)',
    labelNames: ['status'],
    registers: [registry],
    async collect() {
      if (!cached || Date.now() - cached.at > QUEUE_DEPTH_CACHE_MS) cached = { at: Date.now(), counts: await store.queue.countRecipientsByStatus() };
      for (const s of RECIPIENT_STATUSES) this.set({ status: s }, cached.counts[s] ?? 0);
    },
  });
  return {
    registry,
    accepted(source, messages, recipients) {
      acceptedMessages.inc({ source }, messages);
      acceptedRecipients.inc({ source }, recipients);
    },
    inboundReport(kind, outcome) {
      inboundReports.inc({ kind, outcome });
    },
    webhookPost(outcome, seconds) {
      webhookPosts.inc({ outcome });
      webhookLatency.observe({ outcome }, seconds);
    },
    inboundAccepted(recipients) {
      inboundMessages.inc();
      inboundRecipients.inc(recipients);
    },
    inboundPost(outcome, seconds) {
      inboundPosts.inc({ outcome });
      inboundLatency.observe({ outcome }, seconds);
    },
    observe(outcome, seconds) {
      deliveries.inc({ outcome });
      latency.observe({ outcome }, seconds);
    },
    retentionRemoved(kind, rows) {
      retentionRows.inc({ kind }, rows);
    },
    shapingSuspended(provider, sourceIp, suspended) {
      shapingSuspended.set({ provider, source_ip: sourceIp }, suspended);
    },
    shapingSlowDown(provider) {
      shapingSlowDowns.inc({ provider });
    },
    tlsSession(policy, result) {
      tlsSessions.inc({ policy, result });
    },
    retentionPass(seconds, pagesFreed) {
      retentionPasses.observe(seconds);
      retentionPages.inc(pagesFreed);
      retentionLast.set(Date.now() / 1000);
    },
  };
}

/**
 * The SQLite checkpoint thread, read on scrape: a WAL that only grows (failing or starved
 * checkpoints) fills the disk without any write failing, so it must be visible before that.
 */
function registerCheckpointMetrics(registry: Registry, state: () => CheckpointState | null): void {
  /** A counter that follows a running total kept elsewhere: each scrape adds what it grew by. */
  const following = (name: string, help: string, total: (s: CheckpointState) => number) => {
    let seen = 0;
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        const s = state();
        if (s && total(s) > seen) {
          this.inc(total(s) - seen);
          seen = total(s);
        }
      },
    });
  };
  following('postline_sqlite_checkpoints_total', 'SQLite WAL checkpoints (on the checkpoint thread) that found frames to copy', (s) => s.checkpoints);
  following(
    'postline_sqlite_checkpoint_errors_total',
    'SQLite WAL checkpoints that failed (the WAL grows until one succeeds; committed data is safe)',
    (s) => s.errors,
  );
  new Gauge({
    name: 'postline_sqlite_wal_frames',
    help: 'Frames (pages) in the SQLite WAL at the last checkpoint that found any',
    registers: [registry],
    collect() {
      this.set(state()?.walFrames ?? 0);
    },
  });
}
