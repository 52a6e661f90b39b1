import { describe, expect, it } from 'vitest';
import { ejectionCap, record, refresh, usable } from './outlier.ts';
import type { OutlierEvent, OutlierPolicy, OutlierTable, Outcome } from './outlier.ts';

const policy: OutlierPolicy = {
  consecutiveFailures: 3,
  baseEjectionMs: 1000,
  maxEjectionMs: 2500,
  maxEjectionPercent: 50,
};
const abc = ['a', 'b', 'c'];

/** Replays steps (`[endpoint, outcome, at]` or `['tick', at]`) and collects events. */
function replay(
  endpoints: readonly string[],
  steps: readonly (readonly [string, Outcome, number] | readonly ['tick', number])[],
): { table: OutlierTable; events: OutlierEvent[] } {
  let table: OutlierTable = refresh(new Map(), endpoints, 0, policy).table;
  const events: OutlierEvent[] = [];
  for (const step of steps) {
    if (step.length === 2) {
      const r = refresh(table, endpoints, step[1], policy);
      table = r.table;
      events.push(...r.events);
      continue;
    }
    const [endpoint, outcome, at] = step;
    const r = record(table, endpoints, endpoint, outcome, at, policy);
    table = r.table;
    if (r.event) events.push(r.event);
  }
  return { table, events };
}

const fails = (e: string, n: number, from = 0): [string, Outcome, number][] =>
  Array.from({ length: n }, (_, i) => [e, 'failure', from + i] as [string, Outcome, number]);

describe('outlier detection', () => {
  it.each([
    {
      name: 'fewer consecutive failures than the limit eject nothing',
      steps: fails('a', 2),
      want: [] as string[],
      usableAt: [10, abc],
    },
    {
      name: 'the limit of consecutive failures ejects the endpoint for the base time',
      steps: fails('a', 3),
      want: ['ejected a 1000'],
      usableAt: [10, ['b', 'c']],
    },
    {
      name: 'a success in between resets the count',
      steps: [...fails('a', 2), ['a', 'success', 3] as const, ...fails('a', 2, 4)],
      want: [],
      usableAt: [10, abc],
    },
    {
      name: 'an ejected endpoint returns when its time is over',
      steps: [...fails('a', 3), ['tick', 1002] as const],
      want: ['ejected a 1000', 'returned a'],
      usableAt: [1002, abc],
    },
    {
      name: 'the second ejection in a row lasts twice as long',
      steps: [...fails('a', 3), ['tick', 1002] as const, ...fails('a', 3, 1003)],
      want: ['ejected a 1000', 'returned a', 'ejected a 2000'],
      usableAt: [3000, ['b', 'c']],
    },
    {
      name: 'ejection time is capped',
      steps: [
        ...fails('a', 3),
        ['tick', 1002] as const,
        ...fails('a', 3, 1003),
        ['tick', 3010] as const,
        ...fails('a', 3, 3011),
      ],
      want: ['ejected a 1000', 'returned a', 'ejected a 2000', 'returned a', 'ejected a 2500'],
      usableAt: [5000, ['b', 'c']],
    },
    {
      name: 'a healthy base period after returning earns one step back',
      steps: [
        ...fails('a', 3),
        ['tick', 1002] as const,
        ['tick', 2002] as const,
        ...fails('a', 3, 2003),
      ],
      want: ['ejected a 1000', 'returned a', 'ejected a 1000'],
      usableAt: [2010, ['b', 'c']],
    },
    {
      name: 'the cap keeps a second endpoint of three in service (50% of 3 is 1)',
      steps: [...fails('a', 3), ...fails('b', 3, 10)],
      want: ['ejected a 1000', 'kept b'],
      usableAt: [20, ['b', 'c']],
    },
    {
      name: 'failures reported while ejected (calls in flight) change nothing',
      steps: [...fails('a', 3), ...fails('a', 5, 10), ['tick', 1002] as const],
      want: ['ejected a 1000', 'returned a'],
      usableAt: [1002, abc],
    },
  ])('$name', ({ steps, want, usableAt }) => {
    const { table, events } = replay(abc, steps);
    expect(
      events.map((e) => `${e.kind} ${e.endpoint}${e.kind === 'ejected' ? ` ${e.forMs}` : ''}`),
    ).toEqual(want);
    const [at, expected] = usableAt as [number, string[]];
    expect(usable(refresh(table, abc, at, policy).table, abc, at)).toEqual(expected);
  });

  it('never ejects the only endpoint: serving something beats serving nothing', () => {
    const { events } = replay(['a'], fails('a', 6));
    expect(events.map((e) => e.kind)).toEqual(['kept', 'kept', 'kept', 'kept']);
  });

  it('forgets endpoints that discovery removed and starts new ones healthy', () => {
    const { table } = replay(abc, fails('a', 3));
    const next = refresh(table, ['b', 'c', 'd'], 10, policy).table;
    expect([...next.keys()]).toEqual(['b', 'c', 'd']);
    expect(usable(next, ['b', 'c', 'd'], 10)).toEqual(['b', 'c', 'd']);
  });

  it.each([
    [1, 0],
    [2, 1],
    [3, 1],
    [4, 2],
    [10, 5],
  ])('with %i endpoints at most %i may be ejected', (n, cap) => {
    expect(ejectionCap(n, policy)).toBe(cap);
  });
});
