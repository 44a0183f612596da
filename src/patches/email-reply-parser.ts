/**
 * email-reply-parser 2.3.7: its parser (dist/parser/emailparser.js, not exported) through a
 * subclass that answers the same, faster. The rules and patterns stay the library's own.
 *
 * Why: the library reverses strings one character at a time with `+=` and reverses each line
 * again for every one of its quote-header patterns, and tries its 25 signature patterns one by one
 * on every line, twice, and its 31 quote-header patterns one by one. For bench/inbound.js's
 * 40-line text that was 0.34 ms of CPU, a tenth of the parser thread's time per message; native
 * reversal brought it to 0.17 ms, and the patterns tried as one alternation per flag set (the
 * answer for the line just tested kept for the next call) to 0.044 ms.
 * test/patches/email-reply-parser.test.ts compares the answers with the library's.
 */
import EmailReplyParser from 'email-reply-parser';
import { importPackageFile } from './package-files.js';
import { patchApplies } from './switch.js';

/** The release the subclass was written against and checked on. */
export const EMAIL_REPLY_PARSER_VERSION = '2.3.7';

export interface ParsedEmail {
  getVisibleText(): string;
}
/** What replyText needs: a parser of one text (a new one per text; the fast one keeps per-text state). */
export interface ReplyParser {
  parse(text: string): ParsedEmail;
}
interface EmailParserLike {
  parse(text: string): ParsedEmail;
  getQuoteHeadersRegex(): RegExp[];
  isSignature(line: string): boolean;
}
type EmailParserClass = new () => EmailParserLike;
interface RegexListLike {
  quoteHeadersRegex: unknown[];
  signatureRegex: unknown[];
}

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

/** Code units of a line being reversed: one per thread, reused (stringReverse does not yield). */
const reverseScratch = new Uint16Array(256);

let loading: Promise<EmailParserClass> | null = null;

/** The subclass, over the library's parser class and pattern lists (files beside its entry point). */
export function loadFastParser(): Promise<EmailParserClass> {
  loading ??= defineFastParser();
  return loading;
}

async function defineFastParser(): Promise<EmailParserClass> {
  const EmailParser = await importPackageFile<EmailParserClass>('email-reply-parser', 'dist/parser/emailparser.js');
  const RegexList = await importPackageFile<RegexListLike>('email-reply-parser', 'dist/regex.js');
  const isSignatureText = anyPatternTest(RegexList.signatureRegex);
  const isQuoteHeaderText = anyPatternTest(RegexList.quoteHeadersRegex);

  return class FastEmailParser extends EmailParser {
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
  };
}

/** The library's own parser, through its public API. */
export function libraryReplyParser(): ReplyParser {
  return { parse: (text) => new EmailReplyParser().read(text) };
}

/** The subclass when the switch and the installed release allow it (decided once per thread). */
const FastParser = patchApplies('email-reply-parser', EMAIL_REPLY_PARSER_VERSION, 'email-reply-parser fast parser') ? await loadFastParser() : null;

/** Whether createReplyParser gives the subclass in this thread. */
export const replyParserPatched = FastParser !== null;

/** A parser for one text: the fast one, or the library's own. */
export function createReplyParser(): ReplyParser {
  return FastParser ? new FastParser() : libraryReplyParser();
}
