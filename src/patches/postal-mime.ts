/**
 * What the Inbound parser needs of postal-mime beyond its public result: the part tree (each
 * part's own header lines for an attachment's CustomHeaders, the declared charsets, the multipart
 * boundaries), a native base64 decoder in place of its JavaScript one (base64-text.ts), which
 * also records the faults ErrorLog reports, and a plain join of decoded chunks. postal-mime exports
 * none of these classes or their types, so they are reached here, in one place, by their files
 * next to its entry point; test/inbound/parser-fast-paths.test.ts checks the decoder against
 * postal-mime's own and the join against the bytes written. A postal-mime release that moves
 * these files makes this module fail to load, and the parser tests with it.
 */
import { importPackageFile } from '../../core/package-internals.js';
import { decodeBase64Text } from './base64-text.js';

/** The fields of postal-mime's MimeNode read here (dist/esm/mime-node.d.ts). */
export interface PartNode {
  childNodes: PartNode[];
  contentType: { parsed: { value: string; params: Record<string, string | undefined> }; multipart: string | false };
  contentDisposition: { parsed: { value: string; params: Record<string, string | undefined> } };
  rawHeaderLines: { key: string; line: string }[];
  contentId?: string;
  /** Set by the decoder below when its part's base64 was damaged. */
  [BASE64_FAULT]?: { junk: boolean; symbols: number };
}

export const BASE64_FAULT = Symbol('base64 fault');

interface Decoder {
  update(line: Uint8Array, lineBreak?: Uint8Array): void;
  finalize(boundaryEnded?: boolean): Promise<ArrayBuffer>;
}

/**
 * Collects the part's lines as the parser passes them (views of its input, not copies; from
 * nativeLineReader, runs of lines with their line breaks); decodes once at the end.
 */
class NativeBase64Decoder implements Decoder {
  private readonly lines: Uint8Array[] = [];
  private bytes = 0;

  constructor(private readonly node: PartNode) {}

  update(line: Uint8Array): void {
    this.lines.push(line);
    this.bytes += line.length;
  }

  finalize(): Promise<ArrayBuffer> {
    const text = Buffer.concat(this.lines, this.bytes).toString('latin1');
    this.lines.length = 0;
    const { bytes, junk, symbols } = decodeBase64Text(text);
    if (junk || symbols % 4 !== 0) this.node[BASE64_FAULT] = { junk, symbols };
    // An ArrayBuffer of exactly the content (a small Buffer is a slice of Node's shared pool).
    const own = bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length
      ? bytes.buffer as ArrayBuffer
      : bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer;
    return Promise.resolve(own);
  }
}

interface MimeNodeClass { prototype: { setupContentDecoder(this: PartNode & { contentDecoder: Decoder | null }, encoding: string): void } }
interface ChunkWriterLike { chunks: Uint8Array[]; flush(): void; finalize(): Promise<ArrayBuffer> }
export interface ChunkWriterClass { new (maxChunkSize?: number): ChunkWriterLike & { writeBytes(b: Uint8Array): void; writeByte(b: number): void; append(b: Uint8Array): void }; prototype: ChunkWriterLike }

interface PassThroughLike {
  chunks: Uint8Array[];
  pendingLineBreak: Uint8Array | null;
  runEnd: number;
  continuesRun(bytes: Uint8Array): boolean;
  flushRun(): void;
}
interface PassThroughClass { new (): PassThroughLike; prototype: PassThroughLike & { finalize(boundaryEnded?: boolean): Promise<ArrayBuffer> } }

// The same files postal-mime's ESM entry imports, so the same classes.
const MimeNode = await importPackageFile<MimeNodeClass>('postal-mime', 'dist/esm/mime-node.js');
export const ChunkWriter = await importPackageFile<ChunkWriterClass>('postal-mime', 'dist/esm/chunk-writer.js');
const PassThroughDecoder = await importPackageFile<PassThroughClass>('postal-mime', 'dist/esm/pass-through-decoder.js');

/** Chunks joined into one ArrayBuffer of exactly their bytes. */
function joinChunks(chunks: readonly Uint8Array[]): ArrayBuffer {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) { out.set(c, at); at += c.byteLength; }
  return out.buffer;
}

/**
 * The chunks joined in one step. postal-mime joins them through a Blob and its arrayBuffer(),
 * which cost about 0.1 ms per message (Blob and transferable set-up) for the text parts.
 */
function finalizeChunks(this: ChunkWriterLike): Promise<ArrayBuffer> {
  this.flush();
  return Promise.resolve(joinChunks(this.chunks));
}

