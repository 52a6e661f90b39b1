import { describe, expect, it } from 'vitest';
import type { V1Node } from '@kubernetes/client-node';
import type { Campus } from '../../crds/index.ts';
import { campusesCondition, campusSpread } from './placement.ts';
import type { SpreadInput } from './placement.ts';
import { perCampusReplicas } from './sizing.ts';

const campus = (name: string, nodeSelector?: Record<string, string>): Campus => ({
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'Campus',
  metadata: { name },
  spec: nodeSelector ? { nodeSelector } : {},
});
const node = (name: string, labels: Record<string, string>): V1Node => ({
  metadata: { name, labels },
});
const zone = (z: string) => ({ 'topology.kubernetes.io/zone': z });
const abc = [campus('campus-a'), campus('campus-b'), campus('campus-c')];
const nodesABC = [
  node('a1', zone('campus-a')),
  node('b1', zone('campus-b')),
  node('c1', { ...zone('campus-c'), hall: '3' }),
];

describe('campusSpread', () => {
  it.each<[string, SpreadInput, string[], string[], string[], string[]]>([
    [
      'three campuses with nodes: all count',
      { campuses: abc, nodes: nodesABC },
      ['campus-a', 'campus-b', 'campus-c'],
      [],
      [],
      [],
    ],
    [
      'a campus that selects no node does not count',
      { campuses: [...abc, campus('campus-d')], nodes: nodesABC },
      ['campus-a', 'campus-b', 'campus-c'],
      ['campus-d: selects no nodes'],
      [],
      [],
    ],
    [
      'a campus that selects only nodes an earlier campus owns does not count',
      { campuses: [...abc, campus('campus-z', { hall: '3' })], nodes: nodesABC },
      ['campus-a', 'campus-b', 'campus-c'],
      ['campus-z: selects only nodes that campus-c already selects'],
      [],
      [],
    ],
    [
      'the earlier campus by name keeps an overlapping node; the later one counts only with nodes of its own',
      {
        campuses: [...abc, campus('campus-z', { hall: '3' })],
        nodes: [...nodesABC, node('z1', { hall: '3' })],
      },
      ['campus-a', 'campus-b', 'campus-c', 'campus-z'],
      [],
      [],
      [],
    ],
    [
      'spec.campuses narrows the spread; a name that is no Campus is reported',
      { campuses: abc, nodes: nodesABC, wanted: ['campus-b', 'campus-a', 'campus-x'] },
      ['campus-a', 'campus-b'],
      [],
      ['campus-x'],
      [],
    ],
    [
      'a campusOrder name that is no Campus is reported, the spread is unchanged',
      { campuses: abc, nodes: nodesABC, campusOrder: ['campus-c', 'campus-q', 'campus-a'] },
      ['campus-a', 'campus-b', 'campus-c'],
      [],
      [],
      ['campus-q'],
    ],
    [
      'no nodes at all: nothing counts',
      { campuses: abc, nodes: [] },
      [],
      ['campus-a: selects no nodes', 'campus-b: selects no nodes', 'campus-c: selects no nodes'],
      [],
      [],
    ],
  ])('%s', (_, input, counted, notCounted, unknown, unknownInOrder) => {
    const s = campusSpread(input);
    expect(s.counted).toEqual(counted);
    expect(s.notCounted.map((n) => `${n.campus}: ${n.why}`)).toEqual(notCounted);
    expect(s.unknownCampuses).toEqual(unknown);
    expect(s.unknownInOrder).toEqual(unknownInOrder);
  });

  it.each([
    ['three campuses of their own: ⌈6/2⌉ = 3', nodesABC, 3],
    ['a fourth campus without nodes does not make it ⌈6/3⌉ = 2', nodesABC, 3],
    [
      'a fourth campus with a node of its own does: ⌈6/3⌉ = 2',
      [...nodesABC, node('d1', zone('campus-d'))],
      2,
    ],
  ])('sizes over counted campuses only: %s', (_, nodes, perCampus) => {
    const s = campusSpread({ campuses: [...abc, campus('campus-d')], nodes });
    expect(perCampusReplicas(6, s.counted.length)).toBe(perCampus);
  });
});

describe('campusesCondition', () => {
  it.each<[string, SpreadInput, boolean, string, RegExp]>([
    [
      'all resolved: says where it runs and the per-campus size',
      { campuses: abc, nodes: nodesABC },
      true,
      'CampusesResolved',
      /^spread over 3 campuses \(campus-a, campus-b, campus-c\): ⌈6\/2⌉ = 3 each$/,
    ],
    [
      'a campusOrder name that does not exist is named',
      { campuses: abc, nodes: nodesABC, campusOrder: ['campus-q'] },
      false,
      'UnknownCampus',
      /spec\.rollout\.campusOrder names "campus-q", which is not a Campus/,
    ],
    [
      'a campus without nodes is named and said not to count',
      { campuses: [...abc, campus('campus-d')], nodes: nodesABC },
      false,
      'CampusWithoutNodes',
      /campus-d selects no nodes of its own, so it gets no pods and does not count; spread over 3 campuses/,
    ],
    [
      'unknown names outrank campuses without nodes in the reason; both are in the message',
      {
        campuses: [...abc, campus('campus-d')],
        nodes: nodesABC,
        wanted: ['campus-a', 'campus-d', 'campus-x'],
      },
      false,
      'UnknownCampus',
      /spec\.campuses names "campus-x", which is not a Campus; campus-d selects no nodes .*; runs 6 in campus-a alone/,
    ],
  ])('%s', (_, input, ok, reason, message) => {
    const s = campusSpread(input);
    const c = campusesCondition(s, {
      capacity: 6,
      perCampus: perCampusReplicas(6, s.counted.length),
    });
    expect(c.ok).toBe(ok);
    expect(c.reason).toBe(reason);
    expect(c.message).toMatch(message);
  });
});
