import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import EmailReplyParser from 'email-reply-parser';
import PostalMime from 'postal-mime';
import { describe, expect, it } from 'vitest';
import { importPackageFile } from '../../src/core/package-internals.js';
import { decodeBase64Text } from '../../src/inbound/parse/base64-text.js';
import { parseMime } from '../../src/inbound/parse/mime.js';
import { ChunkWriter } from '../../src/inbound/parse/postal-mime-parts.js';
import { replyText } from '../../src/inbound/parse/reply-text.js';

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
const LINES = [
  'Thanks, that fixed it.', 'Sounds good.', '', '', '> quoted line', '>> deeper quote', '> ', 'On Mon, 20 May 2024 at 09:00, Ann <ann@example.net> wrote:',
  'Le lun. 20 mai 2024 à 09:00, Ann <ann@example.net> a écrit :', 'Am 20.05.2024 schrieb Ann <ann@example.net>:', '--', '-- ', 'Ann Sender',
  'Sent from my iPhone', '________________________________', 'From: Ann <ann@example.net>', 'Sent: Monday, May 20, 2024 9:00 AM', '   indented text',
  'Grüße 😀 and 𝔘𝔫𝔦𝔠𝔬𝔡𝔢', '~~~', 'wrote:', 'On a line by itself', '\t', 'Best regards,',
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
