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

/** Collects the part's lines as the parser passes them (views of its input, not copies); decodes once at the end. */
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

// The same files postal-mime's ESM entry imports, so the same classes.
const MimeNode = await importPackageFile<MimeNodeClass>('postal-mime', 'dist/esm/mime-node.js');
export const ChunkWriter = await importPackageFile<ChunkWriterClass>('postal-mime', 'dist/esm/chunk-writer.js');

/**
 * The chunks joined in one step. postal-mime joins them through a Blob and its arrayBuffer(),
 * which cost about 0.1 ms per message (Blob and transferable set-up) for the text parts.
 */
function finalizeChunks(this: ChunkWriterLike): Promise<ArrayBuffer> {
  this.flush();
  let total = 0;
  for (const c of this.chunks) total += c.byteLength;
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of this.chunks) { out.set(c, at); at += c.byteLength; }
  return Promise.resolve(out.buffer);
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
  const original = MimeNode.prototype.setupContentDecoder;
  MimeNode.prototype.setupContentDecoder = function setupContentDecoder(encoding: string) {
    if (encoding === 'base64') this.contentDecoder = new NativeBase64Decoder(this);
    else original.call(this, encoding);
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
