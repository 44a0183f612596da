/**
 * What the Inbound parser needs of postal-mime beyond its public result: the part tree (each
 * part's own header lines for an attachment's CustomHeaders, the declared charsets, the multipart
 * boundaries), and a native base64 decoder in place of its JavaScript one (base64-text.ts), which
 * also records the faults ErrorLog reports. postal-mime exports neither its MimeNode class nor
 * its types, so both are reached here, in one place, by the module's file next to its entry point;
 * `test/inbound/postal-mime-parts.test.ts` checks the decoder against postal-mime's own.
 */
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
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

// The same file postal-mime's ESM entry imports, so the same class.
const packageDir = dirname(createRequire(import.meta.url).resolve('postal-mime/package.json'));
const MimeNode = ((await import(pathToFileURL(join(packageDir, 'dist/esm/mime-node.js')).href)) as { default: MimeNodeClass }).default;

let installed = false;

/** Makes every base64 part decode natively (once per thread; other encodings keep postal-mime's decoders). */
export function installNativeBase64(): void {
  if (installed) return;
  installed = true;
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
