import { describe, expect, it } from 'vitest';
import { desiredStatus, needsWrite } from './status.ts';
import type { ContainerView, PodObject, PodStatus, PodView } from './types.ts';

const running: ContainerView = {
  name: 'main',
  image: 'registry.local/yard/echo:1',
  containerID: 'process://42',
  state: { running: { startedAt: '2026-01-01T00:00:01Z' } },
  restartCount: 0,
  ready: true,
};
const view = (c: ContainerView = running): PodView => ({
  podIP: '127.16.0.254',
  hostIP: '127.0.0.1',
  startTime: '2026-01-01T00:00:00Z',
  containers: [c],
});
const pod = (status: PodStatus = {}, gated = true): PodObject => ({
  metadata: { name: 'p', namespace: 'n' },
  spec: gated ? { readinessGates: [{ conditionType: 'yard.dev/serving' }] } : {},
  status,
});
const serving = (s: string) => ({ type: 'yard.dev/serving', status: s, lastTransitionTime: 't0' });
const now = '2026-01-01T00:01:00Z';
const ready = (s: PodStatus) => s.conditions?.find((c) => c.type === 'Ready');

describe('desiredStatus', () => {
  it('reports a running pod: address, start, container, and Ready when its gate is open', () => {
    const s = desiredStatus({
      pod: pod({ conditions: [serving('True')] }),
      view: view(),
      policy: 'Always',
      now,
    });
    expect(s).toMatchObject({
      phase: 'Running',
      podIP: '127.16.0.254',
      podIPs: [{ ip: '127.16.0.254' }],
      hostIP: '127.0.0.1',
      hostIPs: [{ ip: '127.0.0.1' }],
      startTime: '2026-01-01T00:00:00Z',
      containerStatuses: [
        {
          name: 'main',
          image: 'registry.local/yard/echo:1',
          containerID: 'process://42',
          ready: true,
          started: true,
          restartCount: 0,
          state: { running: { startedAt: '2026-01-01T00:00:01Z' } },
          lastState: {},
        },
      ],
    });
    expect(s.conditions?.map((c) => `${c.type}=${c.status}`)).toEqual([
      'PodReadyToStartContainers=True',
      'Initialized=True',
      'ContainersReady=True',
      'Ready=True',
    ]);
  });

  it('never writes the gate itself: the gate is somebody else’s condition', () => {
    const s = desiredStatus({
      pod: pod({ conditions: [serving('False')] }),
      view: view(),
      policy: 'Always',
      now,
    });
    expect(s.conditions?.some((c) => c.type === 'yard.dev/serving')).toBe(false);
    expect(ready(s)).toMatchObject({ status: 'False', reason: 'ReadinessGatesNotReady' });
  });

  it('keeps the transition time of a condition that did not change, and stamps one that did', () => {
    const before: PodStatus = {
      conditions: [serving('True'), { type: 'Ready', status: 'True', lastTransitionTime: 't1' }],
    };
    expect(
      ready(desiredStatus({ pod: pod(before), view: view(), policy: 'Always', now }))
        ?.lastTransitionTime,
    ).toBe('t1');
    const closed: PodStatus = {
      ...before,
      conditions: [serving('False'), ...(before.conditions?.slice(1) ?? [])],
    };
    expect(
      ready(desiredStatus({ pod: pod(closed), view: view(), policy: 'Always', now }))
        ?.lastTransitionTime,
    ).toBe(now);
  });

  it('reports a crash loop: Running, not ready, the last exit, the restarts', () => {
    const looping: ContainerView = {
      ...running,
      state: { waiting: { reason: 'CrashLoopBackOff', message: 'back-off 2s' } },
      lastState: { terminated: { exitCode: 137, signal: 9, reason: 'Error' } },
      restartCount: 3,
      ready: false,
    };
    const s = desiredStatus({ pod: pod({}, false), view: view(looping), policy: 'Always', now });
    expect(s.phase).toBe('Running');
    expect(s.containerStatuses?.[0]).toMatchObject({
      ready: false,
      started: false,
      restartCount: 3,
      lastState: looping.lastState,
    });
    expect(ready(s)).toMatchObject({ status: 'False', reason: 'ContainersNotReady' });
  });

  it('keeps a finished pod finished, whatever the processes do', () => {
    const s = desiredStatus({
      pod: pod({ phase: 'Failed' }, false),
      view: view(),
      policy: 'Never',
      now,
    });
    expect(s.phase).toBe('Failed');
    expect(s.containerStatuses?.[0]?.ready).toBe(false);
  });
});

describe('needsWrite', () => {
  const want = desiredStatus({
    pod: pod({ conditions: [serving('True')] }),
    view: view(),
    policy: 'Always',
    now,
  });
  const withTimes = (s: PodStatus, t: string): PodStatus => ({
    ...s,
    conditions: [
      ...(s.conditions ?? []).map((c) => ({ ...c, lastTransitionTime: t })),
      serving('True'),
    ],
  });
  it.each<{ name: string; observed: PodStatus | undefined; want: boolean }>([
    { name: 'nothing written yet', observed: undefined, want: true },
    { name: 'the same status', observed: want, want: false },
    {
      name: 'only transition times and foreign conditions differ',
      observed: withTimes(want, 'older'),
      want: false,
    },
    {
      name: 'a restart count differs',
      observed: {
        ...want,
        containerStatuses: [{ ...running, ready: true, restartCount: 1, lastState: {} }],
      },
      want: true,
    },
    {
      name: 'Ready differs',
      observed: {
        ...want,
        conditions: (want.conditions ?? []).map((c) =>
          c.type === 'Ready' ? { ...c, status: 'False' } : c,
        ),
      },
      want: true,
    },
    { name: 'the address differs', observed: { ...want, podIP: '127.16.0.1' }, want: true },
  ])('$name: $want', ({ observed, want: w }) => {
    expect(needsWrite(observed, want)).toBe(w);
  });
});
