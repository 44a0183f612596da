import type { Logger } from 'pino';
import { describe, expect, it } from 'vitest';
import { backoffMs, nextLevel } from '../../src/delivery/shaping/backoff.js';
import { HourWindow } from '../../src/delivery/shaping/hour-window.js';
import { mergeShaping, type ShapingConfig } from '../../src/delivery/shaping/shaping-config.js';
import { parseShapingFile } from '../../src/delivery/shaping/shaping-file.js';
import { ShapingTicket, TrafficShaper } from '../../src/delivery/shaping/traffic-shaper.js';

const MIN = 60_000;
const T0 = Date.UTC(2030, 0, 1);

describe('the hourly window (sixty one-minute buckets)', () => {
  it('counts the last hour, forgets what is older, says when there is room again', () => {
    const w = new HourWindow();
    w.add(T0);
    w.add(T0 + 10 * MIN, 2);
    w.add(T0 + 59 * MIN);
    expect(w.count(T0 + 59 * MIN)).toBe(4);
    expect(w.count(T0 + 60 * MIN)).toBe(3); // T0's minute has left the window
    expect(w.count(T0 + 70 * MIN)).toBe(1);
    expect(w.count(T0 + 200 * MIN)).toBe(0);
    // At 59 min with a limit of 4: full; the first message's minute leaves at 60 min.
    expect(w.roomAt(T0 + 59 * MIN, 4)).toBe(T0 + 60 * MIN);
    // With a limit of 2 both the first minute and the 10th must leave (the 10th at the start of minute 70).
    expect(w.roomAt(T0 + 59 * MIN, 2)).toBe(T0 + 70 * MIN);
    expect(w.roomAt(T0 + 59 * MIN, 5)).toBe(T0 + 59 * MIN);
    // A bucket is reused for its minute of the next hour, starting empty.
    w.add(T0 + 120 * MIN);
    expect(w.count(T0 + 120 * MIN)).toBe(1);
  });
});

describe('the suspension backoff', () => {
  const s = { initialMs: MIN, maxMs: 60 * MIN, calmMs: 60 * MIN };
  it('doubles while the provider keeps asking, up to the cap, and halves per calm hour', () => {
    expect(nextLevel(null, T0, s)).toBe(0);
    expect(backoffMs(0, s)).toBe(MIN);
    expect(nextLevel({ level: 0, releasedAt: T0 }, T0 + 5 * MIN, s)).toBe(1);
    expect(backoffMs(1, s)).toBe(2 * MIN);
    expect(nextLevel({ level: 5, releasedAt: T0 }, T0 + MIN, s)).toBe(6);
    expect(backoffMs(6, s)).toBe(60 * MIN); // 64 min capped at an hour
    expect(nextLevel({ level: 6, releasedAt: T0 }, T0 + MIN, s)).toBe(6); // no level beyond the cap
    expect(nextLevel({ level: 4, releasedAt: T0 }, T0 + 61 * MIN, s)).toBe(3);
    expect(nextLevel({ level: 4, releasedAt: T0 }, T0 + 200 * MIN, s)).toBe(1);
    expect(nextLevel({ level: 1, releasedAt: T0 }, T0 + 600 * MIN, s)).toBe(0);
  });
});

/** A shaper on a clock the test moves, with its log lines and metrics calls kept. */
function shaperWith(file: unknown) {
  const clock = { now: T0 };
  const logged: Record<string, unknown>[] = [];
  const log = { info: (o: Record<string, unknown>) => logged.push(o), warn: (o: Record<string, unknown>) => logged.push(o) } as unknown as Logger;
  const gauge = new Map<string, number>();
  const slowDowns = new Map<string, number>();
  const config: ShapingConfig = mergeShaping(parseShapingFile(file), null, { perDestinationConcurrency: 3, perDestinationRate: 1000 });
  const shaper = new TrafficShaper({
    config,
    log,
    now: () => clock.now,
    random: () => 0.5,
    metrics: {
      shapingSuspended: (p, ip, n) => gauge.set(`${p} ${ip}`, n),
      shapingSlowDown: (p) => slowDowns.set(p, (slowDowns.get(p) ?? 0) + 1),
    },
  });
  return { clock, logged, gauge, slowDowns, shaper, config };
}

const FILE = {
  providers: [{ name: 'big', mx: ['*.big.example'], connections: 2, messagesPerConnection: 3, perSecond: 1000, perHour: null }],
  domains: { 'hourly.example': { perHour: 2 } },
  slowDown: {
    backoff: { initialSeconds: 60, maxSeconds: 3600, calmSeconds: 3600 },
    recovery: { rateFactor: 0.5, seconds: 600 },
    patterns: [
      { id: 'stop', match: '\\b421[ -]4\\.7\\.28\\b' },
      { id: 'easy', match: '\\bgo slower\\b', action: 'slow' },
    ],
  },
};
const BIG = [{ host: 'mx1.big.example', port: 25 }];
const BIG2 = [{ host: 'mx2.big.example', port: 25 }];
const OTHER = [{ host: 'mx.other.example', port: 25 }];

