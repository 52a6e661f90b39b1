import { describe, expect, it } from 'vitest';
import type { Campus, CampusBlackhole } from '../../crds/generated/types.ts';
import {
  activeBlackholes,
  blackholedNodes,
  blackholedPods,
  nextLiftIn,
  reachabilityPatch,
  reachableCondition,
} from './blackhole.ts';
import type { CampusBlock } from './blackhole.ts';
import type { NodeObject, PodCondition } from './types.ts';

const now = new Date('2026-12-07T16:00:00Z');
const at = (s: number): string => new Date(now.getTime() + s * 1000).toISOString();
const hole = (until: string, by?: string): CampusBlackhole => ({
  reason: 'drill',
  until,
  ...(by ? { by } : {}),
});
const campus = (
  name: string,
  blackhole?: CampusBlackhole,
  nodeSelector?: Record<string, string>,
): Campus => ({
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'Campus',
  metadata: { name },
  spec: { ...(blackhole ? { blackhole } : {}), ...(nodeSelector ? { nodeSelector } : {}) },
});
const node = (name: string, labels: Record<string, string>): NodeObject => ({
  metadata: { name, labels },
});
const zone = (z: string): Record<string, string> => ({ 'topology.kubernetes.io/zone': z });

describe('is the blackhole active at t', () => {
  it.each<[string, CampusBlackhole | undefined, boolean]>([
    ['no blackhole set holds nothing', undefined, false],
    ['an until in the future holds', hole(at(30)), true],
    [
      'an until a millisecond ahead still holds',
      hole(new Date(now.getTime() + 1).toISOString()),
      true,
    ],
    ['an until that has passed holds nothing', hole(at(-1)), false],
    ['an until of exactly now has lifted (it lifts at until)', hole(at(0)), false],
    ['an unparsable until counts as expired, so it can never block forever', hole('soon'), false],
    ['an empty until counts as expired', hole(''), false],
  ])('%s', (_, blackhole, want) => {
    expect(activeBlackholes([campus('campus-b', blackhole)], now).has('campus-b')).toBe(want);
  });

  it('gives the reason, the author ("unknown" when unset) and the until of one in force', () => {
    const got = activeBlackholes(
      [campus('campus-a', hole(at(60), 'drill/r1')), campus('campus-b', hole(at(60)))],
      now,
    );
    expect(got.get('campus-a')).toEqual({
      campus: 'campus-a',
      reason: 'drill',
      by: 'drill/r1',
      until: new Date(at(60)),
    });
    expect(got.get('campus-b')?.by).toBe('unknown');
  });
});

describe('when the next blackhole lifts', () => {
  it.each<[string, Campus[], number | undefined]>([
    ['none in force: no timer', [campus('campus-a'), campus('campus-b', hole(at(-5)))], undefined],
    ['one in force: at its until', [campus('campus-a', hole(at(30)))], 30_000],
    [
      'several: the earliest until',
      [
        campus('campus-a', hole(at(90))),
        campus('campus-b', hole(at(20))),
        campus('campus-c', hole('x')),
      ],
      20_000,
    ],
  ])('%s', (_, campuses, want) => {
    expect(nextLiftIn(campuses, now)).toBe(want);
  });
});

describe('which nodes and pods it affects', () => {
  const nodes = [
    node('a-1', zone('campus-a')),
    node('b-1', zone('campus-b')),
    node('b-2', zone('campus-b')),
    node('c-1', zone('campus-c')),
    node('x-1', zone('nowhere')),
    node('h-1', { ...zone('campus-c'), hall: '3' }),
  ];
  it.each<[string, Campus[], string[]]>([
    [
      'every node of a blackholed campus (zone = its name), no other',
      [campus('campus-a'), campus('campus-b', hole(at(30))), campus('campus-c')],
      ['b-1', 'b-2'],
    ],
    ['none once its until passed', [campus('campus-a'), campus('campus-b', hole(at(-30)))], []],
    [
      'the nodes its nodeSelector picks, when it has one',
      [campus('campus-a'), campus('hall-3', hole(at(30)), { hall: '3' })],
      ['h-1'],
    ],
    [
      "a node two campuses select counts in the first by name: the other's blackhole leaves it alone",
      [campus('campus-c'), campus('hall-3', hole(at(30)), { hall: '3' })],
      [],
    ],
    ['a node of no campus is never held', [campus('campus-z', hole(at(30)))], []],
    [
      'several campuses at once',
      [campus('campus-a', hole(at(30))), campus('campus-c', hole(at(10)))],
      ['a-1', 'c-1', 'h-1'],
    ],
  ])('%s', (_, campuses, want) => {
    expect([...blackholedNodes(nodes, campuses, now).keys()].sort()).toEqual(want);
  });

  it('holds exactly the pods bound to a blackholed node, each with its block', () => {
    const block: CampusBlock = {
      campus: 'campus-b',
      reason: 'drill',
      by: 'me',
      until: new Date(at(30)),
    };
    const held = new Map([
      ['b-1', block],
      ['b-2', block],
    ]);
    const pods = [
      { key: 'ns/p1', node: 'b-1' },
      { key: 'ns/p2', node: 'a-1' },
      { key: 'ns/p3', node: 'b-2' },
      { key: 'ns/p4', node: '' },
    ];
    expect([...blackholedPods(pods, held)]).toEqual([
      ['ns/p1', block],
      ['ns/p3', block],
    ]);
  });
});

describe('the yard.dev/reachable condition', () => {
  const block: CampusBlock = {
    campus: 'campus-b',
    reason: 'drill',
    by: 'drill/r1',
    until: new Date('2026-12-07T16:05:00Z'),
  };
  const message = 'campus campus-b is blackholed until 2026-12-07T16:05:00Z by drill/r1: drill';
  const cond = (status: string, m?: string, t = '2026-12-07T15:00:00Z'): PodCondition => ({
    type: reachableCondition,
    status,
    ...(m ? { message: m } : {}),
    lastTransitionTime: t,
  });
  const ready: PodCondition = { type: 'Ready', status: 'True' };
  it.each<[string, CampusBlock | undefined, PodCondition[], Partial<PodCondition> | undefined]>([
    [
      'a blackholed pod without it gets False, with why and until when',
      block,
      [ready],
      {
        status: 'False',
        reason: 'Blackholed',
        message,
        lastTransitionTime: '2026-12-07T16:00:00Z',
      },
    ],
    [
      'a blackholed pod that already shows it gets nothing (a restarted agent writes nothing)',
      block,
      [ready, cond('False', message)],
      undefined,
    ],
    [
      'a longer blackhole changes the message, not the transition time',
      { ...block, until: new Date('2026-12-07T16:10:00Z') },
      [cond('False', message)],
      { status: 'False', lastTransitionTime: '2026-12-07T15:00:00Z' },
    ],
    [
      'a lifted blackhole turns False into True',
      undefined,
      [cond('False', message)],
      { status: 'True', reason: 'BlackholeLifted', lastTransitionTime: '2026-12-07T16:00:00Z' },
    ],
    ['a pod already True gets nothing', undefined, [cond('True')], undefined],
    ['a pod never blackholed gets no condition at all', undefined, [ready], undefined],
  ])('%s', (_, b, observed, want) => {
    const got = reachabilityPatch(b, observed, now);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toMatchObject({ type: reachableCondition, ...want });
  });
});
