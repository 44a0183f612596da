import type { SlowDownSettings } from './shaping-config.js';
import type { ShapingLimits, SlowDownAction } from './shaping-file.js';

/**
 * What the shaper shows of itself (TrafficShaper.view): the limits in force and the state of each
 * provider in this process. Times are epoch milliseconds; the API turns them into ISO strings.
 */
export interface GateStateView {
  /** Sends under way now (each on a connection of its own). */
  sending: number;
  /** Sends waiting for one of the provider's connections. */
  waiting: number;
  /** Connections open to it now, busy or idle. */
  connectionsOpen: number;
  /** The pacing rate in force: perSecond, or less while recovering from a slow-down; null: not paced. */
  perSecondNow: number | null;
  slowedUntil: number | null;
  sentLastHour: number;
  /** Replies that asked to slow down, since this process started. */
  slowDowns: number;
  lastSlowDown: { at: number; sourceIp: string; reply: string; patternId: string } | null;
  suspensions: { sourceIp: string; since: number; until: number; reply: string; pattern: string }[];
}

export interface ShapingView {
  file: string | null;
  loadedAt: number;
  reloadError: { at: number; message: string } | null;
  default: ShapingLimits;
  providers: { name: string; mx: readonly string[]; limits: ShapingLimits; state: GateStateView }[];
  /** Destinations of no known provider that asked to slow down (each has the default limits on its own). */
  destinations: { hosts: string; limits: ShapingLimits; state: GateStateView }[];
  domains: { domain: string; limits: Partial<ShapingLimits>; sending: number; sentLastHour: number }[];
  slowDown: SlowDownSettings;
  patterns: { id: string; match: string; action: SlowDownAction }[];
}
