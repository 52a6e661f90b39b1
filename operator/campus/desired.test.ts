import { describe, expect, it } from 'vitest';
import { campusLoad, campusSafe, onlineCeiling, shieldActions } from './desired.ts';
import type { NodeView, PodView } from './desired.ts';
import { shieldState } from '../../crds/index.ts';

const GiB = 2 ** 30;
const node = (
  name: string,
  campus: string,
  cpu = 32,
  ready = true,
  shieldTainted = false,
): NodeView => ({
  name,
  campus,
  ready,
  allocatable: { cpuMilli: cpu * 1000, memoryBytes: 128 * GiB },
  shieldTainted,
});
const pod = (
  name: string,
  nodeName: string,
  cpu: number,
  framework: 'online' | 'offline' = 'online',
  serving: PodView['serving'] = undefined,
): PodView => ({
  namespace: 'im',
  name,
  node: nodeName,
  framework,
  requests: { cpuMilli: cpu * 1000, memoryBytes: cpu * 2 * GiB },
  serving,
});

const nodes = [
  node('a1', 'campus-a'),
  node('a2', 'campus-a'),
  node('b1', 'campus-b'),
  node('c1', 'campus-c'),
];

describe('shieldState', () => {
  const now = new Date('2026-11-22T10:00:00Z');
  it.each([
    ['no shield', undefined, 'none'],
    ['until in the future', { reason: 'drill', until: '2026-11-22T10:30:00Z' }, 'active'],
    ['until now', { reason: 'drill', until: '2026-11-22T10:00:00Z' }, 'expired'],
    ['until in the past', { reason: 'drill', until: '2026-11-22T09:00:00Z' }, 'expired'],
    ['an unparsable until (never blocks forever)', { reason: 'drill', until: 'soon' }, 'expired'],
  ])('%s → %s', (_name, shield, want) => {
    expect(shieldState(shield, now).kind).toBe(want);
  });
});

describe('onlineCeiling', () => {
  it.each([
    [undefined, 3, 2 / 3],
    [undefined, 4, 3 / 4],
    [undefined, 1, 1],
    [50, 3, 0.5],
  ])('percent %s with %i campuses → %d', (percent, n, want) => {
    expect(onlineCeiling(percent, n)).toBeCloseTo(want);
  });
});

describe('campusLoad', () => {
  it('sums ready allocatable and online/offline requests of pods on its nodes only', () => {
    const pods = [
      pod('w1', 'a1', 4),
      pod('w2', 'a2', 2),
      pod('j1', 'a1', 8, 'offline'),
      pod('w3', 'b1', 16),
    ];
    const load = campusLoad(
      'campus-a',
      [...nodes, node('a3', 'campus-a', 32, false)],
      pods,
      2 / 3,
      false,
    );
    expect(load.nodesReady).toBe(2);
    expect(load.nodesTotal).toBe(3);
    expect(load.allocatable.cpuMilli).toBe(64_000);
    expect(load.online.cpuMilli).toBe(6000);
    expect(load.offline.cpuMilli).toBe(8000);
    // 2/3 of 64 CPUs = 42.666 → 42666m, minus 6 CPUs online
    expect(load.headroom.cpuMilli).toBe(36_666);
  });
});

describe('campusSafe', () => {
  const loads = (podsOnB: PodView[], shieldedC = false) => {
    const pods = [pod('a', 'a1', 20), ...podsOnB];
    return ['campus-a', 'campus-b', 'campus-c'].map((c) =>
      campusLoad(c, nodes, pods, 2 / 3, c === 'campus-c' && shieldedC),
    );
  };

  it('is safe when the others have room for its online load, and says the numbers', () => {
    const all = loads([]);
    const v = campusSafe(all[0]!, all);
    expect(v.safe).toBe(true);
    expect(v.message).toBe(
      'if campus-a is lost, its online load (20 CPU, 40Gi) fits in campus-b, campus-c (spare 64 CPU, 256Gi)',
    );
  });

  it('offline work on the others does not count against them (it is preempted)', () => {
    const all = loads([pod('j', 'b1', 30, 'offline')]);
    expect(campusSafe(all[0]!, all).safe).toBe(true);
  });

  it('is unsafe when the others are full of online work', () => {
    const all = loads([pod('busy', 'b1', 30)], true);
    const v = campusSafe(all[0]!, all);
    expect(v.safe).toBe(false);
    expect(v.reason).toBe('OthersCannotAbsorb');
    expect(v.message).toContain('does not fit in campus-b (spare 2 CPU');
  });

  it('is unsafe when no other campus is unshielded', () => {
    const only = [campusLoad('campus-a', nodes, [], 2 / 3, false)];
    expect(campusSafe(only[0]!, only).reason).toBe('NoOtherCampus');
  });
});

describe('shieldActions', () => {
  const pods = [
    pod('gated-on', 'a1', 1, 'online', 'True'),
    pod('gated-off', 'a2', 1, 'online', 'False'),
    pod('ungated', 'a1', 1),
    pod('elsewhere', 'b1', 1, 'online', 'True'),
    pod('new', 'a2', 1, 'online', 'absent'),
  ];

  it('an active shield taints every node of the campus and stops every gated pod there serving', () => {
    const a = shieldActions('campus-a', true, nodes, pods);
    expect(a.taint).toEqual([
      { node: 'a1', add: true },
      { node: 'a2', add: true },
    ]);
    expect(a.serving.map((s) => `${s.name}=${s.status}`)).toEqual(['gated-on=False', 'new=False']);
  });

  it('a lifted shield removes the taints and lets gated pods serve again', () => {
    const tainted = nodes.map((n) => (n.campus === 'campus-a' ? { ...n, shieldTainted: true } : n));
    const a = shieldActions('campus-a', false, tainted, pods);
    expect(a.taint).toEqual([
      { node: 'a1', add: false },
      { node: 'a2', add: false },
    ]);
    expect(a.serving.map((s) => `${s.name}=${s.status}`)).toEqual(['gated-off=True', 'new=True']);
  });

  it('a converged campus needs no writes', () => {
    const a = shieldActions('campus-b', false, nodes, pods);
    expect(a).toEqual({ taint: [], serving: [] });
  });
});
