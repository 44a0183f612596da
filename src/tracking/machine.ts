import { BlockList, isIPv4, isIPv6 } from 'node:net';

/**
 * Machine engagement: opens and clicks made by software rather than a person reading the mail.
 * Such events are still recorded, flagged `machine: true` with a stable reason code, so reports
 * can count human opens and clicks and a sender can still see that a gateway scanned the mail.
 *
 * Decided here:
 * - Apple Mail Privacy Protection is machine: Apple's proxy fetches every image when the message
 *   arrives, whether or not anyone reads it (and a later real read is served from its cache).
 * - Gmail's (GoogleImageProxy), Yahoo's (YahooMailProxy) and Outlook's image loads are human:
 *   those proxies fetch when the recipient displays the message; they only hide the reader's IP.
 * - Security gateways that follow every link (and often load images) are machine, known by user
 *   agent where they name themselves, by their published network ranges where they do not, and
 *   otherwise by behaviour: a click within seconds of delivery, or several links in one second.
 * - Unsubscribes are never flagged: RFC 8058 one-click POSTs come from mailbox providers' servers
 *   by design, and a POST is an explicit request either way.
 */

export type EngagementKind = 'open' | 'click' | 'unsubscribe';

export interface RecentClick {
  linkIndex: number;
  at: number;
}

export interface EngagementRequest {
  kind: EngagementKind;
  /** HTTP method; a HEAD never comes from a person following a link. */
  method: string;
  userAgent: string | null;
  clientIp: string | null;
  /** When this request arrived (epoch ms). */
  at: number;
  /** When the recipient's server accepted the message (epoch ms); null or absent when unknown. */
  deliveredAt?: number | null;
  /** The clicked link, for clicks. */
  linkIndex?: number | null;
  /** Other clicks on the same recipient's message, for the burst rule; any order. */
  recentClicks?: readonly RecentClick[];
}

export interface MachineVerdict {
  machine: boolean;
  reason?: string;
}

/** A click sooner than this after delivery is software: no one opens, reads and clicks in 2 s. */
export const MIN_HUMAN_CLICK_DELAY_MS = 2_000;
/** Clicks on BURST_MIN_LINKS different links of one message within this window are a scanner
 *  walking the links: a person's click leaves the mail client for a browser. */
export const BURST_WINDOW_MS = 1_000;
export const BURST_MIN_LINKS = 2;

/**
 * One rule. It matches when every condition it has holds; the first matching rule gives the
 * reason. Reasons are stable codes (they reach events and reports): change one, break a report.
 */
export interface MachineRule {
  reason: string;
  kinds: readonly ('open' | 'click')[];
  /** Tested against the User-Agent header; a request without one never matches. */
  userAgent?: RegExp;
  /** The client IP is in one of these ranges (IPv4 or IPv6 CIDR). */
  cidrs?: readonly string[];
  test?: (e: EngagementRequest) => boolean;
}

