import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import {
  bytes,
  cpuQuantity,
  formatBytes,
  formatCpu,
  memoryQuantity,
  milliCpu,
  parseQuantity,
  podRequests,
} from './quantity.ts';

describe('parseQuantity', () => {
  it.each([
    ['2', 2],
    ['500m', 0.5],
    ['1.5', 1.5],
    ['128Gi', 128 * 2 ** 30],
    ['1k', 1000],
    ['1Ki', 1024],
    ['1e3', 1000],
    ['0.5Mi', 2 ** 19],
    ['100M', 1e8],
  ])('%s → %d', (q, want) => {
    expect(parseQuantity(q)).toBe(want);
  });

  it.each(['', 'lots', '1GB', '--1', '1.2.3'])(
    'refuses %j with a message that shows examples',
    (q) => {
      expect(() => parseQuantity(q)).toThrow(/not a Kubernetes quantity.*500m/);
    },
  );
});

describe('milliCpu, bytes and formatting', () => {
  it.each([
    ['250m', 250],
    ['2', 2000],
    ['0.1', 100],
    ['1.0005', 1001],
    ['100u', 1], // rounded up, as Kubernetes does
    [4, 4000],
  ])('milliCpu(%s) = %d', (q, want) => {
    expect(milliCpu(q)).toBe(want);
  });

  it.each([
    ['4Gi', 4 * 2 ** 30],
    ['1G', 1e9],
    ['128974848', 128974848],
    ['0.5', 1],
  ])('bytes(%s) = %d', (q, want) => {
    expect(bytes(q)).toBe(want);
  });

  it.each([
    [12000, '12'],
    [2500, '2.5'],
    [750, '750m'],
  ])('formatCpu(%d) = %s', (m, want) => {
    expect(formatCpu(m)).toBe(want);
  });

  it.each([
    [24 * 2 ** 30, '24Gi'],
    [1.5 * 2 ** 30, '1.5Gi'],
    [512 * 2 ** 20, '512Mi'],
    [100, '100'],
  ])('formatBytes(%d) = %s', (b, want) => {
    expect(formatBytes(b)).toBe(want);
  });

  it.each([
    [42_000, '42'],
    [42_666.67, '42666m'],
    [0, '0'],
    [250, '250m'],
  ])('cpuQuantity(%d) = %s, exact to the millicore', (m, want) => {
    expect(cpuQuantity(m)).toBe(want);
    expect(milliCpu(want)).toBe(Math.floor(m));
  });

  it.each([
    [256 * 2 ** 30, '256Gi'],
    [1.5 * 2 ** 30, '1536Mi'],
    [(256 * 2 ** 30 * 2) / 3, '183251937962'],
    [0, '0'],
  ])('memoryQuantity(%d) = %s, exact to the byte', (b, want) => {
    expect(memoryQuantity(b)).toBe(want);
    expect(bytes(want)).toBe(Math.floor(b));
  });
});

describe('podRequests', () => {
  const pod = (spec: Partial<NonNullable<V1Pod['spec']>>): V1Pod => ({
    spec: { containers: [], ...spec },
  });
  const c = (cpu?: string, memory?: string) => ({
    name: 'c',
    resources: {
      requests: { ...(cpu ? { cpu } : {}), ...(memory ? { memory } : {}) },
    },
  });
  it.each([
    ['no requests', pod({ containers: [{ name: 'c' }] }), { cpu: 0, memory: 0 }],
    [
      'containers add up',
      pod({ containers: [c('500m', '1Gi'), c('250m', '512Mi')] }),
      { cpu: 750, memory: 1.5 * 2 ** 30 },
    ],
    [
      'a larger init container wins, per resource',
      pod({ containers: [c('500m', '1Gi')], initContainers: [c('2', '256Mi')] }),
      { cpu: 2000, memory: 2 ** 30 },
    ],
    [
      'the pod overhead is added on top',
      pod({ containers: [c('500m', '1Gi')], overhead: { cpu: '250m', memory: '120Mi' } }),
      { cpu: 750, memory: 2 ** 30 + 120 * 2 ** 20 },
    ],
  ])('%s', (_name, p, want) => {
    expect(podRequests(p)).toEqual(want);
  });
});
