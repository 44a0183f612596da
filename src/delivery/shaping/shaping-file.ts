import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { normalizeDomain } from '../../core/custom-domain.js';

/**
 * One traffic shaping file, read and checked (config/shaping.json as shipped, or the operator's
 * POSTLINE_SHAPING_FILE): every field is optional here, because an operator's file only says
 * what it changes; shaping-config.ts merges the layers into the limits that apply. Nothing is
 * accepted that is not understood: an unknown field is refused by name, like a misspelt
 * `perSecnd` that would otherwise change nothing without a word.
 */

/** The limits of a provider, a recipient domain or the default block. */
export interface ShapingLimits {
  /** Connections open at once. */
  connections: number;
  messagesPerConnection: number;
  /** Messages per second (paced, bursts of one second's worth); null: not paced. */
  perSecond: number | null;
  /** Messages in any hour (a sliding window, hour-window.ts); null: no hourly limit. */
  perHour: number | null;
}

export type SlowDownAction = 'suspend' | 'slow';

export interface ProviderLayer {
  name: string;
  /** false removes a provider a lower layer defined. */
  enabled: boolean;
  mx: readonly string[] | null;
  limits: Partial<ShapingLimits>;
}

export interface PatternLayer {
  id: string;
  enabled: boolean;
  /** The regular expression as written, and compiled (case-insensitive). */
  source: string | null;
  match: RegExp | null;
  action: SlowDownAction | null;
}

export interface ShapingFileLayer {
  default: Partial<ShapingLimits>;
  providers: readonly ProviderLayer[];
  /** Recipient domain (lower case) -> the limits given for it. */
  domains: ReadonlyMap<string, Partial<ShapingLimits>>;
  backoff: Partial<{ initialSeconds: number; maxSeconds: number; calmSeconds: number }>;
  recovery: Partial<{ rateFactor: number; seconds: number }>;
  patterns: readonly PatternLayer[];
}

/** Why a shaping file cannot be used; names the file, the place in it and the problem. */
export class ShapingFileError extends Error {
  constructor(
    readonly file: string,
    problem: string,
    label = 'POSTLINE_SHAPING_FILE',
  ) {
    super(`${label}: ${file}: ${problem}`);
    this.name = 'ShapingFileError';
  }
}

/** Upper bounds that catch a typo (an extra zero or three) rather than express a policy. */
const MAX_CONNECTIONS = 1_000;
const MAX_MESSAGES_PER_CONNECTION = 100_000;
const MAX_PER_SECOND = 1_000_000;
const MAX_PER_HOUR = 1_000_000_000;
const MAX_BACKOFF_SECONDS = 7 * 24 * 3600;
/** Operators' regular expressions run on every refusal: long ones are more likely a paste error than a pattern. */
const MAX_PATTERN_LENGTH = 500;

const LIMIT_KEYS = ['connections', 'messagesPerConnection', 'perSecond', 'perHour'] as const;
const NAME = /^[a-z0-9][a-z0-9-]{0,62}$/;
const PATTERN_ID = /^[a-z0-9][a-z0-9.-]{0,62}$/;
const HOST_LABEL = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
const HOST_NAME = new RegExp(`^${HOST_LABEL}(?:\\.${HOST_LABEL})*$`);

/** Reads and checks one shaping file; throws ShapingFileError naming the file and what is wrong. */
export function readShapingFile(file: string, label?: string): ShapingFileLayer {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ShapingFileError(file, `cannot read: ${(err as Error).message}`, label);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ShapingFileError(file, `not JSON: ${(err as Error).message}`, label);
  }
  try {
    return parseShapingFile(parsed);
  } catch (err) {
    if (err instanceof ProblemAt) throw new ShapingFileError(file, err.message, label);
    throw err;
  }
}

/** A problem found while reading the parsed JSON; readShapingFile adds the file's name. */
export class ProblemAt extends Error {}

