/**
 * ReplyText: the reply without its quoted history or signature, by email-reply-parser's rules.
 *
 * The library reverses strings one character at a time with `+=` and reverses each line again for
 * every one of its quote-header patterns: 0.34 ms of CPU for bench/inbound.js's 40-line text, a
 * tenth of the parser thread's time per message. Its parser is used here through a subclass that
 * reverses each line once; the rules and patterns are the library's own, and
 * test/inbound/parser-fast-paths.test.ts checks the answers equal the library's on many texts.
 *
 * The library also tries its 25 signature patterns one by one on every line, twice (as the line
 * and again as the fragment's last line), and its 31 quote-header patterns one by one: about
 * 3,600 regex runs for that 40-line text. Here each list is tried as one alternation per flag set
 * (a list matches a line exactly when one of its patterns does), and the answer for the line just
 * tested is kept for the next call. With the faster reversal below, that text went from 0.12 to
 * 0.044 ms of CPU (2026-12-05, alone on one thread, after a warm-up).
 */
import { importPackageFile } from '../../core/package-internals.js';

interface ParsedEmail { getVisibleText(): string }
interface EmailParserLike {
  parse(text: string): ParsedEmail;
  getQuoteHeadersRegex(): RegExp[];
  isSignature(line: string): boolean;
}
type EmailParserClass = new () => EmailParserLike;
interface RegexListLike { quoteHeadersRegex: unknown[]; signatureRegex: unknown[] }

/** Reply parsing is regex work over the whole text: a bounded prefix holds any real reply. */
const REPLY_SCAN_LIMIT = 256 * 1024;

// The package exports only its entry point; its parser class sits beside it.
const EmailParser = await importPackageFile<EmailParserClass>('email-reply-parser', 'dist/parser/emailparser.js');
const RegexList = await importPackageFile<RegexListLike>('email-reply-parser', 'dist/regex.js');

/**
 * A test that is true exactly when one of `patterns` matches: the patterns of each flag set joined
 * as one alternation, so the engine makes one pass where the list made one per pattern. Joining
 * keeps each pattern's meaning only for plain RegExps without backreferences (their numbers would
 * shift) and without g or y (test() would move lastIndex); anything else, such as the RE2 objects
 * the library builds when that package is installed, returns null and the library's own loop is kept.
 */
export function anyPatternTest(patterns: readonly unknown[]): ((text: string) => boolean) | null {
  const byFlags = new Map<string, string[]>();
  for (const p of patterns) {
    if (!(p instanceof RegExp) || /[gy]/.test(p.flags) || /\\(?:[1-9]|k<)/.test(p.source)) return null;
    byFlags.set(p.flags, [...(byFlags.get(p.flags) ?? []), `(?:${p.source})`]);
  }
  const joined = [...byFlags].map(([flags, sources]) => new RegExp(sources.join('|'), flags));
  return (text) => joined.some((r) => r.test(text));
}

const isSignatureText = anyPatternTest(RegexList.signatureRegex);
const isQuoteHeaderText = anyPatternTest(RegexList.quoteHeadersRegex);

/** Code units of a line being reversed: one per thread, reused (stringReverse does not yield). */
const reverseScratch = new Uint16Array(256);

class FastEmailParser extends EmailParser {
  /** The line isSignature() was last asked about, and its answer: the library asks twice in a row. */
  private signatureLine: string | null = null;
  private signatureAnswer = false;

  /**
   * UTF-16 code units in reverse order, as the library's loop produces them (a surrogate pair comes
   * out swapped, as there). Lines go through a scratch array of code units; longer texts through a
   * buffer reversed natively: both about a third of split('').reverse().join('').
   */
  stringReverse(text: string): string {
    const n = text.length;
    if (n < 2) return text;
    if (n > reverseScratch.length) return Buffer.from(text, 'utf16le').reverse().swap16().toString('utf16le');
    for (let i = 0; i < n; i++) reverseScratch[i] = text.charCodeAt(n - 1 - i);
    return String.fromCharCode.apply(null, reverseScratch.subarray(0, n) as unknown as number[]);
  }

  /** Whether the reversed line matches a signature pattern. */
  override isSignature(line: string): boolean {
    if (isSignatureText === null) return super.isSignature(line);
    if (line !== this.signatureLine) {
      this.signatureLine = line;
      this.signatureAnswer = isSignatureText(this.stringReverse(line));
    }
    return this.signatureAnswer;
  }

  /** Whether the reversed line matches a quote-header pattern. */
  isQuoteHeader(line: string): boolean {
    const reversed = this.stringReverse(line);
    if (isQuoteHeaderText !== null) return isQuoteHeaderText(reversed);
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
