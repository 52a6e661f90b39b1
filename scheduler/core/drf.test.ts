import { describe, expect, it } from 'vitest';
import { type GangAsk, type OfflineQueue } from './contract.ts';
import { compareNeed, guaranteeRatio } from './drf.ts';
import { gang, gangs, node, only, queue, snapshot, type QueueBuilder } from './fixtures.ts';
import { QueueTree } from './queues.ts';
import { schedule } from './schedule.ts';

/** Pods bound per job, from one cycle: each queue has one job named after it. */
function tasks(
  shape: { cpu: number; memory: string },
  queues: QueueBuilder[],
  jobs: GangAsk[],
): Record<string, number> {
  const world = snapshot({ nodes: [node('n-1').cpu(shape.cpu).memory(shape.memory)], queues });
  const { decisions } = schedule(world, jobs);
  const counts: Record<string, number> = {};
  for (const j of jobs) counts[j.job] = 0;
  for (const b of only(decisions, 'bind')) {
    const job = jobs.find((j) => j.pods.some((p) => p.name === b.pod))?.job ?? '?';
    counts[job] = (counts[job] ?? 0) + 1;
  }
  return counts;
}

/** A job of `count` one-pod tasks (no gang), in the queue of the same name. */
const demand = (q: string, count: number, r: { cpu: number; memory: string }): GangAsk =>
  gang(q).queue(q).members(count, r).build();

/** More 1-CPU, 1 GiB tasks in each queue than the node holds. */
const plenty = (...qs: string[]): GangAsk[] =>
  qs.map((q) => demand(q, 20, { cpu: 1, memory: '1Gi' }));

describe('weighted, hierarchical DRF over the offline queues', () => {
  it.each([
    {
      name: 'Ghodsi et al. (NSDI 2011): 9 CPU, 18 GB; A ⟨1 CPU, 4 GB⟩, B ⟨3 CPU, 1 GB⟩ → A runs 3, B runs 2',
      shape: { cpu: 9, memory: '18Gi' },
      queues: [queue('a'), queue('b')],
      jobs: [
        demand('a', 10, { cpu: 1, memory: '4Gi' }),
        demand('b', 10, { cpu: 3, memory: '1Gi' }),
      ],
      want: { a: 3, b: 2 },
    },
    {
      name: 'equal weights split 10 CPU evenly',
      shape: { cpu: 10, memory: '100Gi' },
      queues: [queue('a'), queue('b')],
      jobs: plenty('a', 'b'),
      want: { a: 5, b: 5 },
    },
    {
      name: 'weight 2 against weight 1 takes two thirds',
      shape: { cpu: 9, memory: '100Gi' },
      queues: [queue('a').weight(2), queue('b')],
      jobs: plenty('a', 'b'),
      want: { a: 6, b: 3 },
    },
    {
      name: 'a guarantee of 6 CPU is honoured before fair sharing',
      shape: { cpu: 10, memory: '100Gi' },
      queues: [queue('a').guaranteed({ cpu: 6 }), queue('b')],
      jobs: plenty('a', 'b'),
      want: { a: 6, b: 4 },
    },
    {
      name: 'a queue below its guarantee goes first even with a smaller weight',
      shape: { cpu: 10, memory: '100Gi' },
      queues: [queue('a').weight(1).guaranteed({ cpu: 4 }), queue('b').weight(9)],
      jobs: plenty('a', 'b'),
      want: { a: 4, b: 6 },
    },
    {
      name: 'a max of 2 CPU caps the queue and the rest goes to the other',
      shape: { cpu: 9, memory: '100Gi' },
      queues: [queue('a').max({ cpu: 2 }), queue('b')],
      jobs: plenty('a', 'b'),
      want: { a: 2, b: 7 },
    },
    {
      name: "a parent's share (weight 2 of 3) is divided among its children",
      shape: { cpu: 12, memory: '100Gi' },
      queues: [
        queue('org').weight(2),
        queue('org-x').parent('org'),
        queue('org-y').parent('org'),
        queue('ops'),
      ],
      jobs: plenty('org-x', 'org-y', 'ops'),
      want: { 'org-x': 4, 'org-y': 4, ops: 4 },
    },
    {
      name: "a parent's max caps its children together",
      shape: { cpu: 12, memory: '100Gi' },
      queues: [
        queue('org').max({ cpu: 4 }),
        queue('org-x').parent('org'),
        queue('org-y').parent('org'),
        queue('ops'),
      ],
      jobs: plenty('org-x', 'org-y', 'ops'),
      want: { 'org-x': 2, 'org-y': 2, ops: 8 },
    },
    {
      name: 'a queue with little demand leaves its share to the others',
      shape: { cpu: 10, memory: '100Gi' },
      queues: [queue('a'), queue('b')],
      jobs: [demand('a', 2, { cpu: 1, memory: '1Gi' }), demand('b', 20, { cpu: 1, memory: '1Gi' })],
      want: { a: 2, b: 8 },
    },
  ])('$name', ({ shape, queues, jobs, want }) => {
    expect(tasks(shape, queues, jobs)).toEqual(want);
  });

  it('fills gangs in DRF turns, a whole gang per turn', () => {
    const world = snapshot({
      nodes: [node('n-1').cpu(12).memory('100Gi')],
      queues: [queue('a'), queue('b')],
    });
    const { decisions } = schedule(
      world,
      gangs(
        gang('a-1').queue('a').members(3, { cpu: 1 }).min(3),
        gang('a-2').queue('a').members(3, { cpu: 1 }).min(3),
        gang('a-3').queue('a').members(3, { cpu: 1 }).min(3),
        gang('b-1').queue('b').members(6, { cpu: 1 }).min(6),
      ),
    );
    // a-1 (a: 3), then b-1 (b: 6), then a-2 (a: 6); a-3 no longer fits
    expect(only(decisions, 'bind').map((b) => b.pod.replace(/-\d+$/, ''))).toEqual([
      ...Array<string>(3).fill('a-1'),
      ...Array<string>(6).fill('b-1'),
      ...Array<string>(3).fill('a-2'),
    ]);
    expect(only(decisions, 'unschedulable').map((d) => d.ask)).toEqual(['a-3']);
  });

  it('reports each queue’s used and dominant share, and the fair share its weight entitles it to', () => {
    const world = snapshot({
      nodes: [node('n-1').cpu(9).memory('18Gi')],
      queues: [queue('a').weight(2), queue('b')],
    });
    const { grants } = schedule(world, [
      demand('a', 10, { cpu: 1, memory: '4Gi' }),
      demand('b', 10, { cpu: 3, memory: '1Gi' }),
    ]);
    expect(grants.queues.map((q) => [q.queue, q.fairFraction, q.fairShare.cpu])).toEqual([
      ['a', 2 / 3, 6000],
      ['b', 1 / 3, 3000],
    ]);
    for (const q of grants.queues) expect(q.dominantShare).toBeGreaterThan(0);
  });
});