/** Checks parsed JSON as a shaping file layer; throws ProblemAt naming the field. */
export function parseShapingFile(raw: unknown): ShapingFileLayer {
  const top = objectAt(raw, 'the file');
  knownKeys(top, ['default', 'providers', 'domains', 'slowDown'], 'the file');
  const providers = top.providers === undefined ? [] : arrayAt(top.providers, 'providers').map((p, i) => providerAt(p, i));
  const names = new Set<string>();
  for (const p of providers) {
    if (names.has(p.name)) throw new ProblemAt(`providers: "${p.name}" is named twice`);
    names.add(p.name);
  }
  const domains = new Map<string, Partial<ShapingLimits>>();
  if (top.domains !== undefined) {
    for (const [rawDomain, v] of Object.entries(objectAt(top.domains, 'domains'))) {
      const at = `domains["${rawDomain}"]`;
      const domain = normalizeDomain(rawDomain);
      if (domain === null) throw new ProblemAt(`${at}: "${rawDomain}" is not a domain name`);
      if (domains.has(domain)) throw new ProblemAt(`${at}: ${domain} is given twice`);
      const o = objectAt(v, at);
      knownKeys(o, LIMIT_KEYS, at);
      const limits = limitsAt(o, at);
      if (Object.keys(limits).length === 0) throw new ProblemAt(`${at}: give at least one of ${LIMIT_KEYS.join(', ')}`);
      domains.set(domain, limits);
    }
  }
  let defaults: Partial<ShapingLimits> = {};
  if (top.default !== undefined) {
    const o = objectAt(top.default, 'default');
    knownKeys(o, LIMIT_KEYS, 'default');
    // The per-destination rate limiter paces these (across processes on PostgreSQL) at that setting.
    if (o.perSecond !== undefined) throw new ProblemAt('default.perSecond is POSTLINE_PER_DESTINATION_RATE: set that instead');
    defaults = limitsAt(o, 'default');
  }
  const slow = top.slowDown === undefined ? {} : objectAt(top.slowDown, 'slowDown');
  knownKeys(slow, ['backoff', 'recovery', 'patterns'], 'slowDown');
  const backoff: ShapingFileLayer['backoff'] = {};
  if (slow.backoff !== undefined) {
    const o = objectAt(slow.backoff, 'slowDown.backoff');
    knownKeys(o, ['initialSeconds', 'maxSeconds', 'calmSeconds'], 'slowDown.backoff');
    for (const k of ['initialSeconds', 'maxSeconds', 'calmSeconds'] as const) {
      if (o[k] !== undefined) backoff[k] = numberAt(o[k], `slowDown.backoff.${k}`, { min: 0, exclusiveMin: true, max: MAX_BACKOFF_SECONDS });
    }
    if (backoff.initialSeconds !== undefined && backoff.maxSeconds !== undefined && backoff.maxSeconds < backoff.initialSeconds)
      throw new ProblemAt('slowDown.backoff: maxSeconds is less than initialSeconds');
  }
  const recovery: ShapingFileLayer['recovery'] = {};
  if (slow.recovery !== undefined) {
    const o = objectAt(slow.recovery, 'slowDown.recovery');
    knownKeys(o, ['rateFactor', 'seconds'], 'slowDown.recovery');
    if (o.rateFactor !== undefined) recovery.rateFactor = numberAt(o.rateFactor, 'slowDown.recovery.rateFactor', { min: 0, exclusiveMin: true, max: 1 });
    if (o.seconds !== undefined) recovery.seconds = numberAt(o.seconds, 'slowDown.recovery.seconds', { min: 0, max: MAX_BACKOFF_SECONDS });
  }
  const patterns = slow.patterns === undefined ? [] : arrayAt(slow.patterns, 'slowDown.patterns').map((p, i) => patternAt(p, i));
  const ids = new Set<string>();
  for (const p of patterns) {
    if (ids.has(p.id)) throw new ProblemAt(`slowDown.patterns: "${p.id}" is given twice`);
    ids.add(p.id);
  }
  return { default: defaults, providers, domains, backoff, recovery, patterns };
}

function providerAt(raw: unknown, i: number): ProviderLayer {
  let at = `providers[${i}]`;
  const o = objectAt(raw, at);
  if (typeof o.name !== 'string' || !NAME.test(o.name)) throw new ProblemAt(`${at}.name must be lower-case letters, digits and dashes`);
  at = `${at} ("${o.name}")`;
  knownKeys(o, ['name', 'enabled', 'mx', ...LIMIT_KEYS], at);
  const enabled = o.enabled === undefined ? true : booleanAt(o.enabled, `${at}.enabled`);
  let mx: string[] | null = null;
  if (o.mx !== undefined) {
    mx = arrayAt(o.mx, `${at}.mx`).map((m, j) => {
      if (typeof m !== 'string') throw new ProblemAt(`${at}.mx[${j}] must be a string`);
      const pattern = m.trim().toLowerCase().replace(/\.$/, '');
      if (!isHostPattern(pattern))
        throw new ProblemAt(`${at}.mx[${j}]: "${m}" is neither a host name (or address) nor *. followed by a domain (e.g. *.google.com)`);
      return pattern;
    });
  }
  return { name: o.name, enabled, mx, limits: limitsAt(o, at) };
}