export const MACHINE_RULES: readonly MachineRule[] = [
  // Link checkers and scanners probe with HEAD; a browser following a link or loading an image sends GET.
  { reason: 'head-request', kinds: ['open', 'click'], test: (e) => e.method.toUpperCase() === 'HEAD' },
  // Every browser and mail client sends a User-Agent; its absence is a script.
  { reason: 'no-user-agent', kinds: ['open', 'click'], test: (e) => !e.userAgent || e.userAgent.trim() === '' },
  // Apple MPP's prefetch proxy sends exactly "Mozilla/5.0" and nothing more.
  { reason: 'apple-privacy-proxy', kinds: ['open'], userAgent: /^Mozilla\/5\.0$/ },
  // Apple's own network (17.0.0.0/8, all Apple's): MPP prefetches that come from it. MPP also
  // egresses through iCloud Private Relay partners; add Apple's published egress list as a rule
  // (mask-api.icloud.com/egress-ip-ranges.csv) to catch those.
  { reason: 'apple-privacy-proxy', kinds: ['open'], cidrs: ['17.0.0.0/8'] },
  // Nothing a person clicks with says only "Mozilla/5.0"; MPP fetches images, never links.
  { reason: 'bare-user-agent', kinds: ['click'], userAgent: /^Mozilla\/5\.0$/ },
  // HTTP libraries and command-line clients name themselves first: curl/8.4.0, python-requests/2.31,
  // Go-http-client/1.1, Java/17, okhttp/4.12, node (Node's fetch), ...
  {
    reason: 'http-library',
    kinds: ['open', 'click'],
    userAgent:
      /^(?:curl|wget|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|java|apache-httpclient|okhttp|libwww-perl|node-fetch|axios|undici|node|guzzlehttp|ruby|php)\b/i,
  },
  // Headless browsers that say so (Puppeteer's default, PhantomJS): sandboxes detonating links.
  { reason: 'headless-browser', kinds: ['open', 'click'], userAgent: /HeadlessChrome|PhantomJS|SlimerJS/i },
  // Gateways that name themselves in the User-Agent.
  { reason: 'scanner-barracuda', kinds: ['open', 'click'], userAgent: /Barracuda/i },
  { reason: 'scanner-mimecast', kinds: ['open', 'click'], userAgent: /Mimecast/i },
  { reason: 'scanner-proofpoint', kinds: ['open', 'click'], userAgent: /Proofpoint/i },
  { reason: 'scanner-symantec', kinds: ['open', 'click'], userAgent: /Symantec|MessageLabs/i },
  { reason: 'scanner-cisco', kinds: ['open', 'click'], userAgent: /IronPort/i },
  { reason: 'scanner-trendmicro', kinds: ['open', 'click'], userAgent: /Trend ?Micro/i },
  // Office checks a link itself before handing it to the browser ("Microsoft Office Existence
  // Discovery", "ms-office"/"MSOffice" user agents); the person's own request, if any, follows.
  // Clicks only: Outlook desktop loads images with an MSOffice user agent when a person reads.
  {
    reason: 'office-link-check',
    kinds: ['click'],
    userAgent: /Microsoft Office (?:Existence|Protocol) Discovery|\bms-office\b|\bMSOffice\b/i,
  },
  // Link previews: chat apps and Bing unfurl a pasted or forwarded link.
  {
    reason: 'link-preview',
    kinds: ['open', 'click'],
    userAgent:
      /BingPreview|SkypeUriPreview|Slackbot|Twitterbot|facebookexternalhit|LinkedInBot|Discordbot|TelegramBot|WhatsApp\/|redditbot|Pinterestbot|Embedly|vkShare|Iframely/i,
  },
  // Crawlers: named search bots, and the bot convention of a contact URL after "+".
  {
    reason: 'crawler',
    kinds: ['open', 'click'],
    userAgent: /Googlebot|bingbot|YandexBot|Baiduspider|DuckDuckBot|AhrefsBot|SemrushBot|MJ12bot|PetalBot|\+https?:\/\//i,
  },
  // Gateways by network, ranges each vendor registers for its hosted scanning service
  // (Barracuda AS15324, Proofpoint AS26211, Mimecast's regional grids, Symantec.cloud/MessageLabs).
  // Nobody reads mail from a gateway's address, so opens count as well as clicks.
  { reason: 'scanner-barracuda', kinds: ['open', 'click'], cidrs: ['64.235.144.0/20', '209.222.80.0/21'] },
  { reason: 'scanner-proofpoint', kinds: ['open', 'click'], cidrs: ['67.231.144.0/20', '148.163.128.0/19'] },
  {
    reason: 'scanner-mimecast',
    kinds: ['open', 'click'],
    cidrs: ['91.220.42.0/24', '146.101.78.0/24', '195.130.217.0/24', '205.139.110.0/24', '207.211.30.0/24'],
  },
  { reason: 'scanner-symantec', kinds: ['open', 'click'], cidrs: ['216.82.240.0/20', '67.219.240.0/20', '85.158.136.0/21'] },
  // Microsoft 365 / Exchange Online Protection, where Safe Links scans from. Clicks only: Outlook
  // on the web may load images through Microsoft's servers when a person reads.
  {
    reason: 'scanner-microsoft',
    kinds: ['click'],
    cidrs: ['40.92.0.0/15', '40.107.0.0/16', '52.100.0.0/14', '104.47.0.0/17', '2a01:111:f400::/48', '2a01:111:f403::/48'],
  },
  // Scanners that look like browsers still give themselves away by speed...
  {
    reason: 'click-too-soon',
    kinds: ['click'],
    test: (e) => e.deliveredAt != null && e.at - e.deliveredAt < MIN_HUMAN_CLICK_DELAY_MS,
  },
  // ...or by following several links of one message at once.
  { reason: 'click-burst', kinds: ['click'], test: isBurst },
];

