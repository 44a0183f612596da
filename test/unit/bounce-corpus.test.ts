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

describe('bounce corpus (Sisimai public set, expected results from Sisimai)', () => {
  it('covers the MTA families of the corpus, with non-bounces among them', () => {
    const families = new Set(entries.map((e) => e.family));
    expect(families.size).toBeGreaterThanOrEqual(70);
    expect(entries.filter((e) => e.kind === 'bounce').length).toBeGreaterThan(580);
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
});
