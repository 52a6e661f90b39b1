// The OfflineJob controller's decisions, as tables: outcomes, counting, which
// pods to create or remove, and what a new pod looks like.
import { describe, expect, it } from 'vitest';
import {
  desiredPod,
  jobEnd,
  noCounts,
  outcomeOf,
  podChanges,
  tally,
  type Counts,
  type JobPodView,
  type JobSpecView,
} from './desired.ts';
import { finalizer } from '../../crds/names.ts';

const view = (name: string, over: Partial<JobPodView> = {}): JobPodView => ({
  name,
  uid: `uid-${name}`,
  phase: 'Running',
  deleting: false,
  tracked: true,
  disrupted: false,
  bound: true,
  unschedulable: undefined,
  created: 0,
  ...over,
});

const spec = (over: Partial<JobSpecView> = {}): JobSpecView => ({
  name: 'etl',
  namespace: 'ns',
  uid: 'job-uid',
  queue: 'batch',
  parallelism: 3,
  completions: 5,
  minAvailable: undefined,
  backoffLimit: 2,
  priority: 0,
  runDuration: '90s',
  template: {
    metadata: { labels: { team: 'data' } },
    spec: { containers: [{ name: 'w', image: 'img' }] },
  },
  ...over,
});

const counts = (succeeded: number, failed = 0, preemptions = 0): Counts => ({
  succeeded,
  failed,
  preemptions,
});

describe('outcomeOf', () => {
  it.each([
    { name: 'running', pod: view('a'), want: 'active' },
    {
      name: 'pending, unbound',
      pod: view('a', { phase: 'Pending', bound: false }),
      want: 'active',
    },
    { name: 'succeeded', pod: view('a', { phase: 'Succeeded' }), want: 'succeeded' },
    {
      name: 'succeeded, then deleted',
      pod: view('a', { phase: 'Succeeded', deleting: true }),
      want: 'succeeded',
    },
    { name: 'failed on its own', pod: view('a', { phase: 'Failed' }), want: 'failed' },
    {
      name: 'failed because it was disrupted',
      pod: view('a', { phase: 'Failed', disrupted: true }),
      want: 'preempted',
    },
    {
      name: 'evicted (deleted before it finished)',
      pod: view('a', { deleting: true, disrupted: true }),
      want: 'preempted',
    },
    {
      name: 'deleted by someone before it finished',
      pod: view('a', { deleting: true }),
      want: 'preempted',
    },
  ])('$name: $want', ({ pod, want }) => {
    expect(outcomeOf(pod)).toBe(want);
  });
});

describe('tally', () => {
  it.each([
    { name: 'nothing ended', pods: [view('a'), view('b')], counted: [], want: noCounts, names: [] },
    {
      name: 'each end counts once, by its kind',
      pods: [
        view('s', { phase: 'Succeeded' }),
        view('f', { phase: 'Failed' }),
        view('p', { deleting: true, disrupted: true }),
        view('r'),
      ],
      counted: [],
      want: counts(1, 1, 1),
      names: ['s', 'f', 'p'],
    },
    {
      name: 'a pod without the finalizer was counted before',
      pods: [view('s', { phase: 'Succeeded', tracked: false })],
      counted: [],
      want: noCounts,
      names: [],
    },
    {
      name: 'a pod counted whose finalizer removal the cache does not show yet',
      pods: [view('s', { phase: 'Succeeded' })],
      counted: ['uid-s'],
      want: noCounts,
      names: [],
    },
  ])('$name', ({ pods, counted, want, names }) => {
    const t = tally(pods, new Set(counted));
    expect(t.add).toEqual(want);
    expect(t.pods.map((p) => p.name)).toEqual(names);
  });
});

describe('jobEnd', () => {
  it.each([
    { name: 'in progress', counts: counts(4, 2, 9), want: undefined },
    { name: 'completions reached', counts: counts(5), want: 'Succeeded' },
    { name: 'more failures than the back-off limit', counts: counts(0, 3), want: 'Failed' },
    { name: 'preemptions never fail a job', counts: counts(0, 0, 100), want: undefined },
  ])('$name', ({ counts: c, want }) => {
    expect(jobEnd(spec(), c)).toBe(want);
  });
});

describe('podChanges', () => {
  it.each([
    {
      name: 'a new job starts parallelism pods',
      counts: noCounts,
      pods: [],
      want: { create: 3, remove: [] },
    },
    {
      name: 'a preempted pod is replaced at once',
      counts: counts(0, 0, 1),
      pods: [view('a'), view('b')],
      want: { create: 1, remove: [] },
    },
    {
      name: 'never more than the completions left',
      counts: counts(3),
      pods: [view('a')],
      want: { create: 1, remove: [] },
    },
    {
      name: 'a finished job removes what still runs',
      counts: counts(5),
      pods: [view('a')],
      want: { create: 0, remove: ['a'] },
    },
    {
      name: 'a failed job removes what still runs',
      counts: counts(1, 3),
      pods: [view('a'), view('b', { phase: 'Succeeded' })],
      want: { create: 0, remove: ['a'] },
    },
    {
      name: 'too many: unbound ones go first, the newest first',
      counts: counts(3),
      pods: [
        view('old-running', { created: 1 }),
        view('new-running', { created: 3 }),
        view('old-waiting', { bound: false, created: 2 }),
        view('new-waiting', { bound: false, created: 4 }),
      ],
      want: { create: 0, remove: ['new-waiting', 'old-waiting'] },
    },
  ])('$name', ({ counts: c, pods, want }) => {
    expect(podChanges(spec(), c, pods)).toEqual(want);
  });
});

describe('desiredPod', () => {
  it('is placed by Yard as offline work of its job and queue, tracked, and declares its run time', () => {
    expect(desiredPod(spec())).toEqual({
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: {
        generateName: 'etl-',
        namespace: 'ns',
        labels: {
          team: 'data',
          'yard.dev/framework': 'offline',
          'yard.dev/queue': 'batch',
          'yard.dev/offline-job': 'etl',
        },
        annotations: { 'yard.dev/run-duration': '90s' },
        ownerReferences: [
          {
            apiVersion: 'yard.dev/v1alpha1',
            kind: 'OfflineJob',
            name: 'etl',
            uid: 'job-uid',
            controller: true,
            blockOwnerDeletion: true,
          },
        ],
        finalizers: [finalizer.offlineJobTracking],
      },
      spec: {
        containers: [{ name: 'w', image: 'img' }],
        schedulerName: 'yard',
        priorityClassName: 'yard-offline',
        restartPolicy: 'Never',
      },
    });
  });

  it.each([
    {
      name: 'no run time: the containers decide',
      over: { runDuration: undefined },
      annotations: {},
    },
    {
      name: 'OnFailure is kept; Always is not Job-like',
      over: {
        template: { spec: { containers: [], restartPolicy: 'OnFailure' } },
      },
      restart: 'OnFailure',
    },
  ])('$name', ({ over, annotations, restart }) => {
    const p = desiredPod(spec(over));
    if (annotations) expect(p.metadata?.annotations).toEqual(annotations);
    if (restart) expect(p.spec?.restartPolicy).toBe(restart);
  });
});