function patternAt(raw: unknown, i: number): PatternLayer {
  let at = `slowDown.patterns[${i}]`;
  const o = objectAt(raw, at);
  if (typeof o.id !== 'string' || !PATTERN_ID.test(o.id)) throw new ProblemAt(`${at}.id must be lower-case letters, digits, dots and dashes`);
  at = `${at} ("${o.id}")`;
  knownKeys(o, ['id', 'enabled', 'match', 'action'], at);
  const enabled = o.enabled === undefined ? true : booleanAt(o.enabled, `${at}.enabled`);
  let source: string | null = null;
  let match: RegExp | null = null;
  if (o.match !== undefined) {
    if (typeof o.match !== 'string' || o.match.length === 0) throw new ProblemAt(`${at}.match must be a regular expression in a string`);
    if (o.match.length > MAX_PATTERN_LENGTH) throw new ProblemAt(`${at}.match is longer than ${MAX_PATTERN_LENGTH} characters`);
    try {
      match = new RegExp(o.match, 'i');
    } catch (err) {
      throw new ProblemAt(`${at}.match is not a regular expression: ${(err as Error).message}`);
    }
    // A pattern that matches nothing at all would suspend on every refusal.
    if (match.test('')) throw new ProblemAt(`${at}.match matches an empty reply, so it would match every reply`);
    source = o.match;
  }
  let action: SlowDownAction | null = null;
  if (o.action !== undefined) {
    if (o.action !== 'suspend' && o.action !== 'slow') throw new ProblemAt(`${at}.action must be "suspend" or "slow"`);
    action = o.action;
  }
  return { id: o.id, enabled, source, match, action };
}

function limitsAt(o: Record<string, unknown>, at: string): Partial<ShapingLimits> {
  const out: Partial<ShapingLimits> = {};
  if (o.connections !== undefined) out.connections = integerAt(o.connections, `${at}.connections`, 1, MAX_CONNECTIONS);
  if (o.messagesPerConnection !== undefined)
    out.messagesPerConnection = integerAt(o.messagesPerConnection, `${at}.messagesPerConnection`, 1, MAX_MESSAGES_PER_CONNECTION);
  if (o.perSecond !== undefined)
    out.perSecond = o.perSecond === null ? null : numberAt(o.perSecond, `${at}.perSecond`, { min: 0, exclusiveMin: true, max: MAX_PER_SECOND }, ' or null');
  if (o.perHour !== undefined) out.perHour = o.perHour === null ? null : integerAt(o.perHour, `${at}.perHour`, 1, MAX_PER_HOUR, ' or null');
  return out;
}

/** `*.example.com` (any name below example.com), or one host name or IP address. */
export function isHostPattern(p: string): boolean {
  if (p.startsWith('*.')) return HOST_NAME.test(p.slice(2)) && p.slice(2).includes('.');
  return isIP(p) !== 0 || HOST_NAME.test(p);
}

function objectAt(v: unknown, at: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new ProblemAt(`${at} must be a JSON object`);
  return v as Record<string, unknown>;
}

function arrayAt(v: unknown, at: string): unknown[] {
  if (!Array.isArray(v)) throw new ProblemAt(`${at} must be a JSON array`);
  return v;
}

function booleanAt(v: unknown, at: string): boolean {
  if (typeof v !== 'boolean') throw new ProblemAt(`${at} must be true or false`);
  return v;
}

/** "$comment" is allowed everywhere (JSON has no comments); anything else unknown is refused. */
function knownKeys(o: Record<string, unknown>, keys: readonly string[], at: string): void {
  for (const k of Object.keys(o)) {
    if (k === '$comment') {
      const c = o[k];
      if (typeof c !== 'string' && !(Array.isArray(c) && c.every((x) => typeof x === 'string')))
        throw new ProblemAt(`${at}.$comment must be a string or a list of strings`);
      continue;
    }
    if (!keys.includes(k)) throw new ProblemAt(`${at}: unknown field "${k}" (known: ${keys.join(', ')})`);
  }
}

function integerAt(v: unknown, at: string, min: number, max: number, orNull = ''): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min || v > max)
    throw new ProblemAt(`${at} must be a whole number from ${min} to ${max}${orNull}`);
  return v;
}

function numberAt(v: unknown, at: string, range: { min: number; exclusiveMin?: boolean; max: number }, orNull = ''): number {
  const low = range.exclusiveMin ? `more than ${range.min}` : `at least ${range.min}`;
  if (typeof v !== 'number' || !Number.isFinite(v) || v < range.min || (range.exclusiveMin && v === range.min) || v > range.max)
    throw new ProblemAt(`${at} must be a number ${low} and at most ${range.max}${orNull}`);
  return v;
}
