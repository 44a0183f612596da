import { fileURLToPath } from 'node:url';
import { ShapingFileError, readShapingFile, type ShapingFileLayer, type ShapingLimits, type SlowDownAction } from './shaping-file.js';

/**
 * The traffic shaping that applies: the shipped file (config/shaping.json), the operator's file
 * (POSTLINE_SHAPING_FILE) merged over it, and POSTLINE_PER_DESTINATION_CONCURRENCY / _RATE for
 * what the default block leaves open, so those settings keep meaning what they meant before there
 * were providers: the limits of one destination no provider claims.
 */

/** config/shaping.json: three levels up from src/delivery/shaping and from dist/delivery/shaping alike. */
export const SHIPPED_SHAPING_FILE = fileURLToPath(new URL('../../../config/shaping.json', import.meta.url));

export interface ProviderShaping {
  name: string;
  /** Host patterns, lower case: `*.google.com` or one exact host name (or address). */
  mx: readonly string[];
  limits: ShapingLimits;
}

export interface SlowDownPattern {
  id: string;
  source: string;
  match: RegExp;
  action: SlowDownAction;
}

export interface SlowDownSettings {
  /** The first suspension; each repeat within calmMs of the last release doubles it, up to maxMs. */
  initialMs: number;
  maxMs: number;
  /** Each full calm period (no slow-down reply since the last release) halves the next suspension again. */
  calmMs: number;
  /** After a release (or a `slow` reply): perSecond times this, for recoveryMs. */
  recoveryFactor: number;
  recoveryMs: number;
}

export interface ShapingConfig {
  default: ShapingLimits;
  /** In the order they are tried: the first whose patterns match one of a destination's MX hosts. */
  providers: readonly ProviderShaping[];
  /** Recipient domain -> its own limits, which apply besides its provider's (only those given). */
  domains: ReadonlyMap<string, Partial<ShapingLimits>>;
  patterns: readonly SlowDownPattern[];
  slowDown: SlowDownSettings;
}

export interface ShapingSources {
  /** POSTLINE_SHAPING_FILE, or null for the shipped file alone. */
  operatorFile: string | null;
  perDestinationConcurrency: number;
  perDestinationRate: number;
  /** Tests only: another shipped file. */
  shippedFile?: string;
}

/** Reads both files and merges them; throws ShapingFileError naming the file and the problem. */
export function loadShapingConfig(src: ShapingSources): ShapingConfig {
  const shippedFile = src.shippedFile ?? SHIPPED_SHAPING_FILE;
  const shipped = readShapingFile(shippedFile, 'shipped shaping file');
  const operator = src.operatorFile === null ? null : readShapingFile(src.operatorFile);
  try {
    return mergeShaping(shipped, operator, src);
  } catch (err) {
    if (err instanceof MergeProblem)
      throw new ShapingFileError(src.operatorFile ?? shippedFile, err.message, src.operatorFile ? undefined : 'shipped shaping file');
    throw err;
  }
}

class MergeProblem extends Error {}

/**
 * The operator's layer over the shipped one. Providers and patterns the operator names come first,
 * in the operator's order, each changed field by field from the shipped one of the same name (or
 * id), so an operator can also put a narrower provider before a shipped one; then the shipped
 * ones the operator did not name. `enabled: false` removes one.
 */
export function mergeShaping(
  shipped: ShapingFileLayer,
  operator: ShapingFileLayer | null,
  env: Pick<ShapingSources, 'perDestinationConcurrency' | 'perDestinationRate'>,
): ShapingConfig {
  const fromEnv: ShapingLimits = { connections: env.perDestinationConcurrency, perSecond: env.perDestinationRate, messagesPerConnection: 100, perHour: null };
  const defaults: ShapingLimits = { ...fromEnv, ...shipped.default, ...operator?.default };

  const shippedProviders = new Map(shipped.providers.map((p) => [p.name, p]));
  const providerOrder = [...(operator?.providers ?? []), ...shipped.providers.filter((p) => !operator?.providers.some((o) => o.name === p.name))];
  const providers: ProviderShaping[] = [];
  for (const p of providerOrder) {
    const base = shippedProviders.get(p.name);
    const own = operator?.providers.find((o) => o.name === p.name);
    if (!(own?.enabled ?? base?.enabled ?? true)) continue;
    const mx = own?.mx ?? base?.mx;
    if (!mx) throw new MergeProblem(`provider "${p.name}" has no mx patterns`);
    providers.push({ name: p.name, mx, limits: { ...defaults, ...base?.limits, ...own?.limits } });
  }

  const domains = new Map(shipped.domains);
  for (const [d, limits] of operator?.domains ?? []) domains.set(d, { ...domains.get(d), ...limits });

  const shippedPatterns = new Map(shipped.patterns.map((p) => [p.id, p]));
  const patternOrder = [...(operator?.patterns ?? []), ...shipped.patterns.filter((p) => !operator?.patterns.some((o) => o.id === p.id))];
  const patterns: SlowDownPattern[] = [];
  for (const p of patternOrder) {
    const base = shippedPatterns.get(p.id);
    const own = operator?.patterns.find((o) => o.id === p.id);
    if (!(own?.enabled ?? base?.enabled ?? true)) continue;
    const match = own?.match ?? base?.match;
    const source = own?.source ?? base?.source;
    if (!match || !source) throw new MergeProblem(`slow-down pattern "${p.id}" has no match`);
    patterns.push({ id: p.id, source, match, action: own?.action ?? base?.action ?? 'suspend' });
  }

  const backoff = { initialSeconds: 60, maxSeconds: 3600, calmSeconds: 3600, ...shipped.backoff, ...operator?.backoff };
  if (backoff.maxSeconds < backoff.initialSeconds) throw new MergeProblem('slowDown.backoff: maxSeconds is less than initialSeconds');
  const recovery = { rateFactor: 0.5, seconds: 600, ...shipped.recovery, ...operator?.recovery };
  return {
    default: defaults,
    providers,
    domains,
    patterns,
    slowDown: {
      initialMs: backoff.initialSeconds * 1000,
      maxMs: backoff.maxSeconds * 1000,
      calmMs: backoff.calmSeconds * 1000,
      recoveryFactor: recovery.rateFactor,
      recoveryMs: recovery.seconds * 1000,
    },
  };
}
