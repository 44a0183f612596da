import { createRequire } from 'node:module';
import { generateKeyPairSync } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Differential test of src/patches/mailauth.ts: the fast paths must answer exactly what mailauth's
 * own code answers, on the fixture corpora and on generated bodies. mailauth's untouched classes
 * are loaded first and dropped from the require cache, so that the fast paths patch fresh copies.
 */
const req = createRequire(import.meta.url);
const RELAXED = 'mailauth/lib/dkim/body/relaxed.js';
const PARSER = 'mailauth/lib/dkim/message-parser.js';
const TOOLS = 'mailauth/lib/tools.js';

interface Hasher {
  update(c: Buffer | null, final?: boolean): void;
  digest(enc: string): string;
  byteLength: number;
  getMimeStructureStart(): unknown;
  setContentType(t: unknown): void;
}
type HasherClass = new (algo: string, max?: number) => Hasher;
interface LinebreakParser {
  lastByte?: number;
  ensureLinebreaks(i: Buffer): Iterable<Buffer>;
}
type ParserClass = new () => LinebreakParser;
type GetPublicKey = (type: string, name: string, min: number, resolver: (n: string, t: string) => Promise<unknown>) => Promise<{ publicKey: string }>;

function fresh<T>(path: string): T {
  const mod = req(path) as T;
  delete req.cache[req.resolve(path)];
  return mod;
}
const original = {
  Relaxed: fresh<{ RelaxedHash: HasherClass }>(RELAXED).RelaxedHash,
  Parser: fresh<{ MessageParser: ParserClass }>(PARSER).MessageParser,
  getPublicKey: fresh<{ getPublicKey: GetPublicKey }>(TOOLS).getPublicKey,
};
await import('../../src/patches/mailauth.js');
const fast = {
  Relaxed: (req(RELAXED) as { RelaxedHash: HasherClass }).RelaxedHash,
  Parser: (req(PARSER) as { MessageParser: ParserClass }).MessageParser,
  getPublicKey: (req(TOOLS) as { getPublicKey: GetPublicKey }).getPublicKey,
};

/** A seeded generator, so a failure names an input that can be replayed. */
function rng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1664525 + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}
const CLEAN = ['word', 'QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo=', ' ', 'a b', '\r\n', '--boundary\r\n', 'x=\r\n'];
const DIRTY = [...CLEAN, '  ', '\t', ' \r\n', '\n', '\r', '\n\n', '\r\n\r\n\r\n', ' \t '];

function body(r: () => number, pieces: string[], n: number): Buffer {
  let s = '';
  for (let i = 0; i < n; i++) s += pieces[Math.floor(r() * pieces.length)];
  return Buffer.from(s, 'latin1');
}
function chunked(r: () => number, buf: Buffer): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < buf.length; ) {
    const len = 1 + Math.floor(r() * (r() < 0.2 ? 8 : 400));
    out.push(buf.subarray(at, at + len));
    at += len;
  }
  return out;
}
function hashWith(Cls: HasherClass, chunks: Buffer[], max?: number) {
  const h = new Cls('rsa-sha256', max);
  h.setContentType({ value: 'multipart/mixed', params: { boundary: 'boundary' } });
  for (const c of chunks) h.update(c);
  const digest = h.digest('base64');
  return { digest, byteLength: h.byteLength, mime: h.getMimeStructureStart() };
}

const FIXTURES = join(import.meta.dirname, '../fixtures');
const corpus = ['bounces', 'reports', 'inbound'].flatMap((dir) =>
  readdirSync(join(FIXTURES, dir))
    .filter((f) => f.endsWith('.eml'))
    .map((f) => ({ name: `${dir}/${f}`, raw: readFileSync(join(FIXTURES, dir, f)) })),
);

