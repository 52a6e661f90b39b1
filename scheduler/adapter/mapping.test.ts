// Pods, nodes, campuses and queues → the core's contract, as tables.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import {
  businessPriorityOf,
  campusesOfPod,
  campusInfo,
  chooseCampus,
  gangAsk,
  jobKeyOf,
  nodeInfo,
  onlineAsk,
  placedPod,
  podResources,
  podRole,
  progressOf,
  queueInfo,
} from './mapping.ts';
import {
  campusObject,
  node,
  offlineJob,
  pending,
  placed,
  queueObject,
  t0,
  threeCampuses,
} from '../../e2e/harness/scheduler-objects.ts';

const Gi = 2 ** 30;
const yard = (name: string) => pod(name).scheduler('yard');
const with_ = (p: V1Pod, f: (p: V1Pod) => void): V1Pod => {
  const c = structuredClone(p);
  f(c);
  return c;
};

describe('podResources', () => {
  it.each<{ name: string; pod: V1Pod; want: { cpu: number; memory: number; pods: number } }>([
    {
      name: 'no requests: one pod slot',
      pod: yard('a').build(),
      want: { cpu: 0, memory: 0, pods: 1 },
    },
    {
      name: 'one container',
      pod: yard('a').requests({ cpu: '500m', memory: '1Gi' }).build(),
      want: { cpu: 500, memory: Gi, pods: 1 },
    },
    {
      name: 'containers add up; a larger init container wins per resource; overhead is added',
      pod: with_(yard('a').requests({ cpu: '1', memory: '1Gi' }).build(), (p) => {
        p.spec?.containers.push({ name: 'side', resources: { requests: { cpu: '250m' } } });
        if (p.spec) {
          p.spec.initContainers = [
            { name: 'init', resources: { requests: { cpu: '2', memory: '512Mi' } } },
          ];
          p.spec.overhead = { cpu: '100m' };
        }
      }),
      want: { cpu: 2100, memory: Gi, pods: 1 },
    },
  ])('$name', ({ pod: p, want }) => {
    expect(podResources(p)).toEqual(want);
  });
});

describe('podRole', () => {
  it.each<{ name: string; pod: V1Pod; want: string }>([
    { name: 'Yard’s, unbound: pending', pod: pending(yard('a').build()), want: 'pending' },
    {
      name: 'another scheduler’s, unbound: not Yard’s',
      pod: pending(pod('a').build()),
      want: 'other',
    },
    { name: 'bound by anyone: placed', pod: placed(pod('a').build(), 'n1'), want: 'placed' },
    {
      name: 'bound and finished: holds nothing',
      pod: placed(yard('a').build(), 'n1', 'Succeeded'),
      want: 'other',
    },
    {
      name: 'bound, failed: holds nothing',
      pod: placed(yard('a').build(), 'n1', 'Failed'),
      want: 'other',
    },
    {
      name: 'Yard’s, unbound, being deleted: not to be placed',
      pod: with_(pending(yard('a').build()), (p) => {
        if (p.metadata) p.metadata.deletionTimestamp = new Date(t0);
      }),
      want: 'other',
    },
  ])('$name', ({ pod: p, want }) => {
    expect(podRole(p)).toBe(want);
  });
});

