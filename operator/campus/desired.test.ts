import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { campusSafe, nodesSelected, shieldActions, staleAt } from './desired.ts';
import type { CampusFacts, NodeView, PodView, Published } from './desired.ts';
import { campusFacts } from './views.ts';
import { shieldState } from '../../crds/index.ts';
import type { Campus } from '../../crds/index.ts';
import { podRequests } from '../../runtime/quantity.ts';

const GiB = 2 ** 30;
const node = (name: string, campus: string, ready = true, shieldTainted = false): NodeView => ({
  name,
  campus,
  ready,
  shieldTainted,
});
const pod = (name: string, nodeName: string, serving: PodView['serving'] = undefined): PodView => ({
  namespace: 'im',
  name,
  node: nodeName,
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

// --- CampusSafe, from what the scheduler published ----------------------------------

const now = Date.UTC(2026, 10, 22, 10, 0, 0);
const cpu = (n: number) => ({ cpuMilli: n * 1000, memoryBytes: n * 2 * GiB });

/** A campus of one 32-CPU node, with what the scheduler published of it. */
function facts(
  name: string,
  o: {
    online?: number;
    /** The ceiling in force, CPU; default 2/3 of 32. */
    ceiling?: number;
    /** The ceiling if one more campus were lost; default all 32. */
    failover?: number;
    shielded?: boolean;
    published?: false | number;
    nodes?: readonly string[];
    ownedElsewhere?: Record<string, string>;
  } = {},
): CampusFacts {
  const published: Published | undefined =
    o.published === false
      ? undefined
      : {
          at: o.published ?? now - 1_000,
          onlineRequests: cpu(o.online ?? 0),
          onlineCeiling: cpu(o.ceiling ?? 32 * (2 / 3)),
          failoverCeiling: cpu(o.failover ?? 32),
        };
  return {
    name,
    shielded: o.shielded ?? false,
    selected: o.nodes ?? [`${name}-1`],
    ownedElsewhere: new Map(Object.entries(o.ownedElsewhere ?? {})),
    sharedWith: new Map(),
    published,
  };
}

const safeOpts = { now, staleAfterMs: 120_000 };

describe('campusSafe', () => {
  it.each<[string, CampusFacts[], string, string]>([
    [
      'the others have room for its load up to the ceiling a loss raises them to',
      [facts('a', { online: 20 }), facts('b', { online: 20 }), facts('c', { online: 20 })],
      'True',
      'OthersCanAbsorb',
    ],
    [
      'the same load, but ceilings no loss would raise (configured at 100%: nothing held back)',
      [
        facts('a', { online: 20, ceiling: 21.3, failover: 21.3 }),
        facts('b', { online: 20, ceiling: 21.3, failover: 21.3 }),
        facts('c', { online: 20, ceiling: 21.3, failover: 21.3 }),
      ],
      'False',
      'OthersCannotAbsorb',
    ],
    [
      'offline work on the others does not count against them (it is preempted)',
      [facts('a', { online: 20 }), facts('b', { online: 0 }), facts('c', { online: 0 })],
      'True',
      'OthersCanAbsorb',
    ],
    [
      'campus c shielded: its load counts as moving too, and only b can take it',
      [
        facts('a', { online: 10 }),
        facts('b', { online: 10 }),
        facts('c', { online: 14, shielded: true, failover: 21.3 }),
      ],
      'False',
      'OthersCannotAbsorb',
    ],
    [
      'campus c shielded and its load already moved: b takes a’s load up to its raised ceiling',
      [
        facts('a', { online: 12, ceiling: 32 }),
        facts('b', { online: 20, ceiling: 32 }),
        facts('c', { online: 0, shielded: true, failover: 21.3 }),
      ],
      'True',
      'OthersCanAbsorb',
    ],
    [
      'no other unshielded campus',
      [facts('a', { online: 1 }), facts('b', { shielded: true })],
      'False',
      'NoOtherCampus',
    ],
    [
      'a campus that selects no nodes is never safe, even with no load',
      [facts('a', { nodes: [] }), facts('b'), facts('c')],
      'False',
      'NoCapacity',
    ],
    [
      'a campus whose nodes another campus already counts is never safe',
      [facts('b', { nodes: ['a-1'], ownedElsewhere: { 'a-1': 'a' } }), facts('a'), facts('c')],
      'False',
      'NodesOfAnotherCampus',
    ],
    [
      'the scheduler has not published one campus’s numbers',
      [facts('a', { online: 1 }), facts('b', { published: false }), facts('c')],
      'Unknown',
      'SchedulerNotPublished',
    ],
    [
      'the scheduler’s numbers are older than the bound',
      [facts('a', { online: 1 }), facts('b', { published: now - 121_000 }), facts('c')],
      'Unknown',
      'SchedulerStale',
    ],
  ])('%s → %s (%s)', (_name, all, status, reason) => {
    const [self] = all;
    if (!self) throw new Error('no campus');
    expect(campusSafe(self, all, safeOpts)).toMatchObject({ status, reason });
  });

  it('says the numbers it weighed', () => {
    const all = [facts('a', { online: 20 }), facts('b', { online: 20 }), facts('c', { online: 4 })];
    const [a] = all;
    if (!a) throw new Error('no campus');
    expect(campusSafe(a, all, safeOpts).message).toBe(
      'if a is lost, its online load (20 CPU, 40Gi) fits in b, c (room 40 CPU, 80Gi under the ceilings they would be raised to)',
    );
  });

  // the scheduler counts pod overhead in what it publishes (runtime's podRequests);
  // these pods fit exactly without their overhead, and not with it
  it.each([
    ['without pod overhead', undefined, 'True'],
    ['with pod overhead (250m, 512Mi a pod)', { cpu: '250m', memory: '512Mi' }, 'False'],
  ])('the online load of 16 pods of 1 CPU, 2Gi: %s → %s', (_name, overhead, status) => {
    const web: V1Pod = {
      spec: {
        containers: [{ name: 'w', resources: { requests: { cpu: '1', memory: '2Gi' } } }],
        ...(overhead ? { overhead } : {}),
      },
    };
    const r = podRequests(web);
    const load = { cpuMilli: 16 * r.cpu, memoryBytes: 16 * r.memory };
    const a = {
      ...facts('a'),
      published: { ...(facts('a').published as Published), onlineRequests: load },
    };
    // b and c together have exactly 16 CPU, 32Gi of room under their failover ceilings
    const all = [a, facts('b', { online: 24 }), facts('c', { online: 24 })];
    expect(campusSafe(a, all, safeOpts).status).toBe(status);
  });

  it('goes stale when the oldest publication passes the bound', () => {
    const all = [facts('a', { published: now - 5_000 }), facts('b', { published: now - 1_000 })];
    expect(staleAt(all, 120_000)).toBe(now - 5_000 + 120_000);
    expect(staleAt([facts('a', { published: false })], 120_000)).toBeUndefined();
  });
});

// --- which nodes a campus selects ---------------------------------------------------

const campusObj = (name: string, sel?: Record<string, string>): Campus => ({
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'Campus',
  metadata: { name },
  spec: sel ? { nodeSelector: sel } : {},
});
const k8sNode = (name: string, labels: Record<string, string>): V1Node => ({
  metadata: { name, labels },
});

describe('nodesSelected (from campusMembership)', () => {
  const zone = (z: string, extra: Record<string, string> = {}) => ({
    'topology.kubernetes.io/zone': z,
    ...extra,
  });
  const nodes8 = [
    k8sNode('a-1', zone('campus-a', { hall: '3' })),
    k8sNode('a-2', zone('campus-a')),
    k8sNode('b-1', zone('campus-b')),
  ];
  it.each([
    [
      'a campus with nodes of its own',
      [campusObj('campus-a')],
      'campus-a',
      'True',
      'NodesSelected',
      'campus-a selects 2 nodes',
    ],
    [
      'a campus that selects no node',
      [campusObj('campus-a'), campusObj('campus-x')],
      'campus-x',
      'False',
      'NoNodes',
      "campus-x selects no nodes: check spec.nodeSelector (or the nodes' zone label)",
    ],
    [
      'a campus selecting nodes an earlier one counts, named with it',
      [campusObj('campus-a'), campusObj('campus-hall3', { hall: '3' })],
      'campus-hall3',
      'False',
      'NodesOfAnotherCampus',
      'campus-hall3 selects nodes another campus already counts as its own: a-1 (campus-a); make the node selectors disjoint',
    ],
    [
      'the campus that counts them says who else selects them',
      [campusObj('campus-a'), campusObj('campus-hall3', { hall: '3' })],
      'campus-a',
      'True',
      'NodesAlsoSelectedElsewhere',
      'campus-a selects 2 nodes; these are selected by other campuses too (campus-a counts them): a-1 (campus-hall3)',
    ],
  ])('%s', (_name, campuses, name, status, reason, message) => {
    const f = campusFacts(campuses, nodes8, new Date(now)).find((c) => c.name === name);
    if (!f) throw new Error(`no facts for ${name}`);
    expect(nodesSelected(f)).toEqual({ status, reason, message });
  });

  it('a campus without capacity of its own is never CampusSafe=True, however light its load', () => {
    const campuses = [campusObj('campus-a'), campusObj('campus-b'), campusObj('campus-x')];
    const all = campusFacts(campuses, nodes8, new Date(now)).map((f) => ({
      ...f,
      published: facts(f.name).published,
    }));
    const x = all.find((f) => f.name === 'campus-x');
    if (!x) throw new Error('no campus-x');
    expect(campusSafe(x, all, safeOpts)).toMatchObject({ status: 'False', reason: 'NoCapacity' });
  });
});

describe('shieldActions', () => {
  const pods = [
    pod('gated-on', 'a1', 'True'),
    pod('gated-off', 'a2', 'False'),
    pod('ungated', 'a1'),
    pod('elsewhere', 'b1', 'True'),
    pod('new', 'a2', 'absent'),
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
