import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import EmailReplyParser from 'email-reply-parser';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { importPackageFile } from '../../src/core/package-internals.js';
import { decodeBase64Text } from '../../src/inbound/parse/base64-text.js';
import { splitAtPlaceholders } from '../../src/inbound/parse/build-body.js';
import { PartAwareParser, parseMime } from '../../src/inbound/parse/mime.js';
import { BASE64_FAULT, ChunkWriter, partsInOrder, type PartNode } from '../../src/inbound/parse/postal-mime-parts.js';
import { anyPatternTest, replyText } from '../../src/inbound/parse/reply-text.js';

/**
 * The parser's two fast paths must answer exactly what the libraries answer: the native base64
 * decoder what postal-mime's own Base64Decoder decodes (it is left untouched, only MimeNode is
 * told to use ours; its output goes through the ChunkWriter join, which is checked on its own
 * below), and the reply parser what email-reply-parser's parseReply gives.
 */
interface LibDecoder { update(line: Uint8Array): void; finalize(): Promise<ArrayBuffer> }
const LibBase64Decoder = await importPackageFile<new () => LibDecoder>('postal-mime', 'dist/esm/base64-decoder.js');

/** A seeded generator, so a failure names an input that can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => { s = (s * 1664525 + 1013904223) >>> 0; return s / 2 ** 32; };
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

describe('native base64 decoding of MIME parts', () => {
  it("gives postal-mime's bytes for clean, cut-off, junk-laden, padded-per-line and spaced base64", async () => {
    for (let seed = 1; seed <= 600; seed++) {
      const r = rng(seed);
      const lines = base64Lines(r);
      const lib = new LibBase64Decoder();
      for (const l of lines) lib.update(Buffer.from(l, 'latin1'));
      const expected = Buffer.from(await lib.finalize());
      const ours = decodeBase64Text(lines.join(''));
      expect(ours.bytes.equals(expected), `seed ${seed}: ${JSON.stringify(lines.join('').slice(0, 120))}`).toBe(true);
    }
  });

  it('gives the same bytes and faults with the line breaks left in (CRLF or LF) as without them', () => {
    for (let seed = 1; seed <= 600; seed++) {
      const r = rng(seed);
      const lines = base64Lines(r);
      const withBreaks = lines.join(pick(r, ['\r\n', '\n', '\r\r\n'])) + pick(r, ['', '\r\n', '\n']);
      const ours = decodeBase64Text(withBreaks);
      const joined = decodeBase64Text(lines.join(''));
      expect({ ...ours, bytes: ours.bytes.toString('hex') }, `seed ${seed}`).toEqual({ ...joined, bytes: joined.bytes.toString('hex') });
    }
  });

  it('reports junk (not whitespace) and a symbol count that is not a multiple of 4', () => {
    expect(decodeBase64Text('QUJD')).toMatchObject({ junk: false, symbols: 4 });
    expect(decodeBase64Text('QU JD\t')).toMatchObject({ junk: false, symbols: 4 });
    expect(decodeBase64Text('QU*JD')).toMatchObject({ junk: true, symbols: 4 });
    expect(decodeBase64Text('QU-JD')).toMatchObject({ junk: true, symbols: 4 }); // base64url, not MIME base64
    expect(decodeBase64Text('AAECAwQ')).toMatchObject({ junk: false, symbols: 7 });
    expect(decodeBase64Text('QQ==QUJD').bytes.toString()).toBe('AABC');
  });

  it('decoded chunks join to exactly the bytes written, across chunk boundaries', async () => {
    for (let seed = 1; seed <= 100; seed++) {
      const r = rng(seed);
      const w = new ChunkWriter(1 + Math.floor(r() * 64));
      const written: number[] = [];
      for (let i = Math.floor(r() * 40); i > 0; i--) {
        const bytes = Array.from({ length: Math.floor(r() * 100) }, () => Math.floor(r() * 256));
        written.push(...bytes);
        const how = Math.floor(r() * 3);
        if (how === 0) for (const b of bytes) w.writeByte(b);
        else if (how === 1) w.writeBytes(Uint8Array.from(bytes));
        else w.append(Uint8Array.from(bytes));
      }
      expect(Buffer.from(await w.finalize()).equals(Buffer.from(written)), `seed ${seed}`).toBe(true);
    }
  });

  it('a pass-through part joins to its lines with their own breaks, the last one dropped when a boundary ends the part', async () => {
    const PassThrough = await importPackageFile<new () => LibDecoder & { update(l: Uint8Array, b: Uint8Array): void; finalize(boundaryEnded?: boolean): Promise<ArrayBuffer> }>('postal-mime', 'dist/esm/pass-through-decoder.js');
    for (let seed = 1; seed <= 100; seed++) {
      const r = rng(seed);
      const pieces = Array.from({ length: Math.floor(r() * 10) }, () => [pick(r, ['', 'a', 'line\rwith CR', '\u00ff\u0000']), pick(r, ['\r\n', '\n', '\r\r\n'])] as const);
      // Lines from one buffer (contiguous, as the parser gives them) or from separate ones.
      const whole = Buffer.from(pieces.map(([l, b]) => l + b).join(''), 'latin1');
      const contiguous = r() < 0.5;
      const d = new PassThrough();
      let at = 0;
      for (const [l, b] of pieces) {
        const line = contiguous ? whole.subarray(at, at + l.length) : Buffer.from(l, 'latin1');
        const brk = contiguous ? whole.subarray(at + l.length, at + l.length + b.length) : Buffer.from(b, 'latin1');
        d.update(line, brk);
        at += l.length + b.length;
      }
      const boundaryEnded = r() < 0.5;
      const last = pieces[pieces.length - 1];
      const expected = boundaryEnded && last ? whole.subarray(0, whole.length - last[1].length) : whole;
      expect(Buffer.from(await d.finalize(boundaryEnded)).equals(expected), `seed ${seed}`).toBe(true);
    }
  });

  it('a parsed message carries its parts decoded, each with its own header lines', async () => {
    const pdf = Buffer.from('%PDF-1.4 binary \x00\x01\x02 content', 'latin1');
    const raw = Buffer.from([
      'From: a@example.net', 'To: b@customer.example', 'Subject: parts', 'MIME-Version: 1.0',
      'Content-Type: multipart/mixed; boundary="B"', '', '--B', 'Content-Type: text/plain; charset=utf-8', '', 'Hello', '--B',
      'Content-Type: application/pdf; name="r.pdf"', 'Content-Disposition: attachment;', ' filename="r.pdf"', 'Content-Transfer-Encoding: base64', 'X-Part: one',
      '', ...(pdf.toString('base64').match(/.{1,8}/g) ?? []), '--B--', '',
    ].join('\r\n'));
    const m = await parseMime(raw);
    expect(m.errors).toEqual([]);
    expect(m.text).toBe('Hello');
    expect(m.textCharset).toBe('utf-8');
    expect(m.attachments).toHaveLength(1);
    expect(m.attachments[0]!.content.equals(pdf)).toBe(true);
    expect(m.attachments[0]!.headers).toEqual([
      { Name: 'Content-Type', Value: 'application/pdf; name="r.pdf"' },
      { Name: 'Content-Disposition', Value: 'attachment; filename="r.pdf"' },
      { Name: 'Content-Transfer-Encoding', Value: 'base64' },
      { Name: 'X-Part', Value: 'one' },
    ]);
    // The library, on the same message, agrees on the content.
    const lib = await PostalMime.parse(raw, { attachmentEncoding: 'arraybuffer' });
    expect(Buffer.from(lib.attachments[0]!.content as ArrayBuffer).equals(pdf)).toBe(true);
  });
});

const FIXTURES = join(import.meta.dirname, '../fixtures/inbound');

/** A MIME part's body lines in one of the encodings, with the lines mail puts in bodies that look like boundaries. */
function bodyLines(r: () => number, encoding: string): string[] {
  if (encoding === 'base64') return base64Lines(r);
  const pool = ['plain text', '', '--', '-- ', '--not-a-boundary', '---', '- dash', 'caf\u00e9 =C3=A9 soft=', 'trailing space ', '\tindented', 'a\rbare CR', '.', 'x'.repeat(200)];
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
    const out = [`Content-Type: multipart/${pick(r, ['mixed', 'alternative', 'related'])}; boundary="${boundary}"`, '', pick(r, ['', 'This is a multi-part message.'])];
    for (let i = 1 + Math.floor(r() * 3); i > 0; i--) out.push(`--${boundary}${pick(r, ['', '', ' ', '\t'])}`, ...(depth < 2 && r() < 0.3 ? multipart(depth + 1) : leaf()));
    if (r() < 0.85) out.push(`--${boundary}--`, ...(r() < 0.3 ? ['epilogue', '--'] : []));
    return out;
  };
  const lines = ['From: a@example.net', 'To: b@customer.example', 'Subject: shape', 'MIME-Version: 1.0', ...(r() < 0.3 ? leaf() : multipart(0))];
  let text = '';
  for (const [i, l] of lines.entries()) text += l + (i === lines.length - 1 && r() < 0.3 ? '' : pick(r, ['\r\n', '\r\n', '\r\n', '\n', '\r\r\n']));
  return Buffer.from(text, 'utf8');
}

