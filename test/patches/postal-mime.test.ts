import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import PostalMime from 'postal-mime';
import { afterAll, describe, expect, it } from 'vitest';
import { installPostalMimePatches, removePostalMimePatches } from '../../src/patches/postal-mime.js';

/**
 * Differential test of src/patches/postal-mime.ts: every message of the fixture corpora (bounces,
 * reports, inbound) and 400 of random shape, parsed by postal-mime as published and with the fast
 * paths, must give the same result (the base64 faults the patched decoder records are extra, not
 * compared here).
 */
/** The library's own line reader, before any patch (this file installs them itself). */
const publishedReadLine = (PostalMime.prototype as unknown as { readLine: unknown }).readLine;

const FIXTURES = join(import.meta.dirname, '../fixtures');
const corpus = ['bounces', 'reports', 'inbound'].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.eml'))
    .map((f) => ({ name: `${dir}/${f}`, raw: readFileSync(join(FIXTURES, dir, f)) })),
);

/** A seeded generator, so a failure names an input that can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const pick = <T>(r: () => number, list: readonly T[]): T => list[Math.floor(r() * list.length)]!;

/** Base64 lines of random bytes, then damaged the ways mail damages them. */
function base64Lines(r: () => number): string[] {
  const bytes = Buffer.from(Array.from({ length: Math.floor(r() * 400) }, () => Math.floor(r() * 256)));
  let text = bytes.toString('base64');
  const damage = Math.floor(r() * 8);
  if (damage === 1) text = text.slice(0, Math.max(0, text.length - 1 - Math.floor(r() * 3))); // cut off
  if (damage === 2) text = text.replace(/=+$/, ''); // padding dropped
  const lines: string[] = [];
  for (let at = 0; at < text.length; at += 76) lines.push(text.slice(at, at + 76));
  if (damage === 3) lines.splice(Math.floor(r() * (lines.length + 1)), 0, pick(r, ['*junk*', '-_-', 'ü', '%%', '.']));
  if (damage === 4) for (let i = 0; i < lines.length; i++) if (r() < 0.3) lines[i] += pick(r, [' ', '\t', '  ']);
  if (damage === 5) for (let i = 0; i < lines.length; i++) if (r() < 0.3 && lines[i]!.length % 4 === 0) lines[i] = lines[i]!.slice(0, -2) + '=='; // padded every line
  if (damage === 6) lines.push('====', 'QUJD', '=');
  if (damage === 7) lines.splice(Math.floor(r() * (lines.length + 1)), 0, '');
  return lines;
}

/** A MIME part's body lines in one of the encodings, with the lines mail puts in bodies that look like boundaries. */
function bodyLines(r: () => number, encoding: string): string[] {
  if (encoding === 'base64') return base64Lines(r);
  const pool = [
    'plain text',
    '',
    '--',
    '-- ',
    '--not-a-boundary',
    '---',
    '- dash',
    'caf\u00e9 =C3=A9 soft=',
    'trailing space ',
    '\tindented',
    'a\rbare CR',
    '.',
    'x'.repeat(200),
  ];
  return Array.from({ length: Math.floor(r() * 12) }, () => pick(r, pool));
}

/** A message of random shape: single part or nested multiparts, mixed line breaks, junk, missing closing lines, no final line feed. */
function randomMessage(r: () => number): Buffer {
  const encodings = ['base64', '7bit', 'quoted-printable', '8bit', 'binary'];
  const leaf = (): string[] => {
    const encoding = pick(r, encodings);
    const type = pick(r, ['text/plain; charset=utf-8', 'text/html', 'application/octet-stream', 'image/png']);
    const disposition = type.startsWith('text') && r() < 0.6 ? [] : [`Content-Disposition: attachment; filename="f${Math.floor(r() * 99)}.bin"`];
    return [`Content-Type: ${type}`, `Content-Transfer-Encoding: ${encoding}`, ...disposition, '', ...bodyLines(r, encoding)];
  };
  const multipart = (depth: number): string[] => {
    const boundary = `b${depth}-${Math.floor(r() * 1e6)}`;
    const out = [
      `Content-Type: multipart/${pick(r, ['mixed', 'alternative', 'related'])}; boundary="${boundary}"`,
      '',
      pick(r, ['', 'This is a multi-part message.']),
    ];
    for (let i = 1 + Math.floor(r() * 3); i > 0; i--)
      out.push(`--${boundary}${pick(r, ['', '', ' ', '\t'])}`, ...(depth < 2 && r() < 0.3 ? multipart(depth + 1) : leaf()));
    if (r() < 0.85) out.push(`--${boundary}--`, ...(r() < 0.3 ? ['epilogue', '--'] : []));
    return out;
  };
  const lines = ['From: a@example.net', 'To: b@customer.example', 'Subject: shape', 'MIME-Version: 1.0', ...(r() < 0.3 ? leaf() : multipart(0))];
  let text = '';
  for (const [i, l] of lines.entries()) text += l + (i === lines.length - 1 && r() < 0.3 ? '' : pick(r, ['\r\n', '\r\n', '\r\n', '\n', '\r\r\n']));
  return Buffer.from(text, 'utf8');
}

const OPTIONS = { attachmentEncoding: 'arraybuffer', rfc822Attachments: true } as const;

/** Everything postal-mime gives for a message, attachments as hex. */
async function parsed(raw: Buffer): Promise<unknown> {
  const email = await new PostalMime(OPTIONS).parse(raw);
  return { ...email, attachments: email.attachments.map((a) => ({ ...a, content: Buffer.from(a.content as ArrayBuffer).toString('hex') })) };
}

afterAll(async () => {
  await installPostalMimePatches();
});

describe('postal-mime patched and as published', () => {
  it('parse the fixture corpora and random messages alike', async () => {
    const messages = [...corpus, ...Array.from({ length: 400 }, (_, i) => ({ name: `random ${i + 1}`, raw: randomMessage(rng(i + 1)) }))];
    expect(corpus.length).toBeGreaterThan(700);
    expect(await installPostalMimePatches()).toBe(true);
    const patched = [];
    for (const m of messages) patched.push(await parsed(m.raw));
    removePostalMimePatches();
    for (const [i, m] of messages.entries()) {
      expect(patched[i], `${m.name}: ${JSON.stringify(m.raw.toString('latin1').slice(0, 200))}`).toEqual(await parsed(m.raw));
    }
  });

  it('POSTLINE_LIBRARY_PATCHES=off leaves the library as published', async () => {
    removePostalMimePatches();
    process.env.POSTLINE_LIBRARY_PATCHES = 'off';
    try {
      expect(await installPostalMimePatches()).toBe(false);
      expect((PostalMime.prototype as unknown as { readLine: unknown }).readLine).toBe(publishedReadLine);
    } finally {
      delete process.env.POSTLINE_LIBRARY_PATCHES;
    }
    expect(await installPostalMimePatches()).toBe(true);
    expect((PostalMime.prototype as unknown as { readLine: unknown }).readLine).not.toBe(publishedReadLine);
  });
});
