import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import EmailReplyParser from 'email-reply-parser';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { replyText } from '../../src/inbound/parse/reply-text.js';
import { anyPatternTest, createReplyParser, libraryReplyParser, loadFastParser, replyParserPatched } from '../../src/patches/email-reply-parser.js';

/**
 * Differential test of src/patches/email-reply-parser.ts: the subclass must give the library's
 * reply for the text part of every message of the fixture corpora and for generated replies.
 */
const FIXTURES = join(import.meta.dirname, '../fixtures');
const corpus = ['bounces', 'reports', 'inbound'].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.eml'))
    .map((f) => readFileSync(join(FIXTURES, dir, f))),
);
const FastEmailParser = await loadFastParser();

/** A seeded generator, so a failure names an input that can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

const LINES = [
  'Thanks, that fixed it.',
  'Sounds good.',
  '',
  '',
  '> quoted line',
  '>> deeper quote',
  '> ',
  'On Mon, 20 May 2024 at 09:00, Ann <ann@example.net> wrote:',
  'Le lun. 20 mai 2024 à 09:00, Ann <ann@example.net> a écrit :',
  'Am 20.05.2024 schrieb Ann <ann@example.net>:',
  '--',
  '-- ',
  'Ann Sender',
  'Sent from my iPhone',
  '________________________________',
  'From: Ann <ann@example.net>',
  'Sent: Monday, May 20, 2024 9:00 AM',
  '   indented text',
  'Grüße 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢',
  '~~~',
  'wrote:',
  'On a line by itself',
  '\t',
  'Best regards,',
  // The library tests signature and quote-header patterns on each line reversed: these lines match them that way.
  ',sdrager tseB',
  'enohPi ym morf tneS',
  ':etorw >ten.elpmaxe@nna< nnA ,00:90 ta 4202 yaM 02 ,noM nO',
  '>ten.elpmaxe@nna< nnA :morF',
  // Longer than the reversal's scratch array, and lone surrogates (reversed code unit by code unit, as the library does).
  `${'long line '.repeat(30)}wrote:`,
  '\ud83d lone high, lone low \udc00',
  ' \ude00\ud83d reversed pair',
];

describe('email-reply-parser patched and as published', () => {
  it('give the same reply for the text of every corpus message and for generated replies', async () => {
    const texts: string[] = [];
    for (const raw of corpus) {
      const email = await PostalMime.parse(raw);
      if (email.text) texts.push(email.text);
    }
    expect(texts.length).toBeGreaterThan(600);
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const n = 1 + Math.floor(r() * 30);
      texts.push(Array.from({ length: n }, () => pick(r, LINES)).join(r() < 0.3 ? '\r\n' : '\n'));
    }
    for (const [i, t] of texts.entries()) {
      const expected = libraryReplyParser().parse(t).getVisibleText();
      expect(new FastEmailParser().parse(t).getVisibleText(), `text ${i}: ${JSON.stringify(t.slice(0, 200))}`).toBe(expected);
      expect(expected).toBe(new EmailReplyParser().parseReply(t));
    }
  });
});

describe('anyPatternTest', () => {
  it('answers as trying each pattern in turn, across flag sets', () => {
    const patterns = [/^\s*-{2,4}$/, /^Cheers,?!?$/im, /(On\s.+\n?wrote:)$/m, /^ab+c/, /écrit\s?:$/u, /x$/i];
    const test = anyPatternTest(patterns)!;
    const r = rng(7);
    const pieces = ['-', '--', ' ', 'CHEERS', 'cheers,!', 'On ', 'Mon', '\n', 'wrote:', 'a', 'b', 'c', 'écrit :', 'X', 'x', 'y'];
    for (let i = 0; i < 2000; i++) {
      const text = Array.from({ length: Math.floor(r() * 6) }, () => pick(r, pieces)).join('');
      expect(test(text), JSON.stringify(text)).toBe(patterns.some((p) => p.test(text)));
    }
  });

  it('declines patterns whose meaning joining would change, and objects that are not RegExps', () => {
    expect(anyPatternTest([/a/, /(b)\1/])).toBeNull();
    expect(anyPatternTest([/(?<n>b)\k<n>/])).toBeNull();
    expect(anyPatternTest([/a/g])).toBeNull();
    expect(anyPatternTest([/a/y])).toBeNull();
    expect(anyPatternTest([{ source: 'a', flags: '', test: () => true }])).toBeNull();
  });
});

describe('ReplyText', () => {
  it('uses the fast parser by default and trims the reply', () => {
    expect(replyParserPatched).toBe(true);
    expect(createReplyParser()).toBeInstanceOf(FastEmailParser);
    expect(replyText('Thanks!\n\nOn Mon, 20 May 2024 at 09:00, Ann <ann@example.net> wrote:\n> hi\n')).toBe('Thanks!');
    expect(replyText(null)).toBeNull();
  });

  it('uses the library as published when POSTLINE_LIBRARY_PATCHES is off', async () => {
    process.env.POSTLINE_LIBRARY_PATCHES = 'off';
    try {
      const { vi } = await import('vitest');
      vi.resetModules();
      const fresh = await import('../../src/patches/email-reply-parser.js');
      expect(fresh.replyParserPatched).toBe(false);
      expect(fresh.createReplyParser()).not.toBeInstanceOf(await fresh.loadFastParser());
    } finally {
      delete process.env.POSTLINE_LIBRARY_PATCHES;
    }
  });
});
