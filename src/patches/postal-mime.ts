/**
 * postal-mime 4.2.0: what the Inbound parser needs of its internals, in two kinds.
 *
 * Part tree (always on, it is not a speed patch): the parser's `root` part tree gives each
 * attachment's own header lines (CustomHeaders), the charsets its text parts declared and the
 * multipart boundaries; PartAwareParser records which part each attachment came from by wrapping
 * its collectAttachment. postal-mime exports none of this, so it is described here.
 *
 * Fast paths (POSTLINE_LIBRARY_PATCHES, and only on the release below), measured on
 * bench/inbound.js's 50 KB message with two attachments, CPU of the parse alone:
 *  - base64 parts decoded natively (core/base64-text.ts) instead of a line at a time in
 *    JavaScript; with the move from mailparser, 1.88 -> 0.80 ms. The decoder also records the
 *    faults ErrorLog reports (BASE64_FAULT); without the patch those two messages are missing;
 *  - decoded chunks (ChunkWriter, PassThroughDecoder) joined directly instead of through a Blob:
 *    0.80 -> 0.67 ms;
 *  - lines found with Buffer.indexOf, and the body lines of a base64 or pass-through part up to
 *    the next line that could be a boundary handed over as one run: 3.8 -> 2.5 ms for the parse
 *    with its decoders (a profile with more work per line).
 * test/patches/postal-mime.test.ts parses the fixture corpora and random messages with and without
 * the fast paths and expects the same result.
 */
import PostalMime, { type Attachment } from 'postal-mime';
import { decodeBase64Text } from '../core/base64-text.js';
import { importPackageFile } from './package-files.js';
import { patchApplies } from './switch.js';

/** The release the fast paths were written against and checked on. */
export const POSTAL_MIME_VERSION = '4.2.0';

export const BASE64_FAULT = Symbol('base64 fault');

/** The fields of postal-mime's MimeNode read here (dist/esm/mime-node.d.ts). */
export interface PartNode {
  childNodes: PartNode[];
  contentType: { parsed: { value: string; params: Record<string, string | undefined> }; multipart: string | false };
  contentDisposition: { parsed: { value: string; params: Record<string, string | undefined> } };
  rawHeaderLines: { key: string; line: string }[];
  contentId?: string;
  /** Set by the native base64 decoder when its part's base64 was damaged. */
  [BASE64_FAULT]?: { junk: boolean; symbols: number };
}

/** postal-mime's members used here that its typings leave out (it marks them internal). */
export interface ParserInternals {
  root: PartNode;
  isInlineTextNode(node: PartNode): boolean;
  collectAttachment(node: PartNode, ...rest: unknown[]): void;
  attachments: Attachment[];
  readLine(): Line;
}

const parserPrototype = PostalMime.prototype as unknown as ParserInternals;
if (typeof parserPrototype.collectAttachment !== 'function' || typeof parserPrototype.isInlineTextNode !== 'function') {
  throw new Error(`postal-mime internals changed: src/patches/postal-mime.ts (written for ${POSTAL_MIME_VERSION}) needs review`);
}

/** A parser that knows which part each attachment came from (its header lines). */
export class PartAwareParser extends PostalMime {
  readonly partOf = new Map<Attachment, PartNode>();
}
const collectAttachment = parserPrototype.collectAttachment;
Object.defineProperty(PartAwareParser.prototype, 'collectAttachment', {
  value(this: PartAwareParser & ParserInternals, node: PartNode, ...rest: unknown[]) {
    collectAttachment.call(this, node, ...rest);
    const added = this.attachments[this.attachments.length - 1];
    if (added) this.partOf.set(added, node);
  },
});

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

interface Decoder {
  update(line: Uint8Array, lineBreak?: Uint8Array): void;
  finalize(boundaryEnded?: boolean): Promise<ArrayBuffer>;
}

/**
 * Collects the part's lines as the parser passes them (views of its input, not copies; from the
 * native line reader, runs of lines with their line breaks); decodes once at the end.
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
    const own =
      bytes.byteOffset === 0 && bytes.buffer.byteLength === bytes.length
        ? (bytes.buffer as ArrayBuffer)
        : (bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
    return Promise.resolve(own);
  }
}

interface MimeNodeClass {
  prototype: { setupContentDecoder(this: PartNode & { contentDecoder: Decoder | null }, encoding: string): void };
}
interface ChunkWriterLike {
  chunks: Uint8Array[];
  flush(): void;
  finalize(): Promise<ArrayBuffer>;
}
export interface ChunkWriterClass {
  new (maxChunkSize?: number): ChunkWriterLike & { writeBytes(b: Uint8Array): void; writeByte(b: number): void; append(b: Uint8Array): void };
  prototype: ChunkWriterLike;
}
interface PassThroughLike {
  chunks: Uint8Array[];
  pendingLineBreak: Uint8Array | null;
  runEnd: number;
  continuesRun(bytes: Uint8Array): boolean;
  flushRun(): void;
}
interface PassThroughClass {
  new (): PassThroughLike;
  prototype: PassThroughLike & { finalize(boundaryEnded?: boolean): Promise<ArrayBuffer> };
}

/** Chunks joined into one ArrayBuffer of exactly their bytes. */
function joinChunks(chunks: readonly Uint8Array[]): ArrayBuffer {
  let total = 0;
  for (const c of chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.byteLength;
  }
  return out.buffer;
}