/** Everything postal-mime gives for a message, and the faults the base64 decoder marked on each part. */
async function parsedBy(parser: PostalMime, raw: Buffer): Promise<unknown> {
  const email = await parser.parse(raw);
  const faults = partsInOrder((parser as unknown as { root: PartNode }).root).map((n) => n[BASE64_FAULT] ?? null);
  const attachments = email.attachments.map((a) => ({ ...a, content: Buffer.from(a.content as ArrayBuffer).toString('hex') }));
  return { ...email, attachments, faults };
}

describe('native line reading', () => {
  it("parses every message exactly as postal-mime's own line reader does", async () => {
    const options = { attachmentEncoding: 'arraybuffer', rfc822Attachments: true } as const;
    const fixtures = ['broken-base64.eml', 'folded-headers.eml', 'garbage-headers.eml', 'latin1.eml', 'out-of-office.eml', 'reply.eml', 'unclosed-multipart.eml']
      .map((f) => readFileSync(join(FIXTURES, f)));
    const messages = [...fixtures, ...Array.from({ length: 400 }, (_, i) => randomMessage(rng(i + 1)))];
    for (const [i, raw] of messages.entries()) {
      const ours = await parsedBy(new PartAwareParser(options), raw);
      const library = await parsedBy(new PostalMime(options), raw);
      expect(ours, `message ${i}: ${JSON.stringify(raw.toString('latin1').slice(0, 300))}`).toEqual(library);
    }
  });
});
const LINES = [
  'Thanks, that fixed it.', 'Sounds good.', '', '', '> quoted line', '>> deeper quote', '> ', 'On Mon, 20 May 2024 at 09:00, Ann <ann@example.net> wrote:',
  'Le lun. 20 mai 2024 à 09:00, Ann <ann@example.net> a écrit :', 'Am 20.05.2024 schrieb Ann <ann@example.net>:', '--', '-- ', 'Ann Sender',
  'Sent from my iPhone', '________________________________', 'From: Ann <ann@example.net>', 'Sent: Monday, May 20, 2024 9:00 AM', '   indented text',
  'Grüße 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '~~~', 'wrote:', 'On a line by itself', '\t', 'Best regards,',
  // The library tests signature and quote-header patterns on each line reversed: these lines match them that way.
  ',sdrager tseB', 'enohPi ym morf tneS', ':etorw >ten.elpmaxe@nna< nnA ,00:90 ta 4202 yaM 02 ,noM nO', '>ten.elpmaxe@nna< nnA :morF',
  // Longer than the reversal's scratch array, and lone surrogates (reversed code unit by code unit, as the library does).
  `${'long line '.repeat(30)}wrote:`, '\ud83d lone high, lone low \udc00', ' \ude00\ud83d reversed pair',
];

