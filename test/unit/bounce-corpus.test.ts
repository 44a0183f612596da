import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseReport } from '../../src/bounce/parse-report.js';
import type { ParsedReport } from '../../src/bounce/types.js';
import { classOf, ratio, scoreCorpus, type ManifestEntry } from '../fixtures/bounces/score.js';

const CORPUS = join(import.meta.dirname, '../fixtures/bounces');
const entries = JSON.parse(readFileSync(join(CORPUS, 'manifest.json'), 'utf8')) as ManifestEntry[];
const reports = new Map<string, ParsedReport>();

/** The goals for the whole corpus (see BENCHMARKS.md, bounce-corpus, for the figures per family). */
const GOALS = { read: 0.95, class: 0.9, status: 0.8 };

beforeAll(async () => {
  for (const entry of entries) reports.set(entry.file, await parseReport(readFileSync(join(CORPUS, entry.file))));
});

const report = (file: string): ParsedReport => reports.get(file)!;

describe('bounce corpus (Sisimai public set and flufl.bounce samples, expected results from each)', () => {
  it('covers the MTA families of the corpus, with non-bounces among them', () => {
    const families = new Set(entries.map((e) => e.family));
    expect(families.size).toBeGreaterThanOrEqual(70);
    expect(entries.filter((e) => e.kind === 'bounce' && !e.file.startsWith('flufl-')).length).toBeGreaterThan(580);
    expect(entries.filter((e) => e.file.startsWith('flufl-')).length).toBe(101);
    expect(entries.filter((e) => e.kind === 'auto-reply').length).toBeGreaterThan(0);
    expect(entries.filter((e) => e.kind === 'feedback').length).toBeGreaterThan(0);
  });

  it('meets the goals: read as bounces for the right recipient, class, exact status', () => {
    const { total } = scoreCorpus(entries, reports);
    expect(ratio(total.read, total.recipients)).toBeGreaterThanOrEqual(GOALS.read);
    expect(ratio(total.classRight, total.recipients)).toBeGreaterThanOrEqual(GOALS.class);
    expect(ratio(total.statusRight, total.statusGiven)).toBeGreaterThanOrEqual(GOALS.status);
    // Complaints, auto-replies, success notices and ordinary mail are not bounces.
    expect(total.notBouncesRight).toBe(total.notBounces);
  });

  /** [address, status, action, permanent, failureCode] per recipient, for one report of each layout. */
  type Row = [string, string | null, string, boolean, number | null];
  const EXACT: Record<string, { kind: string; rows: Row[] }> = {
    // RFC 3464 with a multi-line Gmail reply (a provider's own rejection, through Postfix).
    'rhost-google-02.eml': { kind: 'bounce', rows: [['neko-nyaan@example.org', '5.1.1', 'failed', true, 2001]] },
    // Delivery-status fields inline in a text part (Amazon WorkMail's "Technical report").
    'lhost-amazonworkmail-01.eml': { kind: 'bounce', rows: [['kijitora@example.jp', '5.1.1', 'failed', true, 2001]] },
    // DragonFly: the address in a sentence, the reply after it.
    'lhost-dragonfly-01.eml': { kind: 'bounce', rows: [['pseudo-local-part@google.example.com', '5.7.26', 'failed', true, 1010]] },
    // OpenSMTPD: "address: reply" on one line.
    'lhost-opensmtpd-01.eml': { kind: 'bounce', rows: [['apdugoaidugoaidugoaeiudggadi@gmail.com', '5.1.1', 'failed', true, 2001]] },
    // Office 365 without a delivery-status part: the reply Exchange quotes ('550 5.1.10 ...').
    'lhost-office365-01.eml': { kind: 'bounce', rows: [['kijitora@example.com', '5.1.10', 'failed', true, 2001]] },
    // Gmail's delay warning in plain text.
    'lhost-gmail-06.eml': { kind: 'delay', rows: [['kijitora@example.jp', '4.2.2', 'delayed', false, 3001]] },
    // Exim gave up retrying: an expiry, not a verdict on the address.
    'lhost-exim-08.eml': { kind: 'bounce', rows: [['kijitora@example.org', null, 'failed', false, 4004]] },
    // KDDI (au), no code at all: the wording says a full mailbox.
    'lhost-kddi-01.eml': { kind: 'bounce', rows: [['kijitora@x0000000000000.dion.ne.jp', null, 'failed', false, 3001]] },
    // Zoho's one-line "address Invalid Address, ERROR_CODE :550, ERROR_CODE :5.1.1".
    'lhost-zoho-01.eml': { kind: 'bounce', rows: [['kijitora@example.co.jp', '5.1.1', 'failed', true, 2001]] },
    // RFC 3834 vacation reply, a Postfix success notice (Action "deliverable"), ordinary mail.
    'rfc3834-01.eml': { kind: 'auto-reply', rows: [] },
    'rfc3464-28.eml': { kind: 'other', rows: [] },
    'is-not-bounce-01.eml': { kind: 'other', rows: [] },
  };

  it.each(Object.keys(EXACT))('%s reads exactly', (file) => {
    const r = report(file);
    expect(r.kind).toBe(EXACT[file]!.kind);
    expect(r.recipients.map((x): Row => [x.address, x.status, x.action, x.permanent, x.failureCode])).toEqual(EXACT[file]!.rows);
  });

  it('counts a full mailbox the report failed in the class the report gave, a delayed one as temporary', () => {
    const [full] = report('lhost-kddi-01.eml').recipients;
    expect(classOf(full!)).toBe('permanent');
    const [delayed] = report('lhost-gmail-06.eml').recipients;
    expect(classOf(delayed!)).toBe('temporary');
  });
});
