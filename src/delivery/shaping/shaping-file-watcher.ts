import { stat } from 'node:fs/promises';
import type { Logger } from 'pino';
import type { ShapingConfig } from './shaping-config.js';

/** How often the operator's shaping file is looked at (its modification time and size; reading it only when they change). */
export const SHAPING_FILE_POLL_MS = 5_000;

export interface ShapingFileWatcherDeps {
  file: string;
  /** Reads and merges the files again; throws (ShapingFileError) when the new version cannot be used. */
  load: () => ShapingConfig;
  apply: (config: ShapingConfig) => void;
  /** A version that cannot be used: kept out, and said where the API shows the state. */
  failed: (message: string) => void;
  log: Logger;
  pollMs?: number;
}

/**
 * Re-reads the operator's shaping file when it changes, without a restart. Polling, not fs.watch:
 * editors replace files by rename, configuration management writes through symlinks, and
 * network file systems send no events; a stat every few seconds sees all of them. A version that
 * cannot be used is logged once (`shaping.reload_failed`) and the last good one stays in force;
 * an editor's half-written save is such a version, and the complete one that follows loads.
 */
export class ShapingFileWatcher {
  private timer: NodeJS.Timeout | null = null;
  private seen: string | null = null;
  private checking: Promise<void> | null = null;

  constructor(private readonly d: ShapingFileWatcherDeps) {}

  /** The version there now is the one in force (read at start): only a later change is read. */
  async start(): Promise<void> {
    this.seen = await this.signature();
    this.timer ??= setInterval(() => void this.check(), this.d.pollMs ?? SHAPING_FILE_POLL_MS);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Looks at the file once (the timer calls it; tests may too). */
  check(): Promise<void> {
    this.checking ??= this.checkOnce().finally(() => {
      this.checking = null;
    });
    return this.checking;
  }

  private async checkOnce(): Promise<void> {
    const sig = await this.signature();
    if (sig === this.seen) return;
    this.seen = sig;
    if (sig.startsWith('error:')) {
      const message = `cannot read ${this.d.file}: ${sig.slice('error:'.length)}`;
      this.d.failed(message);
      this.d.log.error(
        { event: 'shaping.reload_failed', file: this.d.file, error: message },
        'the shaping file cannot be used; the last good version stays in force',
      );
      return;
    }
    let config: ShapingConfig;
    try {
      config = this.d.load();
    } catch (err) {
      const message = (err as Error).message;
      this.d.failed(message);
      this.d.log.error(
        { event: 'shaping.reload_failed', file: this.d.file, error: message },
        'the shaping file cannot be used; the last good version stays in force',
      );
      return;
    }
    this.d.apply(config);
    this.d.log.info(
      { event: 'shaping.reloaded', file: this.d.file, providers: config.providers.length, domains: config.domains.size, patterns: config.patterns.length },
      'shaping file reloaded',
    );
  }

  /** What changes when the file does: modification time, size and inode (a file replaced by rename). */
  private async signature(): Promise<string> {
    try {
      const s = await stat(this.d.file);
      return `${s.mtimeMs}:${s.size}:${s.ino}`;
    } catch (err) {
      return `error:${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`;
    }
  }
}
