import { describe, expect, it } from 'vitest';
import { formatBytes, formatCpu, milliCpu, parseQuantity } from './quantity.ts';

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

  it.each(['', 'lots', '1GB', '--1'])('refuses %j with a message that shows examples', (q) => {
    expect(() => parseQuantity(q)).toThrow(/not a Kubernetes quantity.*500m/);
  });
});

describe('milliCpu and formatting', () => {
  it.each([
    ['250m', 250],
    ['2', 2000],
    ['0.1', 100],
    ['1.0005', 1001],
  ])('milliCpu(%s) = %d', (q, want) => {
    expect(milliCpu(q)).toBe(want);
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
});
