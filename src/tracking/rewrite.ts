import { compileTemplate, render, renderString, type MergeLookup } from '../merge/template.js';
import { decodeAttribute, scan, trimUrl } from './html-scan.js';

/**
 * Click and open tracking for an HTML body, compiled once per message and rendered per recipient.
 *
 * Compiling scans the body once: every trackable link's href value (quotes included) becomes a
 * slot, its original URL goes into `links` (HTML-decoded, %%merge%% fields kept), and a slot for
 * the open pixel goes before the last `</body>` (or at the end). The body is kept as the literal
 * pieces between slots, so rendering is a loop of concatenations.
 *
 * Merge composes piece by piece (see `withMerge`): each piece is merge-compiled once, and per
 * recipient the merged pieces are joined with that recipient's tracking URLs. Merge never sees a
 * tracking URL, and the tracking never re-scans merged text; a link whose href holds merge fields
 * is resolved at click time with the recipient's merge row (`resolveLink`).
 *
 * Left alone: hrefs that are not absolute http(s) (mailto:, tel:, #anchors, relative, %%Url%%
 * as the whole href), links already on the tracking host, links that come from merge values
 * (values are never scanned), and links that opt out with `data-postline-notrack` (or SendGrid's
 * `clicktracking="off"`, so templates moved from SendGrid keep their opt-outs).
 */

/** Links tracked per body; further links stay as written. A body with more is a catalogue, and
 *  every tracked link is stored with the message. Also keeps click tokens at 46 characters or 47. */
export const MAX_TRACKED_LINKS = 1_000;

export interface RewriteOptions {
  /** Host names of the tracking origin: links already pointing there are not wrapped again. */
  trackingHosts?: readonly string[];
  /** Rewrite links for click tracking (default true). */
  clicks?: boolean;
  /** Add the open pixel slot (default true); render with openUrl null also leaves it out. */
  openPixel?: boolean;
}

export type UrlFor = (linkIndex: number) => string;

export interface TrackedHtml {
  readonly source: string;
  /** Original URLs of the tracked links, by link index: HTML-decoded, merge fields kept. */
  readonly links: readonly string[];
  /** Literal HTML between slots: pieces.length === slots.length + 1. */
  readonly pieces: readonly string[];
  /** Slot i sits between pieces i and i+1: a link index, or PIXEL_SLOT. */
  readonly slots: readonly number[];
  /**
   * The body for one recipient. urlFor and openUrl must be safe inside a double-quoted attribute
   * (TrackingUrls' are); openUrl null leaves the pixel out.
   */
  render(urlFor: UrlFor, openUrl: string | null): string;
  /** Like render, with piece i replaced by piece(i): how merge rendering is slotted in. */
  renderWith(urlFor: UrlFor, openUrl: string | null, piece: (i: number) => string): string;
}

export const PIXEL_SLOT = -1;

/** Display none would tell some clients not to fetch it; a 1x1 image without borders is invisible anyway. */
const pixelTag = (url: string): string =>
  `<img src="${url}" width="1" height="1" alt="" border="0" style="display:block;width:1px;height:1px;border:0;margin:0;padding:0">`;

class Tracked implements TrackedHtml {
  constructor(
    readonly source: string,
    readonly links: readonly string[],
    readonly pieces: readonly string[],
    readonly slots: readonly number[],
  ) {}

  render(urlFor: UrlFor, openUrl: string | null): string {
    const { pieces, slots } = this;
    let out = pieces[0]!;
    for (let s = 0; s < slots.length; s++) {
      const k = slots[s]!;
      if (k >= 0) out += '"' + urlFor(k) + '"';
      else if (openUrl !== null) out += pixelTag(openUrl);
      out += pieces[s + 1]!;
    }
    return out;
  }

  renderWith(urlFor: UrlFor, openUrl: string | null, piece: (i: number) => string): string {
    const { slots } = this;
    let out = piece(0);
    for (let s = 0; s < slots.length; s++) {
      const k = slots[s]!;
      if (k >= 0) out += '"' + urlFor(k) + '"';
      else if (openUrl !== null) out += pixelTag(openUrl);
      out += piece(s + 1);
    }
    return out;
  }
}