describe('nodeInfo', () => {
  const campuses = threeCampuses();
  it.each([
    {
      name: 'a Ready node of campus-b',
      node: node('b-1').campus('campus-b'),
      want: { campus: 'campus-b', schedulable: true, tainted: false },
    },
    {
      name: 'cordoned: not schedulable',
      node: node('a-1').cordoned(),
      want: { schedulable: false },
    },
    {
      name: 'not Ready: not schedulable',
      node: node('a-1').notReady(),
      want: { schedulable: false },
    },
    {
      name: 'the shield taint: tainted',
      node: node('a-1').taint('yard.dev/shielded', 'NoSchedule'),
      want: { tainted: true },
    },
    {
      name: 'a NoExecute taint: tainted',
      node: node('a-1').taint('example.com/x', 'NoExecute'),
      want: { tainted: true },
    },
    {
      name: 'PreferNoSchedule keeps nobody off',
      node: node('a-1').taint('example.com/x', 'PreferNoSchedule'),
      want: { tainted: false },
    },
    {
      name: 'a taint Yard is told to tolerate',
      node: node('a-1').taint('example.com/gpu', 'NoSchedule'),
      want: { tainted: false },
    },
  ])('$name', ({ node: n, want }) => {
    expect(nodeInfo(n.build(), campuses, new Set(['example.com/gpu']))).toMatchObject(want);
  });

  it('reads allocatable as milli-CPU, bytes and pod slots', () => {
    expect(nodeInfo(node('a-1').cpu('31500m').build(), campuses)?.allocatable).toEqual({
      cpu: 31_500,
      memory: 128 * Gi,
      pods: 110,
    });
  });

  it.each([
    {
      name: 'a node in no campus is not Yard’s',
      campuses: threeCampuses(),
      node: node('x').campus('elsewhere'),
      want: undefined,
    },
    {
      name: 'a campus that selects its nodes by another label',
      campuses: [campusObject('hall-3').selector({ 'example.com/hall': '3' }).build()],
      node: node('x').campus('elsewhere').labels({ 'example.com/hall': '3' }),
      want: 'hall-3',
    },
  ])('$name', ({ campuses: cs, node: n, want }) => {
    expect(nodeInfo(n.build(), cs)?.campus).toBe(want);
  });
});

describe('campusInfo', () => {
  it.each([
    { name: 'defaults', campus: campusObject('a'), want: { name: 'a', shielded: false } },
    {
      name: 'a ceiling in percent',
      campus: campusObject('a').ceiling(75),
      want: { name: 'a', onlineCeiling: 0.75, shielded: false },
    },
    {
      name: 'a shield that holds',
      campus: campusObject('a').shield(60),
      want: { name: 'a', shielded: true },
    },
    {
      name: 'a shield whose time passed',
      campus: campusObject('a').shield(-1),
      want: { name: 'a', shielded: false },
    },
  ])('$name', ({ campus, want }) => {
    expect(campusInfo(campus.build(), t0)).toEqual(want);
  });
});

describe('queueInfo', () => {
  it('reads parent, weight, guarantee and maximum as numbers', () => {
    expect(
      queueInfo(
        queueObject('ml', {
          parent: 'research',
          weight: 2,
          guaranteed: { cpu: '8' },
          max: { cpu: '64', memory: '256Gi' },
        }),
      ),
    ).toEqual({
      name: 'ml',
      parent: 'research',
      weight: 2,
      guaranteed: { cpu: 8000 },
      max: { cpu: 64_000, memory: 256 * Gi },
    });
  });
});

describe('campusesOfPod', () => {
  const campuses = [
    ...threeCampuses(),
    campusObject('hall-3').selector({ 'example.com/hall': '3' }).build(),
  ];
  const selector = (s: Record<string, string>) =>
    with_(yard('a').build(), (p) => {
      if (p.spec) p.spec.nodeSelector = s;
    });
  const terms = (...zones: string[][]) =>
    with_(yard('a').build(), (p) => {
      if (p.spec)
        p.spec.affinity = {
          nodeAffinity: {
            requiredDuringSchedulingIgnoredDuringExecution: {
              nodeSelectorTerms: zones.map((values) => ({
                matchExpressions: [{ key: 'topology.kubernetes.io/zone', operator: 'In', values }],
              })),
            },
          },
        };
    });
  it.each([
    {
      name: 'nodeSelector zone (an IMService campus Deployment)',
      pod: selector({ 'topology.kubernetes.io/zone': 'campus-b' }),
      want: ['campus-b'],
    },
    {
      name: 'required node affinity to one zone',
      pod: yard('a').campus('campus-c').build(),
      want: ['campus-c'],
    },
    {
      name: 'affinity to two zones',
      pod: terms(['campus-b', 'campus-a']),
      want: ['campus-a', 'campus-b'],
    },
    {
      name: 'two terms, each a zone (ORed)',
      pod: terms(['campus-a'], ['campus-c']),
      want: ['campus-a', 'campus-c'],
    },
    {
      name: 'the yard.dev/campus label',
      pod: yard('a').labels({ 'yard.dev/campus': 'campus-a' }).build(),
      want: ['campus-a'],
    },
    {
      name: 'a Campus’s own node selector',
      pod: selector({ 'example.com/hall': '3' }),
      want: ['hall-3'],
    },
    { name: 'nothing: any campus', pod: yard('a').build(), want: undefined },
  ])('$name', ({ pod: p, want }) => {
    expect(campusesOfPod(p, campuses)).toEqual(want);
  });
});

