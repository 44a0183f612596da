/**
 * mailauth 4.13.3: fast paths for three of its hot spots in DKIM and ARC verification. Each hands
 * every case it does not recognise to mailauth's own code.
 *
 * Why: in a CPU profile of bench/inbound.js (50 KB DKIM-signed messages) these three took about
 * 1.3 ms of the parser's ~5 ms per message:
 *  - the relaxed body hash (lib/dkim/body/relaxed.js) looks at the body one byte at a time in
 *    JavaScript (~0.8 ms per 50 KB). The fast path finds the lines with native indexOf; if no line
 *    needs rewriting (no TAB, no double space, no space before CRLF, no bare LF), complete lines go
 *    to the hash unchanged, which is also what mailauth does with them;
 *  - the DKIM message parser's line-break check (lib/dkim/message-parser.js) also reads every byte
 *    (~0.3 ms). The same native search finds the LFs, and mailauth's own code runs whenever a bare
 *    LF exists;
 *  - every signature made a new public key object from the DNS record (lib/tools.js getPublicKey,
 *    ~0.26 ms). Results are kept per TXT answer; the DNS question is still asked each time, so a
 *    changed record is seen as before.
 *
 * Applied as this module is evaluated, when the switch and the installed release allow it:
 * mailauth's verifiers copy getPublicKey out of tools.js when they load, so the replacement must
 * be in place before `mailauth` is first imported (authentication.ts imports this module first).
 * test/patches/mailauth.test.ts compares each fast path with mailauth's own code.
 */
import { requirePackageFile } from './package-files.js';
import { patchApplies } from './switch.js';

/** The release the fast paths were written against and checked on. */
export const MAILAUTH_VERSION = '4.13.3';

const LF = 0x0a;
const CR = 0x0d;
const TAB = 0x09;

type Resolver = (name: string, type: string) => Promise<unknown>;
type GetPublicKey = (type: string, name: string, minBitLength: number, resolver: Resolver) => Promise<unknown>;

interface RelaxedHashLike {
  byteLength: number;
  maxSizeReached: boolean;
  remainder: Buffer | false;
  _pushBodyHash(chunk: Buffer): void;
}
interface MessageParserLike {
  lastByte?: number;
}

/** Public keys kept per (type, name, minimum bits, TXT answer); a bound keeps a flood of domains from growing it. */
const MAX_CACHED_KEYS = 1_000;

/** Whether the fast paths are in place in this thread. */
export let mailauthPatched = false;

/** True when no line of `chunk` needs relaxed rewriting and no LF is bare or first (mailauth's own triggers). */
export function relaxedCleanLines(chunk: Buffer): boolean {
  if (chunk.indexOf(TAB) !== -1 || chunk.indexOf('  ') !== -1 || chunk.indexOf(' \r\n') !== -1) return false;
  for (let i = chunk.indexOf(LF); i !== -1; i = chunk.indexOf(LF, i + 1)) {
    if (i === 0 || chunk[i - 1] !== CR) return false;
  }
  return true;
}

/** True when every LF of `input` follows a CR, counting as mailauth does (the last byte before it that is not an LF). */
export function noBareLf(input: Buffer, lastByte: number | undefined): boolean {
  for (let i = input.indexOf(LF); i !== -1; i = input.indexOf(LF, i + 1)) {
    const before = i === 0 ? lastByte : input[i - 1] === LF ? CR /* checked at the earlier LF */ : input[i - 1];
    if (before !== CR) return false;
  }
  return true;
}

function lastNonLf(input: Buffer): number | undefined {
  for (let i = input.length - 1; i >= 0; i--) if (input[i] !== LF) return input[i];
  return undefined;
}

/** Applies the fast paths, once per thread, when the switch and the installed release allow it. */
export function installMailauthPatches(): boolean {
  if (mailauthPatched) return true;
  if (!patchApplies('mailauth', MAILAUTH_VERSION, 'mailauth fast paths')) return false;
  mailauthPatched = true;

  const { RelaxedHash } = requirePackageFile('mailauth', 'lib/dkim/body/relaxed.js') as {
    RelaxedHash: { prototype: RelaxedHashLike & { update(c: Buffer | null, final?: boolean): void } };
  };
  const { MessageParser } = requirePackageFile('mailauth', 'lib/dkim/message-parser.js') as {
    MessageParser: { prototype: MessageParserLike & { ensureLinebreaks(i: Buffer): Generator<Buffer> } };
  };
  const tools = requirePackageFile('mailauth', 'lib/tools.js') as { getPublicKey: GetPublicKey };
  const originalUpdate = RelaxedHash?.prototype?.update;
  const originalLinebreaks = MessageParser?.prototype?.ensureLinebreaks;
  const originalGetPublicKey = tools?.getPublicKey;
  if (typeof originalUpdate !== 'function' || typeof originalLinebreaks !== 'function' || typeof originalGetPublicKey !== 'function') {
    throw new Error('mailauth internals changed: the DKIM fast paths (src/patches/mailauth.ts) need review');
  }

  RelaxedHash.prototype.update = function update(this: RelaxedHashLike, input: Buffer | null, final?: boolean): void {
    if (final || !input || input.length === 0 || this.maxSizeReached) {
      originalUpdate.call(this, input, final);
      return;
    }
    const chunk = this.remainder && this.remainder.length > 0 ? Buffer.concat([this.remainder, input]) : input;
    if (!relaxedCleanLines(chunk)) {
      originalUpdate.call(this, input, final);
      return;
    }
    // What mailauth does with a chunk none of whose lines needs fixing: the complete lines go to
    // the hash, the unfinished last line waits for the next chunk.
    this.byteLength += input.length;
    this.remainder = false;
    const lineEnd = chunk.lastIndexOf(LF);
    if (lineEnd > 0) this._pushBodyHash(chunk.subarray(0, lineEnd + 1));
    if (lineEnd + 1 < chunk.length) this.remainder = chunk.subarray(lineEnd + 1);
  };

  MessageParser.prototype.ensureLinebreaks = function* ensureLinebreaks(this: MessageParserLike, input: Buffer): Generator<Buffer> {
    if (!noBareLf(input, this.lastByte)) return yield* originalLinebreaks.call(this, input);
    const last = lastNonLf(input);
    if (last !== undefined) this.lastByte = last;
    yield input;
  };

  const keys = new Map<string, Promise<unknown>>();
  tools.getPublicKey = async (type, name, minBitLength, resolver) => {
    if (typeof resolver !== 'function') return originalGetPublicKey(type, name, minBitLength, resolver);
    const answer = await resolver(name, 'TXT');
    const key = `${type}\0${name}\0${minBitLength}\0${JSON.stringify(answer)}`;
    let result = keys.get(key);
    if (!result) {
      result = originalGetPublicKey(type, name, minBitLength, async () => answer);
      if (keys.size >= MAX_CACHED_KEYS) keys.delete(keys.keys().next().value!);
      keys.set(key, result);
    }
    return result;
  };
  return true;
}

installMailauthPatches();