/** Compiles an HTML body for tracking. Pure; call once per message, render per recipient. */
export function rewriteHtml(html: string, options: RewriteOptions = {}): TrackedHtml {
  const hosts = new Set((options.trackingHosts ?? []).map((h) => h.toLowerCase()));
  const found = scan(html);
  const links: string[] = [];
  const cuts: { start: number; end: number; slot: number }[] = [];
  if (options.clicks !== false) {
    for (const a of found.links) {
      if (links.length >= MAX_TRACKED_LINKS) break;
      if (a.optOut) continue;
      const url = trimUrl(decodeAttribute(html.slice(a.valueStart, a.valueEnd)));
      if (!/^https?:\/\//i.test(url)) continue;
      const host = hostOf(url);
      if (host !== null && hosts.has(host)) continue;
      cuts.push({ start: a.rawStart, end: a.rawEnd, slot: links.length });
      links.push(url);
    }
  }
  if (options.openPixel !== false) {
    const at = found.bodyClose >= 0 ? found.bodyClose : html.length;
    // Links after </body> (browsers move them into the body) are rare; keep slots in source order.
    let i = cuts.length;
    while (i > 0 && cuts[i - 1]!.start >= at) i--;
    cuts.splice(i, 0, { start: at, end: at, slot: PIXEL_SLOT });
  }
  const pieces: string[] = [];
  const slots: number[] = [];
  let last = 0;
  for (const c of cuts) {
    pieces.push(html.slice(last, c.start));
    slots.push(c.slot);
    last = c.end;
  }
  pieces.push(last === 0 ? html : html.slice(last));
  return new Tracked(html, links, pieces, slots);
}

/**
 * Tracking composed with %%merge%%: each literal piece is merge-compiled once here, so a
 * recipient costs one merge render per piece plus the joins. Merge fields inside hrefs are not
 * rendered into the body (the href is the tracking URL); resolveLink renders them at click time.
 */
export function withMerge(tracked: TrackedHtml): (lookup: MergeLookup, urlFor: UrlFor, openUrl: string | null) => string {
  const compiled = tracked.pieces.map((p) => compileTemplate(p));
  return (lookup, urlFor, openUrl) => tracked.renderWith(urlFor, openUrl, (i) => render(compiled[i]!, lookup));
}

/**
 * The destination of a stored link for one recipient: merge fields rendered with the recipient's
 * lookup (values go in as written, as they would into the href), then parsed; null unless the
 * result is an absolute http(s) URL, so a merge value can never turn a link into javascript: or
 * data:. The result is the URL's serialization (spaces and non-ASCII percent-encoded), which is
 * what a browser would have requested and what a Location header may carry.
 */
export function resolveLink(link: string, lookup: MergeLookup | null): string | null {
  return safeRedirectUrl(lookup ? renderString(link, lookup) : link);
}

/** An absolute http(s) URL, serialized; null for anything else. */
export function safeRedirectUrl(url: string): string | null {
  let u: URL;
  try {
    u = new URL(trimUrl(url));
  } catch {
    return null;
  }
  return u.protocol === 'http:' || u.protocol === 'https:' ? u.href : null;
}

/** Lower-case host of an absolute http(s) URL; null when merge fields make it unknowable. */
function hostOf(url: string): string | null {
  const rest = url.slice(url.indexOf('//') + 2);
  let end = rest.length;
  for (const ch of ['/', '?', '#', '\\']) {
    const i = rest.indexOf(ch);
    if (i !== -1 && i < end) end = i;
  }
  let authority = rest.slice(0, end);
  authority = authority.slice(authority.lastIndexOf('@') + 1);
  if (authority.includes('%%')) return null;
  const host = authority.startsWith('[') ? authority.slice(0, authority.indexOf(']') + 1) : authority.split(':')[0]!;
  return host.toLowerCase();
}
