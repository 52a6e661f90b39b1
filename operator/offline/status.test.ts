// What OfflineJob and OfflineQueue status say, as tables.
import { describe, expect, it } from 'vitest';
import type { OfflineQueue } from '../../crds/index.ts';
import type { Counts, JobPodView, JobSpecView } from './desired.ts';
import { jobStatus, queueCheck, queueProblem, queueStatus } from './status.ts';
import type { JobStatusInput } from './status.ts';

const now = new Date(Date.UTC(2026, 4, 1, 8, 0, 0));
const q = (name: string, spec: OfflineQueue['spec'] = {}): OfflineQueue => ({
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'OfflineQueue',
  metadata: { name, generation: 1 },
  spec,
});

const pod = (over: Partial<JobPodView> = {}): JobPodView => ({
  name: 'p',
  uid: 'u',
  phase: 'Running',
  deleting: false,
  tracked: true,
  disrupted: false,
  bound: true,
  unschedulable: undefined,
  created: 0,
  ...over,
});

const spec: JobSpecView = {
  name: 'etl',
  namespace: 'ns',
  uid: 'u',
  queue: 'batch',
  parallelism: 2,
  completions: 4,
  minAvailable: undefined,
  backoffLimit: 1,
  priority: 0,
  runDuration: undefined,
  template: {},
};

const input = (over: Partial<JobStatusInput> & { counts?: Counts } = {}): JobStatusInput => ({
  spec,
  counts: { succeeded: 0, failed: 0, preemptions: 0 },
  pods: [],
  created: 0,
  queue: { ok: true },
  previous: undefined,
  generation: 3,
  now,
  ...over,
});

describe('queueCheck', () => {
  const queues = [q('research'), q('ml', { parent: 'research' }), q('etl', { parent: 'research' })];
  it.each([
    { name: 'a leaf', queue: 'ml', want: { ok: true } },
    {
      name: 'missing',
      queue: 'nope',
      want: { ok: false, reason: 'QueueNotFound', message: 'queue nope does not exist' },
    },
    {
      name: 'a parent',
      queue: 'research',
      want: {
        ok: false,
        reason: 'NotALeafQueue',
        message: 'queue research is a parent queue; jobs must name one of its leaves (etl, ml)',
      },
    },
  ])('$name', ({ queue, want }) => {
    expect(queueCheck(queue, queues)).toEqual(want);
  });
});