describe('mailauth fast paths', () => {
  it('hash the body and check the line breaks of every corpus message as mailauth does', () => {
    expect(corpus.length).toBeGreaterThan(700);
    for (const [i, { name, raw }] of corpus.entries()) {
      const r = rng(i + 1);
      const split = raw.indexOf('\r\n\r\n');
      const bodyBytes = split >= 0 ? raw.subarray(split + 4) : raw.subarray(raw.indexOf('\n\n') + 2);
      const chunks = chunked(r, bodyBytes);
      expect(hashWith(fast.Relaxed, chunks), name).toEqual(hashWith(original.Relaxed, chunks));
      const lines = (Cls: ParserClass) => {
        const p = new Cls();
        const out: Buffer[] = [];
        for (const c of chunked(rng(i + 1), raw)) for (const piece of p.ensureLinebreaks(c)) out.push(Buffer.from(piece));
        return Buffer.concat(out).toString('latin1');
      };
      expect(lines(fast.Parser), name).toBe(lines(original.Parser));
    }
  });

  it("the relaxed body hash equals mailauth's on clean and messy bodies, whatever the chunking", () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const buf = body(r, seed % 2 === 0 ? CLEAN : DIRTY, 20 + Math.floor(r() * 300));
      const chunks = chunked(r, buf);
      const max = seed % 7 === 0 ? Math.floor(r() * buf.length) : undefined;
      expect(hashWith(fast.Relaxed, chunks, max), `seed ${seed}`).toEqual(hashWith(original.Relaxed, chunks, max));
    }
  });

  it('the line-break check yields the same bytes and remembers the same last byte', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed);
      const chunks = chunked(r, body(r, seed % 2 === 0 ? CLEAN : DIRTY, 20 + Math.floor(r() * 200)));
      const run = (Cls: ParserClass) => {
        const p = new Cls();
        const out: Buffer[] = [];
        const lastBytes: (number | undefined)[] = [];
        for (const c of chunks) {
          for (const piece of p.ensureLinebreaks(c)) out.push(Buffer.from(piece));
          lastBytes.push(p.lastByte);
        }
        return { bytes: Buffer.concat(out).toString('latin1'), lastBytes };
      };
      expect(run(fast.Parser), `seed ${seed}`).toEqual(run(original.Parser));
    }
  });

  it('public keys are kept per DNS answer: the same answer gives the same key, a changed record is read anew, a bad one fails as before', async () => {
    const pem = () => generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
    let record = `v=DKIM1; k=rsa; p=${pem()}`;
    let asked = 0;
    const resolver = async () => {
      asked++;
      return [[record]];
    };
    const first = await fast.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver);
    expect(first).toEqual(await original.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver));
    expect(await fast.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver)).toEqual(first);
    expect(asked).toBe(3); // the question is asked every time; only the key work is kept

    record = `v=DKIM1; k=rsa; p=${pem()}`;
    const second = await fast.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver);
    expect(second.publicKey).not.toBe(first.publicKey);
    expect(second).toEqual(await original.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver));

    record = 'v=DKIM1; k=rsa; p=';
    const err = (p: Promise<unknown>) =>
      p.then(
        () => null,
        (e: Error & { code?: string }) => e.code,
      );
    expect(await err(fast.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver))).toBe('EINVALIDVAL');
    expect(await err(fast.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver))).toBe(
      await err(original.getPublicKey('DKIM', 's._domainkey.example.com', 1024, resolver)),
    );
  });
});

describe('mailauth with POSTLINE_LIBRARY_PATCHES=off', () => {
  it('is left as published', async () => {
    const { vi } = await import('vitest');
    process.env.POSTLINE_LIBRARY_PATCHES = 'off';
    try {
      vi.resetModules();
      const fresh = await import('../../src/patches/mailauth.js');
      expect(fresh.mailauthPatched).toBe(false);
      expect(fresh.installMailauthPatches()).toBe(false);
    } finally {
      delete process.env.POSTLINE_LIBRARY_PATCHES;
    }
  });
});