/**
 * PassThroughDecoder.finalize (7bit, 8bit and binary parts) as postal-mime 4.2 writes it, the
 * trailing line break included unless a boundary owns it, with the direct join in place of its
 * Blob: the Blob cost 0.15 ms per message for bench/inbound.js's two text parts.
 */
function finalizePassThrough(this: PassThroughLike, boundaryEnded = false): Promise<ArrayBuffer> {
  const pending = this.pendingLineBreak;
  if (!boundaryEnded && pending) {
    if (this.continuesRun(pending)) this.runEnd += pending.byteLength;
    else { this.flushRun(); this.chunks.push(pending); }
  }
  this.flushRun();
  return Promise.resolve(joinChunks(this.chunks));
}

let installed = false;

/**
 * Makes every base64 part decode natively and decoded parts join without a Blob (once per thread;
 * other encodings keep postal-mime's decoders).
 */
export function installFastPaths(): void {
  if (installed) return;
  installed = true;
  ChunkWriter.prototype.finalize = finalizeChunks;
  PassThroughDecoder.prototype.finalize = finalizePassThrough;
  const original = MimeNode.prototype.setupContentDecoder;
  MimeNode.prototype.setupContentDecoder = function setupContentDecoder(encoding: string) {
    if (encoding === 'base64') this.contentDecoder = new NativeBase64Decoder(this);
    else original.call(this, encoding);
  };
}

/** What readLine reads of the parser (postal-mime.js). */
interface LineReaderState {
  buf: ArrayBuffer;
  av: Uint8Array;
  readPos: number;
  boundaries: unknown[];
  currentNode: { state: string; contentDecoder: unknown };
  [BUFFER_VIEW]?: Buffer;
}
export interface Line { bytes: Uint8Array; lineBreak: Uint8Array; done: boolean }

const BUFFER_VIEW = Symbol('buffer view');
const LINE_STARTING_WITH_DASHES = Buffer.from('\n--', 'latin1');

/**
 * postal-mime's readLine with native scans, for a parser subclass (mime.ts). postal-mime reads
 * the message a line at a time, finding each line feed with a JavaScript loop over the bytes and
 * awaiting processLine per line: for a 50 KB message with two base64 attachments that was 700
 * lines and about a fifth of the parse. Here a line feed is found with Buffer.indexOf, and in the
 * body of a base64 or pass-through part every line up to the next one that could be a boundary
 * (one starting with "--"; with no multipart open, up to the last line feed) comes back as one
 * "line": those lines would each go straight to the part's decoder, and both decoders take the
 * run whole (NativeBase64Decoder skips the line breaks; PassThroughDecoder keeps a contiguous
 * range of the message). Each line comes back as postal-mime's does: its bytes without the
 * trailing CR and LF, and the line break, both views of the parser's buffer. A last line without
 * a line feed is left to the library's own readLine.
 */
export function nativeLineReader(original: (this: LineReaderState) => Line): (this: LineReaderState) => Line {
  return function readLine(this: LineReaderState): Line {
    const start = this.readPos;
    const av = this.av;
    let view = this[BUFFER_VIEW];
    if (view?.buffer !== this.buf) view = this[BUFFER_VIEW] = Buffer.from(this.buf, 0, this.buf.byteLength);
    let end = -1;
    const decoder = this.currentNode.state === 'body' ? this.currentNode.contentDecoder : null;
    if (start > 0 && (decoder instanceof NativeBase64Decoder || decoder instanceof PassThroughDecoder)) {
      // av[start - 1] is the previous line's feed, so a match at start - 1 means this line itself starts with "--".
      const dashes = this.boundaries.length > 0 ? view.indexOf(LINE_STARTING_WITH_DASHES, start - 1) : -1;
      end = dashes >= 0 ? dashes + 1 : view.lastIndexOf(0x0a) + 1;
    }
    if (end <= start) {
      const feed = view.indexOf(0x0a, start);
      if (feed < 0) return original.call(this);
      end = feed + 1;
    }
    let lineEnd = end - 1;
    while (lineEnd > start && av[lineEnd - 1] === 0x0d) lineEnd--;
    this.readPos = end;
    return { bytes: new Uint8Array(this.buf, start, lineEnd - start), lineBreak: av.subarray(lineEnd, end), done: end >= av.length };
  };
}

/** The parts of a tree in document order (the order they were created, root first). */
export function partsInOrder(root: PartNode): PartNode[] {
  const out: PartNode[] = [];
  const walk = (n: PartNode) => {
    out.push(n);
    for (const c of n.childNodes) walk(c);
  };
  walk(root);
  return out;
}
