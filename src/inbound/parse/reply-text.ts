/**
 * ReplyText: the reply without its quoted history or signature, by email-reply-parser's rules
 * (its parser, with the fast path of src/patches/email-reply-parser.ts unless patches are off).
 */
import { createReplyParser } from '../../patches/email-reply-parser.js';

/** Reply parsing is regex work over the whole text: a bounded prefix holds any real reply. */
const REPLY_SCAN_LIMIT = 256 * 1024;

export function replyText(text: string | null): string | null {
  if (text === null) return null;
  try {
    return createReplyParser()
      .parse(text.length > REPLY_SCAN_LIMIT ? text.slice(0, REPLY_SCAN_LIMIT) : text)
      .getVisibleText()
      .trimEnd();
  } catch {
    return null;
  }
}
