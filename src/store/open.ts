import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Config } from '../config/load.js';
import type { Store } from './store.js';

/**
 * Opens (and migrates) the store the configuration names: PostgreSQL for a postgres:// URL, else
 * SQLite at <dataDir>/postline.db. `log` hears of SQLite checkpoints that fail. `shortLived` (a CLI
 * command) leaves SQLite's checkpoints in its commits rather than starting the checkpoint thread.
 */
export async function openStore(
  cfg: Pick<Config, 'databaseUrl' | 'dataDir' | 'databasePoolSize'>,
  log?: Logger,
  opts: { shortLived?: boolean } = {},
): Promise<Store> {
  // Each driver is loaded only when used: a CLI command on SQLite never loads pg, and the other way round.
  const store: Store = cfg.databaseUrl
    ? new (await import('./postgres/postgres-store.js')).PostgresStore(cfg.databaseUrl, cfg.databasePoolSize)
    : new (await import('./sqlite/sqlite-store.js')).SqliteStore(join(resolve(cfg.dataDir), 'postline.db'), {
        backgroundCheckpoints: !opts.shortLived,
        onCheckpointError: (error) =>
          log?.error({ event: 'store.checkpoint_failed', error }, 'SQLite WAL checkpoint failed: the WAL grows until one succeeds (committed data is safe)'),
      });
  try {
    await store.migrate();
  } catch (err) {
    await store.close().catch(() => undefined);
    throw err;
  }
  return store;
}