describe('chooseCampus', () => {
  const room = (cpu: number) => ({ cpu, memory: 100 * Gi, pods: 100 });
  const headroom = (c: string) =>
    room(({ a: 10_000, b: 30_000, c: 20_000 } as Record<string, number>)[c] ?? 0);
  const req = { cpu: 1000, memory: Gi, pods: 1 };
  it.each([
    { name: 'the most room', taken: new Map(), want: 'b' },
    {
      name: 'after what the batch sent there',
      taken: new Map([['b', { cpu: 15_000, memory: 0, pods: 15 }]]),
      want: 'c',
    },
    { name: 'only among the candidates', taken: new Map(), candidates: ['a', 'c'], want: 'c' },
  ])('$name', ({ taken, candidates, want }) => {
    expect(chooseCampus(candidates ?? ['a', 'b', 'c'], headroom, taken, req)).toBe(want);
  });
  it('nothing when there is no candidate', () => {
    expect(chooseCampus([], headroom, new Map(), req)).toBeUndefined();
  });
});

describe('business priority, job and progress', () => {
  it.each([
    {
      name: 'the label',
      pod: yard('a').labels({ 'yard.dev/business-priority': 'payment' }).build(),
      want: 'payment',
    },
    {
      name: 'the yard-<class> priority class',
      pod: with_(yard('a').build(), (p) => p.spec && (p.spec.priorityClassName = 'yard-groupchat')),
      want: 'groupchat',
    },
    { name: 'neither: the lowest', pod: yard('a').build(), want: 'moments' },
  ])('business priority from $name', ({ pod: p, want }) => {
    expect(businessPriorityOf(p)).toBe(want);
  });

  it.each([
    {
      name: 'an OfflineJob owner',
      pod: with_(pending(yard('etl-x').build(), 'ns'), (p) => {
        if (p.metadata)
          p.metadata.ownerReferences = [
            { apiVersion: 'yard.dev/v1alpha1', kind: 'OfflineJob', name: 'etl', uid: 'u' },
          ];
      }),
      want: 'ns/etl',
    },
    {
      name: 'the yard.dev/offline-job label',
      pod: pending(yard('p').labels({ 'yard.dev/offline-job': 'train' }).build(), 'ml'),
      want: 'ml/train',
    },
    { name: 'neither', pod: pending(yard('p').build()), want: undefined },
  ])('job from $name', ({ pod: p, want }) => {
    expect(jobKeyOf(p)).toBe(want);
  });

  const running = (startedSecondsAgo: number | undefined, duration: string | undefined) =>
    with_(placed(yard('p').build(), 'n'), (p) => {
      if (p.metadata && duration) p.metadata.annotations = { 'yard.dev/run-duration': duration };
      if (p.status && startedSecondsAgo !== undefined)
        p.status.startTime = new Date(
          t0 - startedSecondsAgo * 1000,
        ).toISOString() as unknown as Date;
    });
  it.each([
    { name: 'half of its run time', pod: running(45, '90s'), want: 0.5 },
    { name: 'past its run time', pod: running(200, '90s'), want: 1 },
    { name: 'no declared run time', pod: running(45, undefined), want: 0 },
    { name: 'not started', pod: running(undefined, '90s'), want: 0 },
    { name: 'an unreadable run time', pod: running(45, 'soon'), want: 0 },
  ])('progress: $name', ({ pod: p, want }) => {
    expect(progressOf(p, t0)).toBeCloseTo(want);
  });
});

