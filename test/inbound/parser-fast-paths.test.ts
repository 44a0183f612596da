import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { decodeBase64Text } from '../../src/core/base64-text.js';
import { splitAtPlaceholders } from '../../src/inbound/parse/build-body.js';
import { parseMime } from '../../src/inbound/parse/mime.js';
import { importPackageFile } from '../../src/patches/package-files.js';
import type { ChunkWriterClass } from '../../src/patches/postal-mime.js';

const ChunkWriter = await importPackageFile<ChunkWriterClass>('postal-mime', 'dist/esm/chunk-writer.js');

/**
 * The pieces of postal-mime's fast paths (src/patches/postal-mime.ts) must answer exactly what the
 * library's own code answers: the native base64 decoder what postal-mime's Base64Decoder decodes
 * (left untouched, only MimeNode is told to use ours), and the chunk joins the bytes written.
 * test/patches/postal-mime.test.ts compares whole parses with and without the patches.
 */
interface LibDecoder {
  update(line: Uint8Array): void;
  finalize(): Promise<ArrayBuffer>;
}
const LibBase64Decoder = await importPackageFile<new () => LibDecoder>('postal-mime', 'dist/esm/base64-decoder.js');

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
    const PassThrough = await importPackageFile<
      new () => LibDecoder & { update(l: Uint8Array, b: Uint8Array): void; finalize(boundaryEnded?: boolean): Promise<ArrayBuffer> }
    >('postal-mime', 'dist/esm/pass-through-decoder.js');
    for (let seed = 1; seed <= 100; seed++) {
      const r = rng(seed);
      const pieces = Array.from(
        { length: Math.floor(r() * 10) },
        () => [pick(r, ['', 'a', 'line\rwith CR', '\u00ff\u0000']), pick(r, ['\r\n', '\n', '\r\r\n'])] as const,
      );
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
    const raw = Buffer.from(
      [
        'From: a@example.net',
        'To: b@customer.example',
        'Subject: parts',
        'MIME-Version: 1.0',
        'Content-Type: multipart/mixed; boundary="B"',
        '',
        '--B',
        'Content-Type: text/plain; charset=utf-8',
        '',
        'Hello',
        '--B',
        'Content-Type: application/pdf; name="r.pdf"',
        'Content-Disposition: attachment;',
        ' filename="r.pdf"',
        'Content-Transfer-Encoding: base64',
        'X-Part: one',
        '',
        ...(pdf.toString('base64').match(/.{1,8}/g) ?? []),
        '--B--',
        '',
      ].join('\r\n'),
    );
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

describe('splitAtPlaceholders', () => {
  it('splits as the capturing RegExp it replaced, on placeholders, near misses and plain text', () => {
    const token = '\\u0001content:0f1e2d3c-aaaa-bbbb-cccc-000000000000:';
    const bySplit = (json: string) =>
      json.split(new RegExp(`${token.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(\\d+)(?=")`)).map((p, i) => (i % 2 === 0 ? p : Number(p)));
    const r = rng(11);
    const pieces = [
      `"${token}0"`,
      `"${token}12"`,
      `${token}3`,
      `${token}"`,
      `${token}x"`,
      `${token}4:"`,
      token.slice(0, 10),
      '"text"',
      ',',
      '\\\\',
      '7"',
      'é😀',
    ];
    const jsons = ['', token, `"${token}0"`, `["${token}0","${token}1"]`, `"${token}${token}5"`];
    for (let i = 0; i < 1000; i++) jsons.push(Array.from({ length: Math.floor(r() * 8) }, () => pick(r, pieces)).join(''));
    for (const json of jsons) expect(splitAtPlaceholders(json, token), json).toEqual(bySplit(json));
  });
});