/** ChunkWriter.finalize: the chunks joined in one step instead of through a Blob. */
function finalizeChunks(this: ChunkWriterLike): Promise<ArrayBuffer> {
  this.flush();
  return Promise.resolve(joinChunks(this.chunks));
}

/**
 * PassThroughDecoder.finalize (7bit, 8bit and binary parts) as postal-mime 4.2 writes it, the
 * trailing line break included unless a boundary owns it, with the direct join in place of its Blob.
 */
function finalizePassThrough(this: PassThroughLike, boundaryEnded = false): Promise<ArrayBuffer> {
  const pending = this.pendingLineBreak;
  if (!boundaryEnded && pending) {
    if (this.continuesRun(pending)) this.runEnd += pending.byteLength;
    else {
      this.flushRun();
      this.chunks.push(pending);
    }
  }
  this.flushRun();
  return Promise.resolve(joinChunks(this.chunks));
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
export interface Line {
  bytes: Uint8Array;
  lineBreak: Uint8Array;
  done: boolean;
}

const BUFFER_VIEW = Symbol('buffer view');
const LINE_STARTING_WITH_DASHES = Buffer.from('\n--', 'latin1');

/**
 * postal-mime's readLine with native scans. postal-mime finds each line feed with a JavaScript loop
 * and awaits processLine per line. Here a line feed is found with Buffer.indexOf, and in the body
 * of a base64 or pass-through part every line up to the next one that could be a boundary (one
 * starting with "--"; with no multipart open, up to the last line feed) comes back as one "line":
 * those lines would each go straight to the part's decoder, and both decoders take the run whole
 * (NativeBase64Decoder skips the line breaks; PassThroughDecoder keeps a contiguous range of the
 * message). Each line comes back as postal-mime's does: its bytes without the trailing CR and LF,
 * and the line break, both views of the parser's buffer. A last line without a line feed is left
 * to the library's own readLine.
 */
function nativeLineReader(original: (this: LineReaderState) => Line, PassThroughDecoder: PassThroughClass): (this: LineReaderState) => Line {
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

/** The library's own methods, kept to put them back (removePostalMimePatches). */
let restore: (() => void) | null = null;

/**
 * Applies the fast paths to postal-mime's classes, once per thread, when the switch and the
 * installed release allow it. Returns whether they are in place.
 */
export async function installPostalMimePatches(): Promise<boolean> {
  if (restore) return true;
  if (!patchApplies('postal-mime', POSTAL_MIME_VERSION, 'postal-mime fast paths')) return false;
  // The same files postal-mime's ESM entry imports, so the same classes.
  const MimeNode = await importPackageFile<MimeNodeClass>('postal-mime', 'dist/esm/mime-node.js');
  const ChunkWriter = await importPackageFile<ChunkWriterClass>('postal-mime', 'dist/esm/chunk-writer.js');
  const PassThroughDecoder = await importPackageFile<PassThroughClass>('postal-mime', 'dist/esm/pass-through-decoder.js');
  if (restore) return true; // another caller got here first

  const originals = {
    chunkFinalize: ChunkWriter.prototype.finalize,
    passThroughFinalize: PassThroughDecoder.prototype.finalize,
    setupContentDecoder: MimeNode.prototype.setupContentDecoder,
    readLine: parserPrototype.readLine,
  };
  ChunkWriter.prototype.finalize = finalizeChunks;
  PassThroughDecoder.prototype.finalize = finalizePassThrough;
  MimeNode.prototype.setupContentDecoder = function setupContentDecoder(encoding: string) {
    if (encoding === 'base64') this.contentDecoder = new NativeBase64Decoder(this);
    else originals.setupContentDecoder.call(this, encoding);
  };
  parserPrototype.readLine = nativeLineReader(originals.readLine as never, PassThroughDecoder) as never;
  restore = () => {
    ChunkWriter.prototype.finalize = originals.chunkFinalize;
    PassThroughDecoder.prototype.finalize = originals.passThroughFinalize;
    MimeNode.prototype.setupContentDecoder = originals.setupContentDecoder;
    parserPrototype.readLine = originals.readLine;
  };
  return true;
}

/** Puts postal-mime's own methods back (the differential tests compare both). */
export function removePostalMimePatches(): void {
  restore?.();
  restore = null;
}
