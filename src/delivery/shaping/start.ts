import type { Logger } from 'pino';
import type { SharedPacing } from '../shared-rate-limiter.js';
import { loadShapingConfig, type ShapingConfig } from './shaping-config.js';
import { ShapingFileWatcher } from './shaping-file-watcher.js';
import { TrafficShaper, type ShapingMetrics } from './traffic-shaper.js';

/** The settings traffic shaping reads (a slice of Config). */
export interface ShapingSettings {
  shaping: 'on' | 'off';
  shapingFile: string | null;
  relayHost: string | null;
  perDestinationConcurrency: number;
  perDestinationRate: number;
}

/**
 * The shaping configuration the delivery role starts with, or null when shaping does not apply
 * (POSTLINE_SHAPING=off, or POSTLINE_RELAY_HOST: the smart host shapes its own traffic, as the
 * per-destination rate was never applied to it). Throws ShapingFileError naming the file and the
 * problem: a broken file stops the start, before anything else has started.
 */
export function initialShapingConfig(s: ShapingSettings): ShapingConfig | null {
  if (s.shaping === 'off' || s.relayHost !== null) return null;
  return loadShapingConfig({ operatorFile: s.shapingFile, perDestinationConcurrency: s.perDestinationConcurrency, perDestinationRate: s.perDestinationRate });
}

export interface RunningShaping {
  shaper: TrafficShaper;
  /** Watches the operator's file; null without one. */
  watcher: ShapingFileWatcher | null;
  stop(): void;
}

/** Starts the shaper (its release sweep) and, with an operator's file, the watcher that reloads it. */
export async function startShaping(d: {
  config: ShapingConfig;
  settings: ShapingSettings;
  log: Logger;
  now: () => number;
  metrics?: ShapingMetrics;
  pollMs?: number;
  /** Pacing shared by the processes of one PostgreSQL (absent: per process). */
  sharedPacing?: SharedPacing | null;
}): Promise<RunningShaping> {
  const file = d.settings.shapingFile;
  const shaper = new TrafficShaper({ config: d.config, log: d.log, now: d.now, metrics: d.metrics, file, sharedPacing: d.sharedPacing ?? null });
  shaper.start();
  let watcher: ShapingFileWatcher | null = null;
  if (file !== null) {
    watcher = new ShapingFileWatcher({
      file,
      load: () =>
        loadShapingConfig({
          operatorFile: file,
          perDestinationConcurrency: d.settings.perDestinationConcurrency,
          perDestinationRate: d.settings.perDestinationRate,
        }),
      apply: (c) => shaper.apply(c),
      failed: (message) => shaper.reloadFailed(message),
      log: d.log,
      pollMs: d.pollMs,
    });
    await watcher.start();
  }
  d.log.info(
    { event: 'shaping.loaded', file, providers: d.config.providers.length, domains: d.config.domains.size, patterns: d.config.patterns.length },
    'traffic shaping on',
  );
  return {
    shaper,
    watcher,
    stop() {
      watcher?.stop();
      shaper.stop();
    },
  };
}
