/**
 * ReplyText: the reply without its quoted history or signature, by email-reply-parser's rules.
 *
 * The library reverses strings one character at a time with `+=` and reverses each line again for
 * every one of its quote-header patterns: 0.34 ms of CPU for bench/inbound.js's 40-line text, a
 * tenth of the parser thread's time per message. Its parser is used here through a subclass that
 * reverses natively and once per line; the rules and patterns are the library's own, and
 * test/inbound/reply-text.test.ts checks the answers equal the library's on many texts.
 */
import { importPackageFile } from '../../core/package-internals.js';

interface ParsedEmail { getVisibleText(): string }
interface EmailParserLike {
  parse(text: string): ParsedEmail;
  getQuoteHeadersRegex(): RegExp[];
}
type EmailParserClass = new () => EmailParserLike;

/** Reply parsing is regex work over the whole text: a bounded prefix holds any real reply. */
const REPLY_SCAN_LIMIT = 256 * 1024;

// The package exports only its entry point; its parser class sits beside it.
const EmailParser = await importPackageFile<EmailParserClass>('email-reply-parser', 'dist/parser/emailparser.js');

class FastEmailParser extends EmailParser {
  /** UTF-16 code units in reverse order, as the library's loop produces them. */
  stringReverse(text: string): string {
    return text.length < 2 ? text : text.split('').reverse().join('');
  }

  /** The line reversed once, then every pattern tried in order, as the library does. */
  isQuoteHeader(line: string): boolean {
    const reversed = this.stringReverse(line);
    let found = false;
    for (const regex of this.getQuoteHeadersRegex()) {
      if (regex.test(reversed)) found = true;
    }
    return found;
  }
}

export function replyText(text: string | null): string | null {
  if (text === null) return null;
  try {
    return new FastEmailParser().parse(text.length > REPLY_SCAN_LIMIT ? text.slice(0, REPLY_SCAN_LIMIT) : text).getVisibleText().trimEnd();
  } catch {
    return null;
  }
}
