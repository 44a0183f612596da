/**
 * SocketLabs `%%Field%%` mail merge (docs/injection-api.md, Mail merge).
 *
 * A template is compiled once into alternating literal and placeholder parts, so a bulk send
 * renders each recipient with a plain loop of concatenations: no regex and no re-scan per render.
 */

export interface MergeRow {
  field: string;
  value: string;
}

/** Case-insensitive field lookup; per-message rows win over global rows. */
export interface MergeLookup {
  get(field: string): string | undefined;
}

/** A template split once into literal and placeholder parts, so rendering N recipients does not re-scan. */
export interface CompiledTemplate {
  readonly source: string;
  readonly hasPlaceholders: boolean;
}

// Name: 1..100 chars of anything but `%`, CR, LF. A global regex scans leftmost-first, so
// `%%A%%%%B%%` is two placeholders and `100%% sure` (no closing `%%`) is plain text.
const PLACEHOLDER = /%%([^%\r\n]{1,100})%%/g;
const PLACEHOLDER_TEST = /%%[^%\r\n]{1,100}%%/;

const RECIPIENT_NAME = 'recipientname';
// The PHP SDK writes `%%Recipient Name%%` while its rows carry `RecipientName` (§1.4).
const RECIPIENT_NAME_SPACED = 'recipient name';

class MapLookup implements MergeLookup {
  constructor(private readonly map: ReadonlyMap<string, string>) {}
  get(field: string): string | undefined {
    return this.map.get(field.toLowerCase());
  }
  /** Compiled templates hold lower-cased keys already: skip the per-render toLowerCase. */
  getLower(lowerField: string): string | undefined {
    return this.map.get(lowerField);
  }
}

export function buildMergeLookup(perMessage: readonly MergeRow[] | undefined, global: readonly MergeRow[] | undefined): MergeLookup {
  const map = new Map<string, string>();
  // Per-message first, then Global, each only filling keys not yet set: per-message wins, and
  // within one list the first row of a field wins (the normalizer's "first spelling wins" rule).
  for (const rows of [perMessage, global]) {
    if (!rows) continue;
    for (const row of rows) {
      const key = row.field.toLowerCase();
      if (!map.has(key)) map.set(key, row.value);
    }
  }
  return new MapLookup(map);
}

// Placeholder kinds, fixed at compile time so render does no string comparisons.
const FIELD = 0,
  RECIPIENT = 1,
  RECIPIENT_SPACED = 2;
type Kind = typeof FIELD | typeof RECIPIENT | typeof RECIPIENT_SPACED;

class Compiled implements CompiledTemplate {
  readonly hasPlaceholders: boolean;
  constructor(
    readonly source: string,
    /** literals.length === keys.length + 1; placeholder i sits between literals i and i+1. */
    readonly literals: readonly string[],
    readonly keys: readonly string[],
    readonly raws: readonly string[],
    readonly kinds: readonly Kind[],
  ) {
    this.hasPlaceholders = keys.length > 0;
  }
}

export function compileTemplate(source: string): CompiledTemplate {
  const literals: string[] = [];
  const keys: string[] = [];
  const raws: string[] = [];
  const kinds: Kind[] = [];
  let last = 0;
  if (source.includes('%%')) {
    for (const m of source.matchAll(PLACEHOLDER)) {
      const key = (m[1] as string).toLowerCase();
      literals.push(source.slice(last, m.index));
      keys.push(key);
      raws.push(m[0]);
      kinds.push(key === RECIPIENT_NAME ? RECIPIENT : key === RECIPIENT_NAME_SPACED ? RECIPIENT_SPACED : FIELD);
      last = m.index + m[0].length;
    }
  }
  literals.push(last === 0 ? source : source.slice(last));
  return new Compiled(source, literals, keys, raws, kinds);
}

function asCompiled(t: CompiledTemplate): Compiled {
  // Something that only looks like a CompiledTemplate (a plain object) is compiled on the spot.
  return t instanceof Compiled ? t : (compileTemplate(t.source) as Compiled);
}

export function render(t: CompiledTemplate, lookup: MergeLookup): string {
  const c = asCompiled(t);
  const { literals, keys, raws, kinds } = c;
  const n = keys.length;
  if (n === 0) return c.source;
  const fast = lookup instanceof MapLookup ? lookup : null;
  let out = literals[0] as string;
  for (let i = 0; i < n; i++) {
    const key = keys[i] as string;
    let v = fast ? fast.getLower(key) : lookup.get(key);
    if (v === undefined) {
      const kind = kinds[i];
      if (kind === RECIPIENT_SPACED) {
        // A field literally named `Recipient Name` matched above; else fall back to RecipientName.
        v = (fast ? fast.getLower(RECIPIENT_NAME) : lookup.get(RECIPIENT_NAME)) ?? '';
      } else if (kind === RECIPIENT) {
        v = '';
      } else {
        v = raws[i] as string; // unknown field: left literally, original spelling
      }
    }
    // Values are appended as-is and never re-scanned, so a value holding `%%X%%` stays literal.
    out += v;
    out += literals[i + 1] as string;
  }
  return out;
}

/** Like render, then every run of CR/LF becomes one space: a merge value cannot inject a header line. */
export function renderHeader(t: CompiledTemplate, lookup: MergeLookup): string {
  const out = render(t, lookup);
  return out.includes('\n') || out.includes('\r') ? out.replace(/[\r\n]+/g, ' ') : out;
}

export function renderString(source: string, lookup: MergeLookup): string {
  if (!source.includes('%%')) return source;
  return render(compileTemplate(source), lookup);
}

export function hasPlaceholders(source: string): boolean {
  return source.includes('%%') && PLACEHOLDER_TEST.test(source);
}

/** Distinct placeholder names in order of first appearance (case-insensitively deduplicated, first spelling kept). */
export function placeholderNames(source: string): string[] {
  const names: string[] = [];
  if (!source.includes('%%')) return names;
  const seen = new Set<string>();
  for (const m of source.matchAll(PLACEHOLDER)) {
    const name = m[1] as string;
    const key = name.toLowerCase();
    if (!seen.has(key)) {
      seen.add(key);
      names.push(name);
    }
  }
  return names;
}
