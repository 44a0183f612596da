/**
 * Non-delivery reports that are not RFC 3464: the text qmail, Yahoo, old Exim, old Exchange and
 * Lotus Domino write for a person. Best effort: find each failed address and the reply that
 * explains it. A message counts only when it both looks like a report (sender, subject, known
 * wording) and has that structure, so a person writing "undeliverable" in a reply is not a bounce.
 * The last layout, for the many wordings no layout knows, takes the addresses the notice names;
 * it runs only for mail a program sent that is not an autoresponder's.
 */
import { parseEnhancedStatus } from './classify.js';
import { autoResponderSignal } from './auto-reply.js';
import { classifyRecipient, leadingReplyCode } from './classify-recipient.js';
import { collapseWhitespace, fieldValue, fieldValues, parseHeaderBlock, withoutAngles } from './fields.js';
import { MAX_DIAGNOSTIC_CHARS, MAX_NAMED_RECIPIENTS, MAX_NOTICE_CHARS, MAX_REPORTED_RECIPIENTS } from './limits.js';
import type { DsnAction, HeaderField, ReportRecipient } from './types.js';

/** Where the quoted original message starts in each server's wording. */
const COPY_SEPARATOR =
  /^[ \t]*-{2,}[ \t]*(?:Below this line is a copy of the message\.?|This is a copy of the message, including all the headers\.|This is a copy of the message's headers\.|Original message|Undelivered message headers?|The header of the original message is following\.|Original message follows\.)[ \t]*-*[ \t]*$|^[ \t]*Original message follows\.[ \t]*$/im;

/** The report senders' local parts; some servers write the bare "MAILER-DAEMON" without a domain. */
const REPORT_SENDER = /^(?:mailer-daemon|postmaster|mail-daemon|maildaemon|mdaemon)(?:@|$)/i;
const REPORT_SUBJECT =
  /^(?!(?:re|fwd?|aw|wg)\s*:)(?:.*\b(?:undeliver(?:able|ed)|delivery (?:status notification|failure|failed|has failed|notification)|failure notice|returned mail|mail delivery failed|non-?delivery|could not be delivered|not delivered)\b|warning: message \S+ delayed)/i;
const REPORT_WORDING =
  /This is the qmail-send program|unable to deliver your message to the following address|could not be delivered to one or more of its\s+recipients|has not yet been delivered to one or more of its\s+recipients|following recipient\(s\) (?:could not|cannot) be reached|was not delivered to:|Delivery to the following recipients? failed|^[ \t]*Could not be delivered to: <|^We had trouble delivering your message\./im;
const DELAY_WORDING =
  /\bhas not yet been delivered\b|\bdelivery (?:has been |is )?delayed\b|\bhas been delayed\b|\bTHIS IS A WARNING MESSAGE ONLY\b|\bWarning--Could not send mail for past\b|^Delayed Mail\b|\(Delay\)$|\bstill (?:being )?(?:retried|trying)\b|\bwill (?:continue to |keep )?(?:try|retry)(?:ing)?\b|\bNo action is required on your part\b|^warning: message \S+ delayed/im;

/**
 * Longest line read as an address line: an address is at most 320 characters (core/address.ts),
 * plus Exchange's " on <date>". Longer lines are skipped before the pattern runs, which would
 * otherwise backtrack quadratically over a hostile line of parentheses.
 */
const MAX_ADDRESS_LINE_CHARS = 512;
/** An address alone on a line: "<a@b>:" (qmail, Yahoo), "  a@b" (Exim), "  a@b on 1/1/2010 10:00 AM" (Exchange). */
const ADDRESS_LINE = /^([ \t]*)<?([^\s<>"@]+@[^\s<>"@]+?)>?(:?)(?:[ \t]+on[ \t].*|[ \t]*\(.*\))?[ \t]*$/;
/** A 4xx/5xx reply code where a reply starts: line start, or after "said:", "]:", Exchange's "returned '" and the like. */
const REPLY_START = /(^|[\s:\]'])([45][0-5]\d)(?=[ -]\S|:[ \t])/;

export interface PlainInput {
  headers: HeaderField[];
  subject: string;
  text: string;
  /** Headers of the original message the report carries, when it does. */
  originalHeaders?: HeaderField[];
}

interface Failure {
  address: string;
  detail: string;
}

/** The failed recipients of a plain-text report; [] when the message is not one. */
export function parsePlainReport(input: PlainInput): ReportRecipient[] {
  const notice = noticeOf(input.text);
  if (!looksLikeReport(input, notice)) return [];
  const action: DsnAction = DELAY_WORDING.test(`${input.subject}\n${notice}`) ? 'delayed' : 'failed';
  const failures = failuresIn(input.headers, notice);
  // The last layout reads any address, so it needs more than a subject: a person's mail titled
  // "Undeliverable lunch plans" names addresses too, and so does an out-of-office reply ("please
  // write to bob@example.com"), which may quote a report's subject ("Automatic reply: ...").
  const machineReport = sentByMachine(input, notice) && autoResponderSignal(input.headers, input.subject) === null;
  const found = failures.length > 0 ? failures : machineReport ? namedFailures(input, notice) : [];
  // A reply of 2xx is a success notice ("250 2.1.5 Ok" of a delivery report), not a failure.
  return found
    .slice(0, MAX_REPORTED_RECIPIENTS)
    .map((f) => recipientOf(f, action, notice))
    .filter((r) => !r.status?.startsWith('2.'));
}

/** Headers of the original message when the report quotes it inline after its separator line. */
export function quotedOriginalHeaders(text: string): HeaderField[] {
  const m = COPY_SEPARATOR.exec(text);
  return m ? parseHeaderBlock(text.slice(m.index + m[0].length)) : [];
}

function noticeOf(text: string): string {
  const m = COPY_SEPARATOR.exec(text);
  return (m ? text.slice(0, m.index) : text).slice(0, MAX_NOTICE_CHARS);
}

/** The first layout that finds anything wins; X-Failed-Recipients is the last resort. */
function failuresIn(headers: HeaderField[], notice: string): Failure[] {
  for (const read of [addressBlocks, lotusFailures]) {
    const failures = read(notice);
    if (failures.length > 0) return failures;
  }
  return headerFailures(headers, notice);
}

/**
 * A report sender (by address, by name, or the null sender "<>" in From or Return-Path), a
 * report's wording, or RFC 3834's mark of a message a program sent.
 */
function sentByMachine(input: PlainInput, notice: string): boolean {
  const from = fieldValue(input.headers, 'From') ?? '';
  const returnPath = fieldValue(input.headers, 'Return-Path');
  const autoSubmitted = fieldValue(input.headers, 'Auto-Submitted');
  return (
    REPORT_SENDER.test(withoutAngles(from)) ||
    REPORT_SENDER_NAME.test(from) ||
    /<\s*>/.test(from) ||
    (returnPath !== null && (/^<?\s*>?$/.test(returnPath.trim()) || REPORT_SENDER.test(withoutAngles(returnPath)))) ||
    REPORT_WORDING.test(notice) ||
    (autoSubmitted !== null && !/^\s*no\b/i.test(autoSubmitted))
  );
}

/** Display names report senders use: "Mail Delivery System", "MAILER-DAEMON <>", "Mailer Daemon". */
const REPORT_SENDER_NAME = /^\s*"?(?:mailer[- ]daemon|mail delivery (?:system|subsystem)|postmaster|mail administrator)\b/i;

function looksLikeReport(input: PlainInput, notice: string): boolean {
  const from = withoutAngles(fieldValue(input.headers, 'From') ?? '');
  return (
    REPORT_SENDER.test(from) || REPORT_SUBJECT.test(input.subject) || fieldValue(input.headers, 'X-Failed-Recipients') !== null || REPORT_WORDING.test(notice)
  );
}

/**
 * qmail and Yahoo: "<a@b>:" then the explanation up to a blank line. Exim and old Exchange: an
 * indented address, then its explanation indented deeper. An address without an explanation
 * (a list of who was written to, say) is not a failure.
 */
function addressBlocks(notice: string): Failure[] {
  const lines = notice.split(/\r?\n/);
  const failures: Failure[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = lines[i]!.length > MAX_ADDRESS_LINE_CHARS ? null : ADDRESS_LINE.exec(lines[i]!);
    if (!m) continue;
    const indent = m[1]!.replace(/\t/g, '        ').length;
    const colonStyle = m[3] === ':';
    const detail: string[] = [];
    let j = i + 1;
    for (; j < lines.length; j++) {
      const line = lines[j]!;
      if (line.trim() === '') break;
      if (!colonStyle && leadingIndent(line) <= indent) break;
      detail.push(line.trim());
    }
    if (detail.length > 0) {
      failures.push({ address: m[2]!, detail: detail.join('\n') });
      i = j - 1;
    }
  }
  return failures;
}

/** Lotus Domino: "was not delivered to:" the addresses, then "because:" the reason. */
function lotusFailures(notice: string): Failure[] {
  // Anchored at the first occurrence only: retrying the lazy match from every repetition of the
  // phrase would scan the notice once per repetition.
  const start = notice.search(/was not delivered to:/i);
  const m = start < 0 ? null : /^was not delivered to:\s*\n([\s\S]*?)\n\s*because:\s*\n\s*(\S[^\n]*(?:\n[ \t]+\S[^\n]*)*)/i.exec(notice.slice(start));
  if (!m) return [];
  const addresses = m[1]!.match(/[^\s<>"@,;]+@[^\s<>"@,;]+/g) ?? [];
  return addresses.map((address) => ({ address, detail: m[2]!.trim() }));
}

/** Last resort: X-Failed-Recipients (Exim, Gmail) and the first SMTP reply in the notice. */
function headerFailures(headers: HeaderField[], notice: string): Failure[] {
  const addresses = fieldValues(headers, 'X-Failed-Recipients')
    .flatMap((v) => v.split(/[,\s]+/))
    .map(withoutAngles)
    .filter((a) => /^[^\s@]+@[^\s@]+$/.test(a));
  const replyLine = notice.split(/\r?\n/).find((line) => REPLY_START.test(line.trim())) ?? '';
  return addresses.map((address) => ({ address, detail: replyLine.trim() }));
}

/**
 * Last layout: the report's wording is its own (hundreds of MTAs and filters each write one), so
 * take the addresses the notice names, without the ones a report names that are not the failed
 * recipient (its own sender and addressee, the original's sender, postmaster), preferring the ones
 * the original message was addressed to; with none named, the original's To. The explanation is
 * the notice's first SMTP reply (recipientOf looks for it).
 */
function namedFailures(input: PlainInput, notice: string): Failure[] {
  const original = input.originalHeaders ?? [];
  const notRecipients = new Set(
    [
      ...addressesIn(fieldValues(input.headers, 'From').join(' ')),
      ...addressesIn(fieldValues(input.headers, 'To').join(' ')),
      ...addressesIn(fieldValues(original, 'From').join(' ')),
      ...addressesIn(fieldValues(original, 'Return-Path').join(' ')),
    ].map((a) => a.toLowerCase()),
  );
  const originalTo = addressesIn(fieldValues(original, 'To').join(' '));
  const named = unique(addressesIn(notice.replace(/\bhttps?:\/\/\S+/gi, ' ').replace(NOT_RECIPIENT_LINES, ''))).filter(
    (a) => !notRecipients.has(a.toLowerCase()) && !REPORT_SENDER.test(a),
  );
  const addressedTo = named.filter((a) => originalTo.some((t) => t.toLowerCase() === a.toLowerCase()));
  const chosen = addressedTo.length > 0 ? addressedTo : named.length > 0 ? named : originalTo.filter((a) => !notRecipients.has(a.toLowerCase()));
  return chosen.slice(0, MAX_NAMED_RECIPIENTS).map((address) => ({ address, detail: lineNaming(notice, address) }));
}

/**
 * Lines of a quoted original that name addresses other than its recipients: its sender, ids and
 * trace fields ("From: Name <a@b>", "Message-ID: <x@host>"), and mbox "From a@b date" lines.
 */
const NOT_RECIPIENT_LINES =
  /^[ \t>]*(?:(?:From|Sender|Reply-To|Return-Path|Message-ID|In-Reply-To|References|Errors-To|Received|DKIM-Signature|X-[\w-]+)[ \t]*:|From[ \t]).*$/gim;

/**
 * An address in running text. It starts only where a token starts (the lookbehind) and each part
 * is bounded (RFC 5321: 64-character local part, 63-character labels), so a hostile 60,000-letter
 * "word" costs one bounded attempt instead of one scan of the rest of it per letter.
 */
const ADDRESS_IN_TEXT =
  /(?<![A-Za-z0-9!#$%&'*+/=?^_`{|}~.-])[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}(?![A-Za-z0-9-])/g;

function addressesIn(text: string): string[] {
  return (text.match(ADDRESS_IN_TEXT) ?? []).map((a) => a.replace(/^[.'`]+|[.'`]+$/g, '')).filter((a) => !AUTHENTICATION_RESULT.test(a));
}

/** "smtp.mailfrom=a@b", "header.from=a@b": Authentication-Results properties, not recipients. */
const AUTHENTICATION_RESULT = /^(?:smtp|header|envelope|policy)\.[a-z]+=/i;

function unique(values: string[]): string[] {
  const seen = new Set<string>();
  return values.filter((v) => {
    const key = v.toLowerCase();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** The line naming the address and the ones after it, up to a blank line. */
function lineNaming(notice: string, address: string): string {
  const lines = notice.split(/\r?\n/);
  const i = lines.findIndex((l) => l.includes(address));
  if (i < 0) return '';
  const end = lines.findIndex((l, j) => j > i && l.trim() === '');
  return lines
    .slice(i, end < 0 ? undefined : end)
    .map((l) => l.trim())
    .join('\n');
}

function recipientOf(failure: Failure, action: DsnAction, notice: string): ReportRecipient {
  // The explanation beside the address, else the first SMTP reply or enhanced status in the notice.
  const own = replyIn(failure.detail);
  const reply = leadingReplyCode(own) !== null || parseEnhancedStatus(own) !== null ? own : (noticeReply(notice) ?? own);
  const diagnosticCode = reply.slice(0, MAX_DIAGNOSTIC_CHARS) || null;
  const statusInText = diagnosticCode === null ? null : parseEnhancedStatus(diagnosticCode);
  const code = leadingReplyCode(diagnosticCode ?? '');
  // Without a code or status the reply is a sentence of the notice; the classifier's rules then
  // read the whole notice ("retry timeout exceeded", "socket error", "mailbox is full").
  // (classifySmtpReply bounds what it reads.)
  const evidence = code === null && statusInText === null ? `${diagnosticCode ?? ''}\n${notice}` : diagnosticCode;
  const verdict = classifyRecipient({ action, status: statusInText, diagnostic: evidence });
  return {
    address: failure.address,
    originalRecipient: null,
    action,
    // A reply with only a basic code gets RFC 3463's "other undefined status" of its class.
    status: statusInText ?? (code === null ? null : `${String(code)[0]}.0.0`),
    diagnosticCode,
    remoteMta: remoteMtaIn(failure.detail),
    ...verdict,
  };
}

/**
 * The SMTP reply in an explanation, from its code to the end of its line, with the continuation
 * lines of a multi-line reply ("550-5.1.1 ..."); the whole explanation when there is no code
 * ("Sorry, no mailbox here by that name. (#5.1.1)").
 */
function replyIn(detail: string): string {
  const lines = detail.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const m = REPLY_START.exec(lines[i]!);
    if (!m) continue;
    const reply = [lines[i]!.slice(m.index + m[1]!.length)];
    for (let j = i + 1; j < lines.length && /^\d{3}[ -]/.test(lines[j]!); j++) reply.push(lines[j]!);
    return collapseWhitespace(reply.join(' '));
  }
  return collapseWhitespace(detail);
}

/** Exim "host mx.example.org [192.0.2.1]", qmail "Giving up on 192.0.2.1.", Exchange "<mx.example.org #5.1.1>". */
function remoteMtaIn(detail: string): string | null {
  const m =
    /\bhost ([A-Za-z0-9.-]+\.[A-Za-z0-9-]+) \[/.exec(detail) ??
    /^Giving up on ([0-9A-Fa-f.:]+?)\.?$/m.exec(detail) ??
    /<([A-Za-z0-9.-]+\.[A-Za-z0-9-]+) #[245]\.\d/.exec(detail);
  return m ? m[1]! : null;
}

/** The first SMTP reply in the notice, else its first line with an enhanced status; null when neither. */
function noticeReply(notice: string): string | null {
  const lines = notice.split(/\r?\n/);
  const withCode = lines.findIndex((l) => l.length <= MAX_ADDRESS_LINE_CHARS && REPLY_START.test(l));
  if (withCode >= 0) return replyIn(lines.slice(withCode).join('\n'));
  const withStatus = lines.find((l) => l.length <= MAX_ADDRESS_LINE_CHARS && /^[45]/.test(parseEnhancedStatus(l) ?? ''));
  return withStatus === undefined ? null : collapseWhitespace(withStatus);
}

function leadingIndent(line: string): number {
  return /^[ \t]*/.exec(line)![0].replace(/\t/g, '        ').length;
}