describe('placedPod', () => {
  const jobs = new Map([
    ['ns/etl', offlineJob('ns/etl').queue('batch').min(4).priority(7).build()],
  ]);
  const ctx = { now: t0, job: (k: string) => jobs.get(k) };
  const online = yard('chat-1')
    .labels({ 'yard.dev/imservice': 'chat', 'yard.dev/business-priority': 'message' })
    .requests({ cpu: '1' })
    .build();
  it.each([
    {
      name: 'an online pod of Yard’s',
      pod: placed(online, 'a-1'),
      want: {
        framework: 'online',
        name: 'ns/chat-1',
        node: 'a-1',
        service: 'ns/chat',
        businessPriority: 'message',
      },
    },
    {
      name: 'another scheduler’s pod: load, never a victim',
      pod: placed(pod('web-1').build(), 'a-1'),
      want: { framework: 'online', service: 'ns/web-1', businessPriority: 'payment' },
    },
    {
      name: 'an offline pod: queue, priority and gang from its job',
      pod: placed(
        yard('etl-x')
          .labels({ 'yard.dev/framework': 'offline', 'yard.dev/offline-job': 'etl' })
          .build(),
        'a-1',
      ),
      want: {
        framework: 'offline',
        job: 'ns/etl',
        queue: 'batch',
        priority: 7,
        gangMin: 4,
        progress: 0,
      },
    },
    {
      name: 'a pod being deleted: terminating',
      pod: with_(
        placed(online, 'a-1'),
        (p) => p.metadata && (p.metadata.deletionTimestamp = new Date(t0)),
      ),
      want: { terminating: true },
    },
  ])('$name', ({ pod: p, want }) => {
    expect(placedPod(p, ctx)).toMatchObject(want);
  });
  it('nothing for a pod that is not bound', () => {
    expect(placedPod(pending(online), ctx)).toBeUndefined();
  });
});

describe('asks', () => {
  it('an online ask carries its campus, service, priority, requests, creation and nominated node', () => {
    const p = with_(
      pending(
        yard('chat-1').labels({ 'yard.dev/imservice': 'chat' }).requests({ cpu: '2' }).build(),
      ),
      (x) => {
        if (x.metadata)
          x.metadata.creationTimestamp = new Date(t0).toISOString() as unknown as Date;
        if (x.status) x.status.nominatedNodeName = 'b-2';
      },
    );
    expect(onlineAsk(p, 'campus-b')).toEqual({
      kind: 'online',
      pod: 'ns/chat-1',
      service: 'ns/chat',
      campus: 'campus-b',
      businessPriority: 'moments',
      requests: { cpu: 2000, memory: 0, pods: 1 },
      created: t0,
      nominatedNode: 'b-2',
    });
  });

  it('a gang ask takes its minimum and priority from the job, its queue from the pods', () => {
    const member = (n: string) =>
      pending(
        yard(n)
          .labels({
            'yard.dev/framework': 'offline',
            'yard.dev/queue': 'ml',
            'yard.dev/offline-job': 'train',
          })
          .requests({ cpu: '4' })
          .build(),
      );
    const ask = gangAsk('ns/train', offlineJob('ns/train').min(2).priority(3).build(), [
      member('t-0'),
      member('t-1'),
    ]);
    expect(ask).toEqual({
      kind: 'gang',
      job: 'ns/train',
      queue: 'ml',
      priority: 3,
      minMember: 2,
      pods: [
        { name: 'ns/t-0', requests: { cpu: 4000, memory: 0, pods: 1 } },
        { name: 'ns/t-1', requests: { cpu: 4000, memory: 0, pods: 1 } },
      ],
      created: Math.floor(t0 / 1000) * 1000,
    });
  });
});
