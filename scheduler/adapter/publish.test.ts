// What the scheduler publishes, as tables: from Kubernetes objects through
// the core's grants to the status fields, and when an object is due.
import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import {
  campusObject,
  node,
  offlineJob,
  placed,
  queueObject,
  t0,
} from '../../e2e/harness/scheduler-objects.ts';
import { schedule } from '../core/index.ts';
import { snapshotOf } from './mapping.ts';
import {
  campusNumbers,
  due,
  jobNumbers,
  pendingByQueue,
  pick,
  queueNumbers,
  type CampusNumbers,
} from './publish.ts';

const withOverhead = (p: V1Pod, o: Record<string, string>): V1Pod => ({
  ...p,
  spec: { ...(p.spec ?? { containers: [] }), overhead: o },
});

/** Three campuses of one 32-CPU, 128Gi node; 4 CPU online in campus-a, 6 in campus-c. */
function world(o: { shieldC?: boolean; overhead?: boolean }) {
  const web = pod('web-a').requests({ cpu: '4', memory: '4Gi' }).build();
  return snapshotOf(
    {
      campuses: [
        campusObject('campus-a').build(),
        campusObject('campus-b').build(),
        o.shieldC ? campusObject('campus-c').shield(600).build() : campusObject('campus-c').build(),
      ],
      nodes: ['a', 'b', 'c'].map((z) => node(`${z}-1`).campus(`campus-${z}`).build()),
      queues: [queueObject('batch')],
      pods: [
        placed(o.overhead ? withOverhead(web, { cpu: '250m', memory: '64Mi' }) : web, 'a-1'),
        placed(pod('web-c').requests({ cpu: '6', memory: '6Gi' }).build(), 'c-1'),
        placed(
          pod('etl-0')
            .labels({ 'yard.dev/offline-job': 'etl', 'yard.dev/queue': 'batch' })
            .requests({ cpu: '8', memory: '16Gi' })
            .build(),
          'b-1',
        ),
      ],
    },
    { now: t0, job: (k) => (k === 'ns/etl' ? offlineJob('ns/etl').build() : undefined) },
  );
}

const published = (o: { shieldC?: boolean; overhead?: boolean }, campus: string) => {
  const g = schedule(world(o), []).grants.campuses.find((c) => c.campus === campus);
  if (!g) throw new Error(`no grant for ${campus}`);
  return campusNumbers(g);
};

describe('campusNumbers: what a Campus status says, from the core’s grants', () => {
  it.each<[string, { shieldC?: boolean; overhead?: boolean }, string, Partial<CampusNumbers>]>([
    [
      'no shield: the ceiling is 2/3, and losing one more campus would raise it to all',
      {},
      'campus-a',
      {
        allocatable: { cpu: '32', memory: '128Gi' },
        onlineCeilingPercent: '66.7',
        onlineCeiling: { cpu: '21333m', memory: '91625968981' },
        failoverCeiling: { cpu: '32', memory: '128Gi' },
        onlineRequests: { cpu: '4', memory: '4Gi' },
        onlineGrant: { cpu: '4', memory: '4Gi' },
        headroom: { cpu: '17333m', memory: '87331001685' },
        reserve: { cpu: '0', memory: '0' },
      },
    ],
    [
      'pod overhead counts as requested',
      { overhead: true },
      'campus-a',
      {
        onlineRequests: { cpu: '4250m', memory: '4160Mi' },
        headroom: { cpu: '17083m', memory: '87263892821' },
      },
    ],
    [
      'campus-c shielded: campus-a’s ceiling in force rises to 100%, and it holds half of c’s load',
      { shieldC: true },
      'campus-a',
      {
        onlineCeilingPercent: '100',
        onlineCeiling: { cpu: '32', memory: '128Gi' },
        reserve: { cpu: '3', memory: '3Gi' },
        onlineGrant: { cpu: '7', memory: '7Gi' },
        headroom: { cpu: '28', memory: '124Gi' },
      },
    ],
    [
      'the shielded campus keeps its own ceiling, and is granted nothing offline',
      { shieldC: true },
      'campus-c',
      {
        onlineCeilingPercent: '66.7',
        failoverCeiling: { cpu: '21333m', memory: '91625968981' },
        offlineGrant: { cpu: '0', memory: '0' },
      },
    ],
    [
      'offline use and grant: all online does not hold or may soon need',
      {},
      'campus-b',
      {
        offlineRequests: { cpu: '8', memory: '16Gi' },
        offlineGrant: { cpu: '32', memory: '128Gi' },
      },
    ],
  ])('%s', (_name, o, campus, want) => {
    expect(published(o, campus)).toMatchObject(want);
  });
});

