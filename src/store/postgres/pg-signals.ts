import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { Logger } from '../../core/log.js';

/** What another process may have just made work for: accepted recipients, webhook events, stored inbound mail. */
export type WorkChannel = 'queue' | 'events' | 'inbound';

const CHANNELS: Record<WorkChannel, string> = { queue: 'postline_queue', events: 'postline_events', inbound: 'postline_inbound' };
const RECONNECT_MS = 1_000;

/**
 * Wake-ups between the Postline processes that share one PostgreSQL (LISTEN/NOTIFY): a process
 * that commits work says so, and the others' idle loops look at once instead of at their next
 * poll. Only a latency shortcut, like the in-process wake: the rows are what count, and polling
 * still finds them when a notification is lost (a reconnect, a restart).
 *
 * One dedicated connection listens and notifies. A notification carries this process's token, so
 * its own are ignored (its roles were woken in memory already). Notifies are coalesced per
 * channel: one in flight at a time, and at most one more queued behind it, so a burst of commits
 * costs a few statements, not one each.
 */
export class PgSignals {
  private client: pg.Client | null = null;
  private readonly token = randomBytes(8).toString('hex');
  private readonly handlers = new Map<WorkChannel, (() => void)[]>();
  private readonly inFlight = new Map<WorkChannel, 'sending' | 'again'>();
  private closed = false;
  private reconnectTimer: NodeJS.Timeout | null = null;
  /** Notifications from other processes received (tests and metrics read it). */
  received = 0;

  private constructor(
    private readonly url: string,
    private readonly log: Logger,
  ) {}

  /** Connects and listens; a failure to connect is logged and retried (polling covers the gap). */
  static async start(url: string, log: Logger): Promise<PgSignals> {
    const s = new PgSignals(url, log);
    await s.connect();
    return s;
  }

  on(channel: WorkChannel, handler: () => void): void {
    this.handlers.set(channel, [...(this.handlers.get(channel) ?? []), handler]);
  }

  /** Tells the other processes; never throws, never waits. */
  notify(channel: WorkChannel): void {
    const state = this.inFlight.get(channel);
    if (state) {
      this.inFlight.set(channel, 'again');
      return;
    }
    this.inFlight.set(channel, 'sending');
    void this.send(channel);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    const c = this.client;
    this.client = null;
    await c?.end().catch(() => undefined);
  }

  private async send(channel: WorkChannel): Promise<void> {
    try {
      if (this.client) await this.client.query('SELECT pg_notify($1, $2)', [CHANNELS[channel], this.token]);
    } catch (err) {
      this.log.debug({ err, event: 'store.notify_failed', channel }, 'NOTIFY failed; other processes find the work at their next poll');
    }
    const again = this.inFlight.get(channel) === 'again';
    this.inFlight.delete(channel);
    if (again) this.notify(channel);
  }

  private async connect(): Promise<void> {
    if (this.closed) return;
    const client = new pg.Client({ connectionString: this.url });
    client.on('notification', (msg) => {
      if (msg.payload === this.token) return;
      const channel = (Object.keys(CHANNELS) as WorkChannel[]).find((k) => CHANNELS[k] === msg.channel);
      if (!channel) return;
      this.received++;
      for (const h of this.handlers.get(channel) ?? []) h();
    });
    client.on('error', (err) => this.lost(client, err));
    client.on('end', () => this.lost(client, null));
    try {
      await client.connect();
      for (const name of Object.values(CHANNELS)) await client.query(`LISTEN ${name}`);
      if (this.closed) {
        await client.end();
        return;
      }
      this.client = client;
      // Anything committed while we were away was missed: every loop looks once.
      for (const hs of this.handlers.values()) for (const h of hs) h();
    } catch (err) {
      this.lost(client, err as Error);
    }
  }

  private lost(client: pg.Client, err: Error | null): void {
    if (this.client === client) this.client = null;
    client.removeAllListeners('end');
    client.end().catch(() => undefined);
    if (this.closed || this.reconnectTimer) return;
    this.log.warn({ err, event: 'store.listen_lost' }, 'the LISTEN connection to PostgreSQL was lost; reconnecting (work is still found by polling)');
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      void this.connect();
    }, RECONNECT_MS);
    this.reconnectTimer.unref();
  }
}
