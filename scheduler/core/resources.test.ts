import { describe, expect, it } from 'vitest';
import { requests } from './fixtures.ts';
import { formatFraction, formatResources } from './resources.ts';

describe('requests (the test builders)', () => {
  it('makes a request of one pod slot unless told otherwise', () => {
    expect(requests({ cpu: '250m' })).toEqual({ cpu: 250, memory: 0, pods: 1 });
  });
});

describe('words for reasons', () => {
  it.each([
    [{ cpu: 2000, memory: 4 * 2 ** 30, pods: 1 }, undefined, '2 CPU, 4 GiB'],
    [{ cpu: 500, memory: 0, pods: 1 }, undefined, '0.5 CPU'],
    [{ cpu: 0, memory: 1536 * 2 ** 20, pods: 1 }, undefined, '1.5 GiB'],
    [{ cpu: 0, memory: 0, pods: 0 }, undefined, '0 CPU'],
    [{ cpu: 1333.3, memory: 0, pods: 3 }, ['cpu', 'pods'] as const, '1.33 CPU, 3 pods'],
    [{ cpu: 0, memory: 0, pods: 1 }, ['memory', 'pods'] as const, '0 B, 1 pod'],
  ])('%j as %j reads "%s"', (r, only, want) => {
    expect(formatResources(r, only)).toBe(want);
  });

  it.each([
    [2 / 3, '2/3'],
    [0.5, '1/2'],
    [0.75, '3/4'],
    [1, '100%'],
    [0.7, '7/10'],
    [0.615, '61.5%'],
  ])('the fraction %d reads "%s"', (f, want) => {
    expect(formatFraction(f)).toBe(want);
  });
});
