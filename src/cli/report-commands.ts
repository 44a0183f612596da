import type { Store } from '../store/store.js';
import { printJson, UsageError } from './output.js';
import { positiveInt } from './tenancy-commands.js';

type Flags = Record<string, string | boolean | undefined>;

const USAGE = 'usage: postline reports rebuild [--server ID] [--json]';

/**
 * `postline reports rebuild [--server ID]`: recomputes the statistics rollups from the events
 * table (after upgrading a database that has events from before migration 12, or to check the
 * live counters). One transaction: on SQLite other writers wait until it is done.
 */
export async function reportsCommand(store: Store, verb: string | undefined, flags: Flags, clock: () => number = Date.now): Promise<void> {
  if (verb !== 'rebuild') throw new UsageError(USAGE);
  let serverId: number | null = null;
  if (flags.server !== undefined) {
    serverId = positiveInt(flags.server, 'server');
    if (!(await store.tenancy.getServer(serverId))) throw new UsageError(`server ${serverId} does not exist`);
  }
  const started = clock();
  const { events } = await store.reports.rebuildRollups(serverId);
  const ms = clock() - started;
  if (flags.json) printJson({ serverId, events, ms });
  else
    process.stdout.write(
      `rebuilt the statistics of ${serverId === null ? 'every server' : `server ${serverId}`} from ${events} events in ${(ms / 1000).toFixed(1)} s\n`,
    );
}