function isBurst(e: EngagementRequest): boolean {
  if (!e.recentClicks || e.linkIndex == null) return false;
  const links = new Set<number>([e.linkIndex]);
  for (const c of e.recentClicks) {
    if (Math.abs(e.at - c.at) < BURST_WINDOW_MS) links.add(c.linkIndex);
  }
  return links.size >= BURST_MIN_LINKS;
}

interface CompiledRule {
  rule: MachineRule;
  blocks: BlockList | null;
  forOpen: boolean;
  forClick: boolean;
}

/** Compiles a rule table (ranges into BlockLists) into a classifier; throws on a bad CIDR. */
export function createMachineClassifier(rules: readonly MachineRule[] = MACHINE_RULES): (e: EngagementRequest) => MachineVerdict {
  const compiled: CompiledRule[] = rules.map((rule) => {
    let blocks: BlockList | null = null;
    if (rule.cidrs) {
      blocks = new BlockList();
      for (const cidr of rule.cidrs) {
        const [net, bits] = cidr.split('/');
        const prefix = Number(bits);
        const type = isIPv4(net ?? '') ? 'ipv4' : isIPv6(net ?? '') ? 'ipv6' : null;
        if (!type || !Number.isInteger(prefix) || prefix < 0 || prefix > (type === 'ipv4' ? 32 : 128)) {
          throw new Error(`machine rule ${rule.reason}: bad CIDR ${cidr}`);
        }
        blocks.addSubnet(net!, prefix, type);
      }
    }
    return { rule, blocks, forOpen: rule.kinds.includes('open'), forClick: rule.kinds.includes('click') };
  });
  return (e) => {
    if (e.kind === 'unsubscribe') return { machine: false };
    const ip = e.clientIp ? normalizeIp(e.clientIp) : null;
    for (const { rule, blocks, forOpen, forClick } of compiled) {
      if (!(e.kind === 'open' ? forOpen : forClick)) continue;
      if (rule.userAgent && !(e.userAgent && rule.userAgent.test(e.userAgent))) continue;
      if (blocks && !(ip && blocks.check(ip.address, ip.type))) continue;
      if (rule.test && !rule.test(e)) continue;
      return { machine: true, reason: rule.reason };
    }
    return { machine: false };
  };
}

/** Classifies with the built-in rules. */
export const classifyEngagement = createMachineClassifier(MACHINE_RULES);

/** IPv4-mapped IPv6 (`::ffff:1.2.3.4`, what a dual-stack socket reports) is checked as IPv4. */
function normalizeIp(ip: string): { address: string; type: 'ipv4' | 'ipv6' } | null {
  if (isIPv4(ip)) return { address: ip, type: 'ipv4' };
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(ip);
  if (mapped && isIPv4(mapped[1]!)) return { address: mapped[1]!, type: 'ipv4' };
  const bare = ip.replace(/%.*$/, ''); // zone index
  return isIPv6(bare) ? { address: bare, type: 'ipv6' } : null;
}

/** Longest list of recent clicks kept per recipient, and recipients remembered at once. */
const RECENT_CLICKS_PER_RECIPIENT = 64;
const RECENT_CLICK_RECIPIENTS = 10_000;

/**
 * Clicks seen by this process in the last moments, per recipient: a scanner fires all of a
 * message's links at once, faster than their records reach the store, so the burst rule needs
 * what is in flight here too. Bounded: old recipients are forgotten first.
 */
export class RecentClicks {
  private readonly byRecipient = new Map<string, RecentClick[]>();

  constructor(private readonly maxRecipients = RECENT_CLICK_RECIPIENTS) {}

  /** Notes a click; returns the recipient's other clicks of the last BURST_WINDOW_MS. */
  note(recipientId: string, linkIndex: number, at: number): RecentClick[] {
    const prior = (this.byRecipient.get(recipientId) ?? []).filter((c) => Math.abs(at - c.at) < BURST_WINDOW_MS);
    this.byRecipient.delete(recipientId); // re-inserted last: Map order is the eviction order
    this.byRecipient.set(recipientId, [...prior.slice(-(RECENT_CLICKS_PER_RECIPIENT - 1)), { linkIndex, at }]);
    if (this.byRecipient.size > this.maxRecipients) this.byRecipient.delete(this.byRecipient.keys().next().value!);
    return prior;
  }
}
