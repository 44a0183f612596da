import type { TrackingTokens } from './token.js';

/** Route paths; routes.ts serves them, TrackingUrls builds them. Short: they are in every link. */
export const OPEN_PATH = '/t/o/';
export const CLICK_PATH = '/t/c/';
export const UNSUBSCRIBE_PATH = '/t/u/';

/** What the rewriter's render needs for one recipient, plus the List-Unsubscribe URL. */
export interface RecipientUrls {
  urlFor(linkIndex: number): string;
  openUrl: string;
  unsubscribeUrl: string;
}

/**
 * Builds a recipient's tracking URLs on the tracking origin (`https://track.example.com`).
 * The output is plain ASCII without quotes, `&`, `<` or `%`, so it can go into an HTML attribute
 * and through merge rendering untouched.
 */
export class TrackingUrls {
  /** `https://host[:port]`, no trailing slash. */
  readonly origin: string;
  /** The host name, lower case: links already pointing here are not rewritten again. */
  readonly host: string;

  constructor(
    baseUrl: string,
    private readonly tokens: TrackingTokens,
  ) {
    let u: URL;
    try {
      u = new URL(baseUrl);
    } catch {
      throw new Error(`tracking base URL is not a URL: ${JSON.stringify(baseUrl)}`);
    }
    if (u.protocol !== 'https:' && u.protocol !== 'http:') throw new Error('tracking base URL must be http(s)');
    // Routes are mounted at the root, so a path here would build links nothing answers.
    if (u.username || u.password || u.pathname !== '/' || u.search || u.hash) {
      throw new Error('tracking base URL must be an origin only, like https://track.example.com');
    }
    this.origin = u.origin;
    this.host = u.hostname.toLowerCase();
  }

  open(recipientId: string): string {
    return this.origin + OPEN_PATH + this.tokens.sign({ kind: 'open', recipientId });
  }

  click(recipientId: string, linkIndex: number): string {
    return this.origin + CLICK_PATH + this.tokens.sign({ kind: 'click', recipientId, linkIndex });
  }

  unsubscribe(recipientId: string): string {
    return this.origin + UNSUBSCRIBE_PATH + this.tokens.sign({ kind: 'unsubscribe', recipientId });
  }

  forRecipient(recipientId: string): RecipientUrls {
    return {
      urlFor: (i) => this.click(recipientId, i),
      openUrl: this.open(recipientId),
      unsubscribeUrl: this.unsubscribe(recipientId),
    };
  }
}
