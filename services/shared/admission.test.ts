import { describe, expect, it } from 'vitest';
import { admits, defaultAdmissionPolicy, nextThreshold } from './admission.ts';
import type { AdmissionWindow } from './admission.ts';
import { describeThreshold, level, levels, userPriority } from './priority.ts';

const policy = defaultAdmissionPolicy;
const pay = (u: number): number => level('payment', u);
const msg = (u: number): number => level('message', u);
const moments = (u: number): number => level('moments', u);
const userPriorityLast = 127;

/** A window builder: `win(threshold, avgQueueMs).at(level, count)…`. */
function win(threshold: number, avgQueueMs: number, queued = 100) {
  const arrivals = new Map<number, number>();
  const w = {
    at(lvl: number, count: number) {
      arrivals.set(lvl, (arrivals.get(lvl) ?? 0) + count);
      return w;
    },
    /** `count` requests spread one each over users 0..count-1 of a business. */
    spread(of: (u: number) => number, count: number) {
      for (let u = 0; u < count; u++) w.at(of(u), 1);
      return w;
    },
    done: (): AdmissionWindow => ({ threshold, arrivals, avgQueueMs, queued }),
  };
  return w;
}

describe('nextThreshold', () => {
  it.each([
    {
      name: 'calm and admitting everything: keep admitting everything',
      w: win(levels, 1).spread(moments, 100).done(),
      want: { kind: 'keep', threshold: levels },
    },
    {
      name: 'overloaded: the least important moments users go first',
      w: win(levels, 50).at(pay(3), 20).spread(moments, 100).done(),
      // 120 admitted, cut to ≤ 114: moments users 94..99 shed
      want: { kind: 'lower', threshold: moments(94) },
    },
    {
      name: 'overloaded with one level per business: a whole business goes, payments stay',
      w: win(levels, 50).at(pay(0), 20).at(moments(0), 80).done(),
      want: { kind: 'lower', threshold: moments(0) },
    },
    {
      name: 'overloaded with only payments left: payments are cut too, least important user first',
      w: win(moments(0), 30).spread(pay, 10).spread(moments, 50).done(),
      want: { kind: 'lower', threshold: pay(9) },
    },
    {
      name: 'the overload signal is the average queueing time, not the load: 20 ms is still calm',
      w: win(moments(50), 20).spread(pay, 10).spread(moments, 100).done(),
      want: { kind: 'raise', threshold: moments(51) },
    },
    {
      name: 'calm after shedding: admit about 1% more, one level at least',
      w: win(moments(10), 2).spread(pay, 100).spread(moments, 128).done(),
      want: { kind: 'raise', threshold: moments(12) },
    },
    {
      name: 'calm with no demand above the threshold: open fully',
      w: win(msg(0), 2).spread(pay, 50).done(),
      want: { kind: 'raise', threshold: levels },
    },
    {
      name: 'nothing served or waiting (everything shed): not overloaded, raise',
      w: win(0, 0, 0).at(pay(5), 10).done(),
      want: { kind: 'raise', threshold: pay(5) + 1 },
    },
    {
      name: 'overloaded with nothing admitted: nothing to cut',
      w: win(pay(0), 80).at(moments(1), 5).done(),
      want: { kind: 'keep', threshold: pay(0) },
    },
  ])('$name', ({ w, want }) => {
    expect(nextThreshold(w, policy)).toMatchObject(want);
  });

  it('cuts, when overloaded, at least the configured share and never more than one level past it', () => {
    const w = win(levels, 40).spread(msg, 128).spread(moments, 128).done();
    const next = nextThreshold(w, policy);
    let admitted = 0;
    for (const [lvl, c] of w.arrivals) if (admits(next.threshold, lvl)) admitted += c;
    expect(admitted).toBeLessThanOrEqual(256 * 0.95);
    expect(admitted).toBeGreaterThanOrEqual(256 * 0.95 - 1);
  });

  it('converges down through moments and groupchat before it touches payments', () => {
    // Windows that stay overloaded: the threshold walks down business by business.
    let threshold = levels;
    const seen: number[] = [];
    for (let i = 0; i < 400 && threshold > pay(userPriorityLast); i++) {
      const w = win(threshold, 100)
        .spread(pay, 128)
        .spread(msg, 128)
        .spread((u) => level('groupchat', u), 128)
        .spread(moments, 128)
        .done();
      threshold = nextThreshold(w, policy).threshold;
      seen.push(threshold);
    }
    const firstBelow = (lvl: number): number => seen.findIndex((t) => t <= lvl);
    expect(firstBelow(moments(0))).toBeGreaterThan(0);
    expect(firstBelow(level('groupchat', 0))).toBeGreaterThan(firstBelow(moments(0)));
    expect(firstBelow(msg(0))).toBeGreaterThan(firstBelow(level('groupchat', 0)));
  });
});

describe('priority', () => {
  it('orders levels payment < message < groupchat < moments, users within', () => {
    expect(pay(127)).toBeLessThan(msg(0));
    expect(msg(127)).toBeLessThan(level('groupchat', 0));
    expect(level('groupchat', 127)).toBeLessThan(moments(0));
    expect(moments(127)).toBe(levels - 1);
  });

  it('keeps a user at one priority within an hour and moves users between hours', () => {
    const hour = 3_600_000;
    const t = 100 * hour;
    expect(userPriority('alice', t)).toBe(userPriority('alice', t + hour - 1));
    const moved = ['u1', 'u2', 'u3', 'u4', 'u5', 'u6', 'u7', 'u8'].filter(
      (u) => userPriority(u, t) !== userPriority(u, t + hour),
    );
    expect(moved.length).toBeGreaterThan(0);
  });

  it.each([
    [levels, 'admitting everything'],
    [0, 'shedding everything'],
    [moments(0), 'admitting payment, message, groupchat'],
    [level('groupchat', 64), 'admitting payment, message, groupchat users 0-63'],
  ])('describes threshold %i as %j', (t, want) => {
    expect(describeThreshold(t)).toBe(want);
  });
});