describe('queueNumbers and jobNumbers', () => {
  const g = schedule(world({}), []).grants;
  // the offline pool: 28 + 32 + 26 CPU and 124 + 128 + 122 Gi, what online does not hold
  it('a queue: what it uses, its fair share, DRF shares and what waits', () => {
    const q = g.queues.find((x) => x.queue === 'batch');
    if (!q) throw new Error('no grant for batch');
    expect(queueNumbers(q, { cpu: 2000, memory: 2 ** 30, pods: 1 })).toEqual({
      used: { cpu: '8', memory: '16Gi' },
      fairShare: { cpu: '86', memory: '374Gi' },
      dominantShare: '0.093', // 8 of 86 CPU
      fairDominantShare: '1',
      pendingDemand: { cpu: '2', memory: '1Gi' },
    });
  });

  it('a job: what its running pods hold, as its share of the pool and of its queue', () => {
    const j = g.jobs.find((x) => x.job === 'ns/etl');
    expect(jobNumbers(j)).toEqual({
      admitted: { cpu: '8', memory: '16Gi' },
      admittedShare: '0.093',
      queueShare: '1',
    });
    expect(jobNumbers(undefined)).toEqual({
      admitted: { cpu: '0', memory: '0' },
      admittedShare: '0',
      queueShare: '0',
    });
  });
});

describe('pendingByQueue', () => {
  const r = (cpu: number) => ({ cpu, memory: 0, pods: 1 });
  const parents = new Map<string, string | undefined>([
    ['org', undefined],
    ['org-x', 'org'],
    ['org-y', 'org'],
  ]);
  it.each([
    ['nothing waits', [], {}],
    [
      'a leaf’s pods count for it and its parent',
      [{ queue: 'org-x', requests: r(1000) }],
      {
        'org-x': 1000,
        org: 1000,
      },
    ],
    [
      'siblings add up in their parent',
      [
        { queue: 'org-x', requests: r(1000) },
        { queue: 'org-y', requests: r(500) },
      ],
      { 'org-x': 1000, 'org-y': 500, org: 1500 },
    ],
    ['a queue not in the tree charges nobody', [{ queue: 'lost', requests: r(1000) }], {}],
  ])('%s', (_name, pods, want) => {
    const got = pendingByQueue(pods, parents);
    expect(Object.fromEntries([...got].map(([q, v]) => [q, v.cpu]))).toEqual(want);
  });
});

describe('due: only changed numbers are written, and campuses and queues on a heartbeat', () => {
  const a = { used: { cpu: '1' } };
  const b = { used: { cpu: '2' } };
  it.each([
    ['the same numbers, published just now', a, 1_000, a, 30_000, undefined],
    ['numbers that changed', a, 1_000, b, 30_000, 'changed'],
    [
      'the same numbers, in another key order',
      { x: 1, y: 2 },
      1_000,
      { y: 2, x: 1 },
      30_000,
      undefined,
    ],
    ['the same numbers, a heartbeat old', a, 31_000, a, 30_000, 'heartbeat'],
    ['the same numbers, never published (a field missing)', a, undefined, a, 30_000, 'heartbeat'],
    ['the same numbers, old, no heartbeat (a job)', a, 1_000_000, a, undefined, undefined],
  ])('%s → %s', (_name, seen, age, next, heartbeatMs, want) => {
    const now = 2_000_000;
    expect(
      due({ numbers: seen, at: age === undefined ? undefined : now - age }, next, {
        now,
        ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
      }),
    ).toBe(want);
  });

  it('compares only the fields the scheduler owns of what the cache shows', () => {
    const status = { used: { cpu: '1' }, pendingJobs: 3, conditions: [] };
    expect(pick(status, { used: {}, fairShare: {} })).toEqual({ used: { cpu: '1' } });
  });
});
