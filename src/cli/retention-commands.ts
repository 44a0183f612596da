import type { Config } from '../config/load.js';
import type { Store } from '../store/store.js';
import { createLogger } from '../core/log.js';
import { runRetentionPass, RETENTION_KINDS } from '../retention/pass.js';
import { printJson, UsageError } from './output.js';

/**
 * `postline retention run`: one retention pass now, with the configured ages, on the configured
 * store (beside a running server too: its batches are as small as the background job's).
 */
export async function retentionCommand(store: Store, cfg: Config, verb: string | undefined, values: { json?: boolean }): Promise<void> {
  if (verb !== 'run') throw new UsageError('usage: postline retention run [--json]');
  const result = await runRetentionPass(
    { store, log: createLogger(values.json ? 'silent' : 'warn'), now: Date.now },
    { bodyDays: cfg.retentionBodyDays, inboundDays: cfg.retentionInboundDays, eventDays: cfg.retentionEventDays },
  );
  if (values.json) return printJson(result);
  const lines = RETENTION_KINDS.map((k) => `  ${k.padEnd(20)} ${result.removed[k]}`);
  process.stdout.write(
    `retention pass finished in ${result.durationMs} ms (bodies ${cfg.retentionBodyDays} d, inbound ${cfg.retentionInboundDays} d, events ${cfg.retentionEventDays} d)\nrows removed:\n${lines.join('\n')}\npages freed: ${result.pagesFreed}\n`,
  );
}