describe('the traffic shaper', () => {
  it('suspends a provider for the sending IP on a slow-down reply, holds its recipients, and releases it by itself', () => {
    const { clock, logged, gauge, slowDowns, shaper } = shaperWith(FILE);
    const gate = shaper.gateFor(BIG);
    expect(shaper.gateFor(BIG2)).toBe(gate); // two destinations, one provider
    shaper.observe(gate, '250 2.0.0 OK', '192.0.2.7', clock.now); // not a slow-down: only the IP is learnt
    expect(shaper.holdFor(BIG, 'a.example', clock.now)).toBeNull();
    shaper.observe(gate, '421 4.7.28 [192.0.2.7 15] Our system has detected an unusual rate of unsolicited mail', '192.0.2.7', clock.now);
    const hold = shaper.holdFor(BIG2, 'b.example', clock.now)!;
    expect(hold).toMatchObject({
      since: T0 + MIN,
      until: T0 + MIN,
      jitter: 0.5,
      classification: { permanent: false, failureCode: 1006, enhancedStatus: '4.7.28' },
    });
    expect(hold.reason).toBe(
      'held by traffic shaping: big asked 192.0.2.7 to slow down (421 4.7.28 [192.0.2.7 15] Our system has detected an unusual rate of unsolicited mail); nothing is sent to it until 2030-01-01T00:01:00.000Z',
    );
    // Another provider, and an unknown destination, go on.
    expect(shaper.holdFor(OTHER, 'other.example', clock.now)).toBeNull();
    expect(gauge.get('big 192.0.2.7')).toBe(1);
    expect(slowDowns.get('big')).toBe(1);
    expect(logged.find((l) => l.event === 'shaping.suspended')).toMatchObject({
      provider: 'big',
      sourceIp: '192.0.2.7',
      pattern: 'stop',
      until: '2030-01-01T00:01:00.000Z',
      backoffMs: MIN,
    });
    // Replies of sends already under way say nothing new: counted, not escalated.
    shaper.observe(gate, '421 4.7.28 again', '192.0.2.7', clock.now + 1000);
    expect(slowDowns.get('big')).toBe(2);
    expect(gate.suspensions.get('192.0.2.7')!.until).toBe(T0 + MIN);

    clock.now = T0 + MIN;
    shaper.sweep(clock.now);
    expect(shaper.holdFor(BIG, 'a.example', clock.now)).toBeNull();
    expect(gauge.get('big 192.0.2.7')).toBe(0);
    expect(logged.find((l) => l.event === 'shaping.released')).toMatchObject({ provider: 'big', sourceIp: '192.0.2.7', suspendedMs: MIN });
    // Released at half its rate for the recovery time, then at its own again.
    expect(gate.perSecondAt(clock.now, 0.5)).toBe(500);
    expect(gate.perSecondAt(T0 + 11 * MIN, 0.5)).toBe(1000);

    // Asked again soon after: twice as long. After a calm hour: back down.
    shaper.observe(gate, '421-4.7.28 unusual rate', '192.0.2.7', T0 + 5 * MIN);
    expect(gate.suspensions.get('192.0.2.7')!.until).toBe(T0 + 7 * MIN);
    clock.now = T0 + 7 * MIN;
    shaper.sweep(clock.now);
    shaper.observe(gate, '421-4.7.28 unusual rate', '192.0.2.7', T0 + 7 * MIN + 2 * 60 * MIN);
    expect(gate.suspensions.get('192.0.2.7')!.until - (T0 + 7 * MIN + 2 * 60 * MIN)).toBe(MIN);
  });

  it('a greeting refusal has no local address: the IP last seen for the provider is the one suspended', () => {
    const { clock, shaper } = shaperWith(FILE);
    const gate = shaper.gateFor(BIG);
    shaper.observe(gate, null, '192.0.2.9', clock.now);
    shaper.observe(gate, 'mx1.big.example:25: refused at greeting: 421 4.7.28 slow down', null, clock.now);
    expect([...gate.suspensions.keys()]).toEqual(['192.0.2.9']);
    const fresh = shaper.gateFor(OTHER);
    shaper.observe(fresh, 'refused at greeting: 421-4.7.28 go away', null, clock.now);
    expect([...fresh.suspensions.keys()]).toEqual(['unknown']);
  });

  it("a 'slow' reply halves the provider's rate for a while without suspending it", () => {
    const { clock, logged, shaper } = shaperWith(FILE);
    const gate = shaper.gateFor(BIG);
    shaper.observe(gate, '450 4.2.1 please go slower', '192.0.2.7', clock.now);
    expect(shaper.holdFor(BIG, 'a.example', clock.now)).toBeNull();
    expect(gate.perSecondAt(clock.now, 0.5)).toBe(500);
    expect(logged.map((l) => l.event)).toEqual(['shaping.slowed']);
    const v = shaper.view().providers[0]!.state;
    expect(v).toMatchObject({ perSecondNow: 500, slowedUntil: T0 + 10 * MIN, slowDowns: 1, suspensions: [] });
  });

  it('holds a recipient domain at its hourly limit, with the time there is room again', async () => {
    const { clock, shaper } = shaperWith(FILE);
    for (let i = 0; i < 2; i++) {
      const t = await shaper.admit(OTHER, `u${i}@hourly.example`);
      expect(t).toBeInstanceOf(ShapingTicket);
      expect((t as ShapingTicket).ready()).toBeNull();
      (t as ShapingTicket).done();
    }
    const held = await shaper.admit(OTHER, 'u3@Hourly.Example');
    expect(held).not.toBeInstanceOf(ShapingTicket);
    expect(held).toMatchObject({
      since: T0 + 60 * MIN,
      classification: { failureCode: 1006 },
      reason: 'held by traffic shaping: the hourly limit of 2 messages to hourly.example is reached; there is room again at 2030-01-01T01:00:00.000Z',
    });
    expect(shaper.holdFor(OTHER, 'elsewhere.example', clock.now)).toBeNull();
    clock.now = T0 + 60 * MIN;
    expect(shaper.holdFor(OTHER, 'hourly.example', clock.now)).toBeNull();
    expect(shaper.view().domains).toEqual([{ domain: 'hourly.example', limits: { perHour: 2 }, sending: 0, sentLastHour: 0 }]);
  });

  it("caps the provider's sends across its destinations; a reload raises the cap for those waiting", async () => {
    const { shaper, config } = shaperWith(FILE);
    const a = (await shaper.admit(BIG, 'x@a.example')) as ShapingTicket;
    const b = (await shaper.admit(BIG2, 'x@b.example')) as ShapingTicket;
    expect(a.connections).toBe(2);
    expect(a.messagesPerConnection).toBe(3);
    let third: ShapingTicket | null = null;
    void shaper.admit(BIG2, 'y@b.example').then((t) => {
      third = t as ShapingTicket;
    });
    await new Promise((r) => setTimeout(r, 20));
    expect(third).toBeNull();
    a.done();
    a.done(); // once only
    await new Promise((r) => setTimeout(r, 20));
    expect(third).not.toBeNull();
    // Three under way after a reload to 4 connections: a fourth goes at once.
    shaper.apply({ ...config, providers: [{ ...config.providers[0]!, limits: { ...config.providers[0]!.limits, connections: 4 } }] });
    const fourth = (await shaper.admit(BIG, 'z@a.example')) as ShapingTicket;
    expect(shaper.view().providers[0]!.state.sending).toBe(3);
    for (const t of [b, third!, fourth]) t.done();
  });

  it("paces an unknown destination with the pool's per-destination limiter (shared across processes), a provider with its own", async () => {
    const { shaper } = shaperWith(FILE);
    const taken: string[] = [];
    const limiter = { take: async (key: string) => void taken.push(key) };
    const two = [
      { host: 'mx.other.example', port: 25 },
      { host: 'mx2.other.example', port: 2525 },
    ];
    ((await shaper.admit(two, 'a@other.example', limiter)) as ShapingTicket).done();
    ((await shaper.admit(BIG, 'a@big.example', limiter)) as ShapingTicket).done();
    expect(taken).toEqual(['mx.other.example:25,mx2.other.example:2525']);
  });

  it("with shared pacing (PostgreSQL), a provider's and a domain's per-second limits are taken from it, at the current rate", async () => {
    const file = { ...FILE, domains: { 'paced.example': { perSecond: 7 } } };
    const { clock, shaper } = shaperWith(file);
    const taken: [string, number][] = [];
    const shared = new TrafficShaper({
      config: (shaper as unknown as { config: ShapingConfig }).config,
      log: { info: () => undefined, warn: () => undefined } as unknown as Logger,
      now: () => clock.now,
      sharedPacing: { take: async (key: string, perSecond: number) => void taken.push([key, perSecond]) },
    });
    ((await shared.admit(BIG, 'a@paced.example')) as ShapingTicket).done();
    expect(taken).toEqual([
      ['provider:big', 1000],
      ['domain:paced.example', 7],
    ]);
  });

  it('an unknown destination has a gate of its own with the default limits', () => {
    const { shaper } = shaperWith(FILE);
    const g = shaper.gateFor(OTHER);
    expect(g.provider).toBeNull();
    expect(g.label).toBe('default');
    expect(g.limits).toEqual({ connections: 3, perSecond: 1000, messagesPerConnection: 100, perHour: null });
    expect(shaper.gateFor([{ host: 'mx.third.example', port: 25 }])).not.toBe(g);
  });
});
