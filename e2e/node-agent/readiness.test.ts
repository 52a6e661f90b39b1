import { describe, expect, it } from 'vitest';
import { findImage, imageTable } from './images.ts';
import {
  initialProbeState,
  nextProbeDelay,
  observe,
  probeSpec,
  readiness,
  startupIntervalMs,
} from './readiness.ts';
import type { ProbeState } from './readiness.ts';
import type { Container, PodCondition } from './types.ts';

const ip = '127.16.1.254';
const echo = findImage('registry.local/yard/echo:1', imageTable);
const c = (over: Partial<Container> = {}): Container => ({
  name: 'main',
  image: 'registry.local/yard/echo:1',
  ports: [{ name: 'http', containerPort: 8080 }],
  ...over,
});

describe('probeSpec', () => {
  it.each([
    {
      name: "no probe: the image's own HTTP check on the first port",
      c: c(),
      image: echo,
      want: { kind: 'http', scheme: 'http', host: ip, port: 8080, path: '/readyz', headers: {} },
    },
    {
      name: "the container's httpGet, by port name, with headers",
      c: c({
        readinessProbe: {
          httpGet: {
            path: '/ok',
            port: 'http',
            scheme: 'HTTPS',
            httpHeaders: [{ name: 'X', value: '1' }],
          },
        },
      }),
      image: echo,
      want: {
        kind: 'http',
        scheme: 'https',
        host: ip,
        port: 8080,
        path: '/ok',
        headers: { X: '1' },
      },
    },
    {
      name: "the container's tcpSocket",
      c: c({ readinessProbe: { tcpSocket: { port: 9000 } } }),
      image: echo,
      want: { kind: 'tcp', host: ip, port: 9000 },
    },
    {
      name: "an exec probe the agent cannot run: the image's check",
      c: c({ readinessProbe: { exec: { command: ['true'] } } }),
      image: echo,
      want: { kind: 'http', scheme: 'http', host: ip, port: 8080, path: '/readyz', headers: {} },
    },
    {
      name: 'an image without an HTTP check: a TCP connect',
      c: c(),
      image: undefined,
      want: { kind: 'tcp', host: ip, port: 8080 },
    },
    {
      name: 'no port at all: ready while running',
      c: c({ ports: [] }),
      image: echo,
      want: { kind: 'none' },
    },
    {
      name: 'a port name the container does not have: never ready, and why',
      c: c({ readinessProbe: { httpGet: { port: 'admin' } } }),
      image: echo,
      want: { kind: 'invalid', message: 'readinessProbe: no port named admin' },
    },
  ])('$name', ({ c: container, image, want }) => {
    expect(probeSpec(container, image, ip).check).toEqual(want);
  });

  it("keeps the kubelet's thresholds, with a 1 s period unless the probe names one", () => {
    const { check: _, ...defaults } = probeSpec(c(), echo, ip);
    expect(defaults).toEqual({
      initialDelayMs: 0,
      periodMs: 1000,
      timeoutMs: 1000,
      successThreshold: 1,
      failureThreshold: 3,
    });
    const { check: __, ...set } = probeSpec(
      c({
        readinessProbe: {
          periodSeconds: 5,
          initialDelaySeconds: 2,
          failureThreshold: 1,
          successThreshold: 2,
        },
      }),
      echo,
      ip,
    );
    expect(set).toMatchObject({
      periodMs: 5000,
      initialDelayMs: 2000,
      failureThreshold: 1,
      successThreshold: 2,
    });
  });
});

describe('observe', () => {
  const spec = { ...probeSpec(c(), echo, ip), successThreshold: 2, failureThreshold: 3 };
  const run = (results: string): boolean[] => {
    let s: ProbeState = initialProbeState;
    return [...results].map((r) => (s = observe(s, r === '+', spec)).ready);
  };
  it.each([
    { name: 'ready after successThreshold passes in a row', results: '++', want: [false, true] },
    {
      name: 'a failure resets the count of passes',
      results: '+-++',
      want: [false, false, false, true],
    },
    {
      name: 'unready only after failureThreshold failures in a row',
      results: '++---',
      want: [false, true, true, true, false],
    },
    {
      name: 'a pass between failures keeps it ready',
      results: '++--+--',
      want: [false, true, true, true, true, true, true],
    },
  ])('$name', ({ results, want }) => {
    expect(run(results)).toEqual(want);
  });

  it('checks often until the first pass, then every period', () => {
    expect(nextProbeDelay(initialProbeState, spec)).toBe(startupIntervalMs);
    expect(nextProbeDelay(observe(initialProbeState, true, spec), spec)).toBe(1000);
  });
});

describe('readiness', () => {
  const cond = (type: string, status: string): PodCondition => ({ type, status });
  const ready = [{ name: 'main', ready: true }];
  it.each([
    {
      name: 'ready containers and no gate: Ready',
      cs: ready,
      gates: [],
      conds: [],
      want: { status: 'True' },
    },
    {
      name: 'an open gate: Ready',
      cs: ready,
      gates: ['yard.dev/serving'],
      conds: [cond('yard.dev/serving', 'True')],
      want: { status: 'True' },
    },
    {
      name: 'a closed gate: not Ready, and which gate',
      cs: ready,
      gates: ['yard.dev/serving'],
      conds: [cond('yard.dev/serving', 'False')],
      want: {
        status: 'False',
        reason: 'ReadinessGatesNotReady',
        message: 'the status of pod readiness gate "yard.dev/serving" is not "True", but False',
      },
    },
    {
      name: 'a gate nobody set yet: not Ready (as the kubelet)',
      cs: ready,
      gates: ['yard.dev/serving'],
      conds: [],
      want: {
        status: 'False',
        reason: 'ReadinessGatesNotReady',
        message: 'corresponding condition of pod readiness gate "yard.dev/serving" does not exist.',
      },
    },
    {
      name: 'an unready container wins over gates',
      cs: [
        { name: 'a', ready: false },
        { name: 'b', ready: true },
      ],
      gates: ['yard.dev/serving'],
      conds: [cond('yard.dev/serving', 'True')],
      want: {
        status: 'False',
        reason: 'ContainersNotReady',
        message: 'containers with unready status: [a]',
      },
    },
  ])('$name', ({ cs, gates, conds, want }) => {
    expect(readiness(cs, gates, conds, 'Running').ready).toEqual(want);
  });

  it('a finished pod is not Ready, whatever its gates say', () => {
    expect(readiness(ready, [], [], 'Succeeded')).toEqual({
      containersReady: { status: 'False', reason: 'PodCompleted' },
      ready: { status: 'False', reason: 'PodCompleted' },
    });
  });
});
