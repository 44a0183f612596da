import { randomBytes } from 'node:crypto';
import type { Logger } from '../core/log.js';
import type { MessageTemplate } from '../core/message.js';
import type { Server, Store } from '../store/store.js';
import { buildMergeLookup, type MergeLookup } from '../merge/template.js';
import { resolveLink, rewriteHtml, withMerge, type TrackedHtml } from './rewrite.js';
import type { EngagementHistory, TrackingBackend, TrackingEvent } from './routes.js';
import { TrackingTokens } from './token.js';
import { TrackingUrls, type RecipientUrls } from './urls.js';

/** The settings key of the token secret; created once, shared by every process of the store. */
export const TRACKING_SECRET_SETTING = 'tracking.secret';
const TEMPLATE_CACHE_ENTRIES = 2_000;

/** How one recipient's message is tracked: its HTML renderer, URLs and whether to add List-Unsubscribe. */
export interface RecipientTracking {
  /** Renders the HTML body with tracked links and pixel; null when the message has no HTML or neither opens nor clicks are tracked. */
  renderHtml: ((lookup: MergeLookup) => string) | null;
  /** The List-Unsubscribe URL, when unsubscribes are tracked. */
  unsubscribeUrl: string | null;
}

/**
 * Engagement tracking wired to the store: the token secret, each server's tracking origin (its
 * tracking domain, else Postline's public URL, which must then reach the api role),
 * HTML compiled once per message (and per switch set), and the backend the /t/ routes call.
 */
export class TrackingService {
  private readonly urls = new Map<string, TrackingUrls>();
  private readonly compiled = new Map<string, { tracked: TrackedHtml; render: ReturnType<typeof withMerge> }>();
  private readonly templates = new Map<string, Promise<MessageTemplate | undefined>>();

  private constructor(
    private readonly store: Store,
    readonly tokens: TrackingTokens,
    private readonly defaultOrigin: () => string,
    private readonly log: Logger,
  ) {}

  /** Loads the secret, creating it on first use (the first writer wins; every process then reads the same one). */
  static async open(store: Store, defaultOrigin: () => string, log: Logger): Promise<TrackingService> {
    let secret = await store.settings.get(TRACKING_SECRET_SETTING);
    if (!secret) secret = await store.settings.setIfAbsent(TRACKING_SECRET_SETTING, randomBytes(32).toString('base64url'));
    return new TrackingService(store, new TrackingTokens(Buffer.from(secret, 'base64url')), defaultOrigin, log);
  }

  /** What delivery needs for one recipient; null when the server tracks nothing. */
  forRecipient(server: Server, messageId: string, template: MessageTemplate, recipientId: string): RecipientTracking | null {
    const t = server.tracking;
    if (!t.opens && !t.clicks && !t.unsubscribes) return null;
    const urls = this.urlsFor(server);
    const perRecipient: RecipientUrls = urls.forRecipient(recipientId);
    let renderHtml: RecipientTracking['renderHtml'] = null;
    if (template.htmlBody !== null && (t.opens || t.clicks)) {
      const c = this.compile(messageId, template.htmlBody, urls.host, t.clicks, t.opens);
      renderHtml = (lookup) => c.render(lookup, perRecipient.urlFor, t.opens ? perRecipient.openUrl : null);
    }
    return { renderHtml, unsubscribeUrl: t.unsubscribes ? perRecipient.unsubscribeUrl : null };
  }

  /** The backend of the tracking routes. */
  backend(): TrackingBackend {
    return {
      linkFor: async (recipientId, linkIndex) => {
        const r = await this.store.queue.getRecipient(recipientId);
        if (!r) return null;
        const [template, server] = await Promise.all([this.template(r.messageId), this.store.tenancy.getServer(r.serverId)]);
        if (!template?.htmlBody || !server) return null;
        // Link indexes are those of delivery's compile: same HTML, same tracking host skipped.
        const link = this.compile(r.messageId, template.htmlBody, this.urlsFor(server).host, true, true).tracked.links[linkIndex];
        if (link === undefined) return null;
        return resolveLink(link, buildMergeLookup(r.merge ?? undefined, template.globalMerge));
      },
      history: async (recipientId): Promise<EngagementHistory | null> => {
        const r = await this.store.queue.getRecipient(recipientId);
        if (!r) return null;
        return { deliveredAt: r.status === 'delivered' ? r.updatedAt : null };
      },
      record: async (e) => {
        await this.recordEvent(e);
      },
      // The address goes on the server's suppression list with the event, in one transaction; only
      // a recipient's first unsubscribe does (a replayed POST changes nothing, store/suppressions.ts).
      unsubscribe: async (e) => {
        const done = await this.store.suppressions.suppressRecipient(
          { recipientId: e.recipientId, reason: 'Unsubscribe', detail: 'unsubscribe link', event: { type: 'Tracking', data: trackingData(e) } },
          e.at,
        );
        // No entry: an unknown recipient, or a replay after the operator removed the entry.
        if (!done && !(await this.store.queue.getRecipient(e.recipientId))) {
          this.log.warn({ event: 'tracking.unknown_recipient', recipientId: e.recipientId }, 'unsubscribe for an unknown recipient');
        }
      },
    };
  }

  private async recordEvent(e: TrackingEvent): Promise<void> {
    const r = await this.store.queue.getRecipient(e.recipientId);
    if (!r) {
      this.log.warn({ event: 'tracking.unknown_recipient', recipientId: e.recipientId }, 'tracking event for an unknown recipient');
      return;
    }
    await this.store.events.append([
      { serverId: r.serverId, messageId: r.messageId, recipientId: r.id, type: 'Tracking', occurredAt: e.at, data: trackingData(e) },
    ]);
  }

  private urlsFor(server: Server): TrackingUrls {
    const origin = server.tracking.domain ?? new URL(this.defaultOrigin()).origin;
    let u = this.urls.get(origin);
    if (!u) this.urls.set(origin, (u = new TrackingUrls(origin, this.tokens)));
    return u;
  }

  private compile(messageId: string, html: string, host: string | null, clicks: boolean, opens: boolean) {
    const key = `${messageId}|${clicks ? 'c' : ''}${opens ? 'o' : ''}|${host ?? ''}`;
    let c = this.compiled.get(key);
    if (!c) {
      const tracked = rewriteHtml(html, { clicks, openPixel: opens, trackingHosts: host ? [host] : [] });
      c = { tracked, render: withMerge(tracked) };
      this.compiled.set(key, c);
      if (this.compiled.size > TEMPLATE_CACHE_ENTRIES) this.compiled.delete(this.compiled.keys().next().value!);
    }
    return c;
  }

  private template(messageId: string): Promise<MessageTemplate | undefined> {
    let t = this.templates.get(messageId);
    if (!t) {
      t = this.store.queue.getMessageTemplate(messageId);
      this.templates.set(messageId, t);
      t.catch(() => this.templates.delete(messageId));
      if (this.templates.size > TEMPLATE_CACHE_ENTRIES) this.templates.delete(this.templates.keys().next().value!);
    }
    return t;
  }
}

/** A Tracking event's data: SocketLabs' fields (PascalCase, as webhooks send them) plus whether a machine did it. */
function trackingData(e: TrackingEvent): Record<string, unknown> {
  return {
    TrackingType: e.trackingType,
    UserAgent: e.userAgent ?? '',
    ClientIp: e.clientIp ?? '',
    ...(e.url !== null ? { Url: e.url } : {}),
    ...(e.linkIndex !== null ? { LinkIndex: e.linkIndex } : {}),
    Machine: e.machine,
    ...(e.reason ? { MachineReason: e.reason } : {}),
  };
}
