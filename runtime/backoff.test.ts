import { describe, expect, it } from 'vitest';
import { backoffDelay, KeyedBackoff } from './backoff.ts';

const policy = { baseMs: 5, maxMs: 1_000, jitter: 0.2 };

describe('backoffDelay', () => {
  it.each([
    { name: 'the first retry waits the base delay', failures: 0, random: 0, want: 5 },
    { name: 'each failure doubles it', failures: 3, random: 0, want: 40 },
    { name: 'it never passes the cap', failures: 30, random: 0, want: 1_000 },
    { name: 'a huge failure count still gives the cap', failures: 5_000, random: 0, want: 1_000 },
    { name: 'full jitter takes off at most the jitter fraction', failures: 3, random: 1, want: 32 },
    { name: 'jitter shortens the cap, never lengthens it', failures: 30, random: 1, want: 800 },
  ])('$name', ({ failures, random, want }) => {
    expect(backoffDelay(failures, policy, () => random)).toBeCloseTo(want, 6);
  });

  it('stays within [(1 - jitter) × d, d] for random jitter', () => {
    for (let failures = 0; failures < 20; failures++) {
      const d = Math.min(1_000, 5 * 2 ** failures);
      for (let i = 0; i < 50; i++) {
        const got = backoffDelay(failures, policy);
        expect(got).toBeGreaterThanOrEqual(0.8 * d);
        expect(got).toBeLessThanOrEqual(d);
      }
    }
  });
});

describe('KeyedBackoff', () => {
  it('grows per key and starts over after forget', () => {
    const b = new KeyedBackoff({ baseMs: 10, maxMs: 100, jitter: 0 });
    expect([b.next('a'), b.next('a'), b.next('a'), b.next('b')]).toEqual([10, 20, 40, 10]);
    expect(b.failures('a')).toBe(3);
    b.forget('a');
    expect(b.failures('a')).toBe(0);
    expect(b.next('a')).toBe(10);
  });
});