describe('jobStatus', () => {
  it.each([
    {
      name: 'nothing bound yet: Pending',
      i: input({ pods: [pod({ bound: false, phase: 'Pending' })] }),
      phase: 'Pending',
      active: 1,
    },
    { name: 'a pod bound: Running', i: input({ pods: [pod()] }), phase: 'Running', active: 1 },
    {
      name: 'pods being created count as active',
      i: input({ created: 2 }),
      phase: 'Pending',
      active: 2,
    },
    {
      name: 'completions reached: Succeeded',
      i: input({ counts: { succeeded: 4, failed: 0, preemptions: 2 } }),
      phase: 'Succeeded',
      active: 0,
    },
    {
      name: 'past the back-off limit: Failed',
      i: input({ counts: { succeeded: 0, failed: 2, preemptions: 0 } }),
      phase: 'Failed',
      active: 0,
    },
  ])('$name', ({ i, phase, active }) => {
    const s = jobStatus(i);
    expect(s.phase).toBe(phase);
    expect(s.active).toBe(active);
    expect(s.progress).toBe(`${i.counts.succeeded}/4`);
    expect(s.observedGeneration).toBe(3);
  });

  it('says when its queue is missing, with the scheduler’s own words when they differ', () => {
    const s = jobStatus(
      input({
        queue: { ok: false, reason: 'QueueNotFound', message: 'queue batch does not exist' },
        pods: [
          pod({ bound: false, phase: 'Pending', unschedulable: 'the scheduler has not caught up' }),
        ],
      }),
    );
    expect(s.conditions?.find((c) => c.type === 'Admitted')).toMatchObject({
      status: 'False',
      reason: 'QueueNotFound',
      message: 'queue batch does not exist; the scheduler says: the scheduler has not caught up',
    });
  });

  it('sends the scheduler’s fields back as they are, and computes no share of its own', () => {
    const published = {
      queueShare: '0.5',
      admitted: { cpu: '8', memory: '16Gi' },
      admittedShare: '0.093',
      publishedAt: '2026-05-01T07:59:59Z',
    };
    const s = jobStatus(input({ previous: { phase: 'Running', ...published } }));
    expect(s).toMatchObject(published);
    expect(jobStatus(input()).queueShare).toBeUndefined();
  });

  it('passes on why its pods wait', () => {
    const s = jobStatus(
      input({
        pods: [
          pod({ bound: false, phase: 'Pending', unschedulable: 'gang etl needs 4 pods at once' }),
        ],
      }),
    );
    expect(s.conditions?.find((c) => c.type === 'Admitted')?.message).toBe(
      'queue batch admits the job; waiting for capacity: gang etl needs 4 pods at once',
    );
  });

  it('keeps its start time, and the transition times of conditions that did not change', () => {
    const first = jobStatus(input({ pods: [pod()] }));
    const later = jobStatus(
      input({ pods: [pod()], previous: first, now: new Date(now.getTime() + 60_000) }),
    );
    expect(later.startTime).toBe('2026-05-01T08:00:00Z');
    expect(later.conditions).toEqual(first.conditions);
    const done = jobStatus(
      input({
        counts: { succeeded: 4, failed: 0, preemptions: 1 },
        previous: later,
        now: new Date(now.getTime() + 120_000),
      }),
    );
    expect(done.completionTime).toBe('2026-05-01T08:02:00Z');
    expect(done.conditions?.find((c) => c.type === 'Complete')).toMatchObject({
      status: 'True',
      reason: 'CompletionsReached',
      lastTransitionTime: '2026-05-01T08:02:00Z',
    });
  });
});

describe('queueStatus', () => {
  it('reports its jobs by phase and its amounts in words, and leaves use and shares to the scheduler', () => {
    const s = queueStatus({
      queue: q('ml', { guaranteed: { cpu: '8' }, max: { cpu: '96', memory: '384Gi' } }),
      problem: undefined,
      jobPhases: ['Running', 'Pending', undefined, 'Succeeded'],
      previous: undefined,
      generation: 1,
      now,
    });
    expect(s).toEqual({
      observedGeneration: 1,
      pendingJobs: 2,
      runningJobs: 1,
      conditions: [expect.objectContaining({ type: 'Ready', status: 'True' })],
    });
    expect(s.conditions?.[0]?.message).toBe('guaranteed 8 CPU; maximum 96 CPU, 384Gi');
  });

  it.each([
    ['a top-level queue', 'top', undefined],
    ['a child of an existing parent', 'child', undefined],
    ['a cycle of parents', 'a', 'queue a is its own ancestor (a cycle of parents through a)'],
    ['a missing parent', 'c', 'queue c hangs under gone, which does not exist'],
    ['a missing grandparent', 'd', 'queue d hangs under c, whose ancestor gone does not exist'],
    [
      'a parent caught in a cycle',
      'e',
      'queue e hangs under a, whose ancestors form a cycle through a',
    ],
  ])('queueProblem: %s → %s', (_name, name, want) => {
    const queues = [
      q('top'),
      q('child', { parent: 'top' }),
      q('a', { parent: 'b' }),
      q('b', { parent: 'a' }),
      q('c', { parent: 'gone' }),
      q('d', { parent: 'c' }),
      q('e', { parent: 'a' }),
    ];
    const it = queues.find((x) => x.metadata.name === name) ?? q('x');
    expect(queueProblem(it, queues)).toBe(want);
  });

  it('is not Ready when the tree leaves it out, and says why', () => {
    const s = queueStatus({
      queue: q('c', { parent: 'gone' }),
      problem: 'queue c hangs under gone, which does not exist',
      jobPhases: [],
      previous: undefined,
      generation: 1,
      now,
    });
    expect(s.conditions?.[0]).toMatchObject({
      status: 'False',
      reason: 'BrokenQueueTree',
      message: 'queue c hangs under gone, which does not exist',
    });
  });
});
