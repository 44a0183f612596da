import { Pacer } from '../rate-limiter.js';
import { HourWindow } from './hour-window.js';
import { Slots } from './slots.js';

/**
 * The counters one set of limits needs, for a provider or a recipient domain: sends under way
 * (the connection cap), the pacing of messages per second (the existing Pacer, rebuilt when the
 * rate changes: a reload, or a recovery after a slow-down) and the messages of the last hour.
 */
export class Throttle {
  readonly sending = new Slots();
  private pacer: Pacer | null = null;
  private pacerRate: number | null = null;
  private hour: HourWindow | null = null;

  /** Takes the next pacing slot at `perSecond`: 0 when it is free now, else the milliseconds until it. */
  reserve(perSecond: number | null): number {
    if (perSecond === null) return 0;
    if (perSecond !== this.pacerRate) {
      this.pacer = new Pacer(perSecond);
      this.pacerRate = perSecond;
    }
    return this.pacer!.reserve();
  }

  /** Messages counted in the last hour (0 until the first is counted). */
  sentLastHour(now: number): number {
    return this.hour?.count(now) ?? 0;
  }

  count(now: number): void {
    (this.hour ??= new HourWindow()).add(now);
  }

  /** When another message fits under `perHour` (`now` if one does now). */
  roomAt(now: number, perHour: number): number {
    return this.hour?.roomAt(now, perHour) ?? now;
  }

  /** Nothing under way or waiting: the state can be forgotten. */
  get idle(): boolean {
    return this.sending.active === 0 && this.sending.waiting === 0;
  }
}