describe('ReplyText', () => {
  it("equals email-reply-parser's answer on fixtures and on generated replies", () => {
    const texts = ['reply.eml', 'out-of-office.eml', 'latin1.eml'].map((f) => readFileSync(join(FIXTURES, f), 'utf8').split(/\r?\n\r?\n/).slice(1).join('\n\n'));
    for (let seed = 1; seed <= 500; seed++) {
      const r = rng(seed);
      const n = 1 + Math.floor(r() * 30);
      texts.push(Array.from({ length: n }, () => pick(r, LINES)).join(r() < 0.3 ? '\r\n' : '\n'));
    }
    for (const [i, t] of texts.entries()) {
      expect(replyText(t), `text ${i}: ${JSON.stringify(t.slice(0, 200))}`).toBe(new EmailReplyParser().parseReply(t).trimEnd());
    }
    expect(replyText(null)).toBeNull();
  });
});

describe('anyPatternTest', () => {
  it('answers as trying each pattern in turn, across flag sets', () => {
    const patterns = [/^\s*-{2,4}$/, /^Cheers,?!?$/mi, /(On\s.+\n?wrote:)$/m, /^ab+c/, /écrit\s?:$/u, /x$/i];
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

describe('splitAtPlaceholders', () => {
  it('splits as the capturing RegExp it replaced, on placeholders, near misses and plain text', () => {
    const token = '\\u0001content:0f1e2d3c-aaaa-bbbb-cccc-000000000000:';
    const bySplit = (json: string) => json.split(new RegExp(`${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)(?=")`))
      .map((p, i) => (i % 2 === 0 ? p : Number(p)));
    const r = rng(11);
    const pieces = [`"${token}0"`, `"${token}12"`, `${token}3`, `${token}"`, `${token}x"`, `${token}4:"`, token.slice(0, 10), '"text"', ',', '\\\\', '7"', 'é😀'];
    const jsons = ['', token, `"${token}0"`, `["${token}0","${token}1"]`, `"${token}${token}5"`];
    for (let i = 0; i < 1000; i++) jsons.push(Array.from({ length: Math.floor(r() * 8) }, () => pick(r, pieces)).join(''));
    for (const json of jsons) expect(splitAtPlaceholders(json, token), json).toEqual(bySplit(json));
  });
});