describe('fair shares, for OfflineQueue status', () => {
  it.each([
    [
      'weights 2 and 1 split 9 CPU as 6 and 3',
      [queue('a').weight(2), queue('b')],
      { a: 6000, b: 3000 },
    ],
    [
      'a max caps the share',
      [queue('a').weight(2).max({ cpu: 2 }), queue('b')],
      { a: 2000, b: 3000 },
    ],
    [
      'a guarantee raises it',
      [queue('a'), queue('b').guaranteed({ cpu: 5 })],
      { a: 4500, b: 5000 },
    ],
    [
      'a parent’s share is split among its children',
      [queue('p').weight(2), queue('p-x').parent('p'), queue('p-y').parent('p'), queue('q')],
      { p: 6000, 'p-x': 3000, 'p-y': 3000, q: 3000 },
    ],
  ])('%s', (_name, queues, want) => {
    const world = snapshot({ nodes: [node('n-1').cpu(9).memory('18Gi')], queues });
    const { grants } = schedule(world, []);
    expect(Object.fromEntries(grants.queues.map((q) => [q.queue, q.fairShare.cpu]))).toEqual(want);
  });
});

describe('compareNeed', () => {
  const tree = (qs: OfflineQueue[]): QueueTree => new QueueTree(qs);
  const pool = { cpu: 10_000, memory: 100, pods: 100 };

  it.each([
    ['the smaller dominant share goes first', { a: 1000, b: 2000 }, {}, 'a'],
    ['weight divides the share', { a: 3000, b: 2000 }, { a: 2 }, 'a'],
    ['a tie breaks by name', { a: 1000, b: 1000 }, {}, 'a'],
  ])('%s', (_name, used, weights: Record<string, number>, want) => {
    const t = tree([
      { name: 'a', ...(weights.a ? { weight: weights.a } : {}) },
      { name: 'b', ...(weights.b ? { weight: weights.b } : {}) },
    ]);
    t.charge('a', { cpu: used.a, memory: 0, pods: 0 }, 1);
    t.charge('b', { cpu: used.b, memory: 0, pods: 0 }, 1);
    const [a, b] = [t.get('a'), t.get('b')];
    if (!a || !b) throw new Error('queues missing');
    expect(compareNeed(a, b, pool) < 0 ? 'a' : 'b').toBe(want);
  });

  it('measures a guarantee over the dimensions it names', () => {
    const t = tree([{ name: 'a', guaranteed: { cpu: 4000 } }]);
    t.charge('a', { cpu: 1000, memory: 50, pods: 1 }, 1);
    const a = t.get('a');
    expect(a && guaranteeRatio(a)).toBe(0.25);
  });
});
