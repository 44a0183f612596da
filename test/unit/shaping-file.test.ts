import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadShapingConfig, mergeShaping, SHIPPED_SHAPING_FILE } from '../../src/delivery/shaping/shaping-config.js';
import { parseShapingFile, ProblemAt, readShapingFile, ShapingFileError } from '../../src/delivery/shaping/shaping-file.js';

const env = { perDestinationConcurrency: 10, perDestinationRate: 100 };
const dir = mkdtempSync(join(tmpdir(), 'postline-shaping-file-'));
let n = 0;
/** Writes an operator file and returns its path. */
const operatorFile = (content: unknown): string => {
  const file = join(dir, `shaping-${++n}.json`);
  writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
};
const load = (content: unknown, e = env) => loadShapingConfig({ operatorFile: operatorFile(content), ...e });
/** The problem parseShapingFile names for `raw`. */
const refused = (raw: unknown): string => {
  try {
    parseShapingFile(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(ProblemAt);
    return (err as Error).message;
  }
  throw new Error(`accepted ${JSON.stringify(raw)}`);
};

describe('the shipped shaping file (config/shaping.json)', () => {
  it('loads alone; each provider states all its limits and MX patterns; each pattern compiles', () => {
    const raw = JSON.parse(readFileSync(SHIPPED_SHAPING_FILE, 'utf8')) as { providers: Record<string, unknown>[] };
    for (const p of raw.providers) {
      expect(Object.keys(p), String(p.name)).toEqual(expect.arrayContaining(['name', 'mx', 'connections', 'messagesPerConnection', 'perSecond', 'perHour']));
      expect((p.mx as string[]).length, String(p.name)).toBeGreaterThan(0);
    }
    const c = loadShapingConfig({ operatorFile: null, ...env });
    expect(c.providers.map((p) => p.name)).toEqual(raw.providers.map((p) => p.name));
    expect(c.providers.find((p) => p.name === 'google')!.mx).toEqual(['*.google.com', '*.googlemail.com']);
    expect(c.patterns.length).toBeGreaterThanOrEqual(8);
    expect(c.slowDown).toEqual({ initialMs: 60_000, maxMs: 3_600_000, calmMs: 3_600_000, recoveryFactor: 0.5, recoveryMs: 600_000 });
    expect(c.domains.size).toBe(0);
  });

  it("takes the default block's connections and perSecond from POSTLINE_PER_DESTINATION_*", () => {
    expect(loadShapingConfig({ operatorFile: null, ...env }).default).toEqual({ connections: 10, perSecond: 100, messagesPerConnection: 100, perHour: null });
    expect(loadShapingConfig({ operatorFile: null, perDestinationConcurrency: 3, perDestinationRate: 7 }).default).toMatchObject({
      connections: 3,
      perSecond: 7,
    });
    // An operator's default block wins over the settings, but for the rate: the per-destination limiter keeps that one.
    expect(load({ default: { connections: 4, perHour: 1000 } }).default).toEqual({ connections: 4, perSecond: 100, messagesPerConnection: 100, perHour: 1000 });
    expect(() => load({ default: { perSecond: 2.5 } })).toThrow(/default\.perSecond is POSTLINE_PER_DESTINATION_RATE: set that instead/);
  });
});

describe("an operator's shaping file merged over the shipped one", () => {
  it('changes a shipped provider field by field, puts its own providers first, removes one with enabled: false', () => {
    const c = load({
      providers: [
        { name: 'google-workspace-eu', mx: ['aspmx.l.google.com'], connections: 2 },
        { name: 'google', perSecond: 5 },
        { name: 'qq', enabled: false },
      ],
    });
    expect(c.providers.slice(0, 3).map((p) => p.name)).toEqual(['google-workspace-eu', 'google', 'microsoft']);
    expect(c.providers.some((p) => p.name === 'qq')).toBe(false);
    // Fields the operator left out: the shipped provider's for a shipped one, the default block's for a new one.
    expect(c.providers[1]).toEqual({
      name: 'google',
      mx: ['*.google.com', '*.googlemail.com'],
      limits: { connections: 10, messagesPerConnection: 100, perSecond: 5, perHour: null },
    });
    expect(c.providers[0]!.limits).toEqual({ connections: 2, messagesPerConnection: 100, perSecond: 100, perHour: null });
  });

  it('adds recipient domains, patterns (first) and backoff settings; a shipped pattern can be switched off', () => {
    const c = load({
      domains: { 'Example.COM.': { perHour: 500 }, 'b.example': { connections: 1, messagesPerConnection: 5 } },
      slowDown: {
        backoff: { initialSeconds: 5 },
        recovery: { seconds: 0 },
        patterns: [
          { id: 'our-isp', match: '\\bslow down please\\b', action: 'slow' },
          { id: 'rate-limited', enabled: false },
        ],
      },
    });
    expect([...c.domains]).toEqual([
      ['example.com', { perHour: 500 }],
      ['b.example', { connections: 1, messagesPerConnection: 5 }],
    ]);
    expect(c.patterns[0]).toMatchObject({ id: 'our-isp', action: 'slow', source: '\\bslow down please\\b' });
    expect(c.patterns.some((p) => p.id === 'rate-limited')).toBe(false);
    expect(c.patterns.some((p) => p.id === 'gmail-unusual-rate')).toBe(true);
    expect(c.slowDown).toMatchObject({ initialMs: 5_000, maxMs: 3_600_000, recoveryMs: 0 });
  });

  it('refuses a provider or pattern of its own that lacks mx or match, naming the file', () => {
    expect(() => load({ providers: [{ name: 'mine', connections: 1 }] })).toThrow(
      /POSTLINE_SHAPING_FILE: .*shaping-\d+\.json: provider "mine" has no mx patterns/,
    );
    expect(() => load({ slowDown: { patterns: [{ id: 'mine', action: 'slow' }] } })).toThrow(/slow-down pattern "mine" has no match/);
    expect(() => load({ slowDown: { backoff: { initialSeconds: 7200 } } })).toThrow(/maxSeconds is less than initialSeconds/);
  });

  it('refuses a file that is missing or not JSON, with the setting and the file name', () => {
    expect(() => loadShapingConfig({ operatorFile: join(dir, 'missing.json'), ...env })).toThrow(
      /^POSTLINE_SHAPING_FILE: .*missing\.json: cannot read: ENOENT/,
    );
    const broken = operatorFile('{"providers": [');
    expect(() => loadShapingConfig({ operatorFile: broken, ...env })).toThrow(ShapingFileError);
    expect(() => loadShapingConfig({ operatorFile: broken, ...env })).toThrow(/^POSTLINE_SHAPING_FILE: .*shaping-\d+\.json: not JSON/);
    expect(() => load({ providers: [{ name: 'google', perSecnd: 5 }] })).toThrow(
      /^POSTLINE_SHAPING_FILE: .*: providers\[0\] \("google"\): unknown field "perSecnd"/,
    );
    // The shipped file's own problems say so.
    const shipped = operatorFile({ provider: [] });
    expect(() => loadShapingConfig({ operatorFile: null, shippedFile: shipped, ...env })).toThrow(
      /^shipped shaping file: .*: the file: unknown field "provider"/,
    );
    expect(() => readShapingFile(join(dir, 'nope.json'))).toThrow(/cannot read/);
  });
});

describe('every field of a shaping file is checked', () => {
  it('refuses a wrong shape, naming the place', () => {
    expect(refused([])).toBe('the file must be a JSON object');
    expect(refused({ providers: {} })).toBe('providers must be a JSON array');
    expect(refused({ $comment: 5 })).toBe('the file.$comment must be a string or a list of strings');
    expect(refused({ default: { connections: 1, colour: 'red' } })).toMatch(/^default: unknown field "colour"/);
    expect(refused({ default: 'fast' })).toBe('default must be a JSON object');
  });

  it('refuses bad providers', () => {
    expect(refused({ providers: [{ name: 'Google' }] })).toBe('providers[0].name must be lower-case letters, digits and dashes');
    expect(refused({ providers: [{ mx: [] }] })).toBe('providers[0].name must be lower-case letters, digits and dashes');
    expect(
      refused({
        providers: [
          { name: 'a', mx: [] },
          { name: 'a', mx: [] },
        ],
      }),
    ).toBe('providers: "a" is named twice');
    expect(refused({ providers: [{ name: 'a', mx: '*.a.example' }] })).toBe('providers[0] ("a").mx must be a JSON array');
    expect(refused({ providers: [{ name: 'a', mx: [5] }] })).toBe('providers[0] ("a").mx[0] must be a string');
    for (const bad of ['*', '*.com', 'mx .example.com', 'http://mx.example.com', '*.-a.example']) {
      expect(refused({ providers: [{ name: 'a', mx: [bad] }] })).toMatch(/^providers\[0\] \("a"\)\.mx\[0\]: ".*" is neither a host name/);
    }
    expect(refused({ providers: [{ name: 'a', enabled: 'no' }] })).toBe('providers[0] ("a").enabled must be true or false');
  });

  it('refuses limits out of range or of the wrong type', () => {
    const limit = (v: Record<string, unknown>) => refused({ providers: [{ name: 'a', mx: ['mx.a.example'], ...v }] });
    expect(limit({ connections: 0 })).toBe('providers[0] ("a").connections must be a whole number from 1 to 1000');
    expect(limit({ connections: 1.5 })).toMatch(/connections must be a whole number/);
    expect(limit({ connections: null })).toMatch(/connections must be a whole number/);
    expect(limit({ messagesPerConnection: 0 })).toMatch(/messagesPerConnection must be a whole number from 1/);
    expect(limit({ perSecond: 0 })).toBe('providers[0] ("a").perSecond must be a number more than 0 and at most 1000000 or null');
    expect(limit({ perSecond: '10' })).toMatch(/perSecond must be a number/);
    expect(limit({ perSecond: Number.NaN })).toMatch(/perSecond must be a number/);
    expect(limit({ perHour: -1 })).toBe('providers[0] ("a").perHour must be a whole number from 1 to 1000000000 or null');
    expect(limit({ perHour: 10.5 })).toMatch(/perHour must be a whole number/);
    // null means "no limit" for the rates
    expect(parseShapingFile({ providers: [{ name: 'a', mx: ['mx.a.example'], perSecond: null, perHour: null }] }).providers[0]!.limits).toEqual({
      perSecond: null,
      perHour: null,
    });
  });

  it('refuses bad recipient domains', () => {
    expect(refused({ domains: [] })).toBe('domains must be a JSON object');
    expect(refused({ domains: { localhost: { perHour: 1 } } })).toBe('domains["localhost"]: "localhost" is not a domain name');
    expect(refused({ domains: { 'a.example': {} } })).toBe('domains["a.example"]: give at least one of connections, messagesPerConnection, perSecond, perHour');
    expect(refused({ domains: { 'a.example': { perHour: 1 }, 'A.example': { perHour: 2 } } })).toBe('domains["A.example"]: a.example is given twice');
    expect(refused({ domains: { 'a.example': { mx: ['x'] } } })).toMatch(/^domains\["a.example"\]: unknown field "mx"/);
    expect(refused({ domains: { 'a.example': 5 } })).toBe('domains["a.example"] must be a JSON object');
  });

  it('refuses bad slow-down settings and patterns', () => {
    expect(refused({ slowDown: { pause: 1 } })).toMatch(/^slowDown: unknown field "pause"/);
    expect(refused({ slowDown: { backoff: { initialSeconds: 0 } } })).toBe('slowDown.backoff.initialSeconds must be a number more than 0 and at most 604800');
    expect(refused({ slowDown: { backoff: { initialSeconds: 60, maxSeconds: 30 } } })).toBe('slowDown.backoff: maxSeconds is less than initialSeconds');
    expect(refused({ slowDown: { backoff: { doubling: true } } })).toMatch(/^slowDown.backoff: unknown field "doubling"/);
    expect(refused({ slowDown: { recovery: { rateFactor: 2 } } })).toBe('slowDown.recovery.rateFactor must be a number more than 0 and at most 1');
    expect(refused({ slowDown: { recovery: { seconds: -1 } } })).toBe('slowDown.recovery.seconds must be a number at least 0 and at most 604800');
    expect(refused({ slowDown: { patterns: {} } })).toBe('slowDown.patterns must be a JSON array');
    expect(refused({ slowDown: { patterns: [{ id: 'Bad Id', match: 'x' }] } })).toBe(
      'slowDown.patterns[0].id must be lower-case letters, digits, dots and dashes',
    );
    expect(
      refused({
        slowDown: {
          patterns: [
            { id: 'a', match: 'x' },
            { id: 'a', match: 'y' },
          ],
        },
      }),
    ).toBe('slowDown.patterns: "a" is given twice');
    expect(refused({ slowDown: { patterns: [{ id: 'a', match: '(unclosed' }] } })).toMatch(
      /^slowDown.patterns\[0\] \("a"\)\.match is not a regular expression: /,
    );
    expect(refused({ slowDown: { patterns: [{ id: 'a', match: '' }] } })).toBe('slowDown.patterns[0] ("a").match must be a regular expression in a string');
    expect(refused({ slowDown: { patterns: [{ id: 'a', match: 'x*' }] } })).toBe(
      'slowDown.patterns[0] ("a").match matches an empty reply, so it would match every reply',
    );
    expect(refused({ slowDown: { patterns: [{ id: 'a', match: 'x'.repeat(501) }] } })).toBe('slowDown.patterns[0] ("a").match is longer than 500 characters');
    expect(refused({ slowDown: { patterns: [{ id: 'a', match: 'x', action: 'stop' }] } })).toBe(
      'slowDown.patterns[0] ("a").action must be "suspend" or "slow"',
    );
    expect(refused({ slowDown: { patterns: [{ id: 'a', match: 'x', why: 'y' }] } })).toMatch(/unknown field "why"/);
  });

  it('takes $comment as a string or a list of strings anywhere', () => {
    const layer = parseShapingFile({
      $comment: ['a', 'b'],
      default: { $comment: 'c', perHour: 5 },
      providers: [{ name: 'a', $comment: 'd', mx: ['MX.A.example.'] }],
      slowDown: { $comment: 'e', patterns: [{ id: 'p', $comment: 'f', match: 'x' }] },
    });
    expect(layer.providers[0]!.mx).toEqual(['mx.a.example']);
    expect(layer.default).toEqual({ perHour: 5 });
  });

  it('merges layers without a file (mergeShaping)', () => {
    const shipped = parseShapingFile({ providers: [{ name: 'a', mx: ['*.a.example'], connections: 2 }] });
    const c = mergeShaping(shipped, null, env);
    expect(c.providers).toEqual([{ name: 'a', mx: ['*.a.example'], limits: { connections: 2, perSecond: 100, messagesPerConnection: 100, perHour: null } }]);
  });
});
