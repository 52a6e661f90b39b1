import { describe, expect, it } from 'vitest';
import { nextRolloutStep, rolloutOrder } from './rollout.ts';
import type { CampusRolloutState } from './rollout.ts';
import { perCampusReplicas, survivesLossOfAnyCampus } from './sizing.ts';

const at = (campus: string, hash: string | undefined, available = true): CampusRolloutState => ({
  campus,
  hash,
  available,
});
const ready = (): boolean => true;

describe('perCampusReplicas', () => {
  it.each([
    ['capacity 6 over three campuses runs 3 each (9 run, 6 remain after a loss)', 6, 3, 3],
    ['capacity 7 over three campuses rounds up to 4 each', 7, 3, 4],
    ['capacity 6 over four campuses runs 2 each', 6, 4, 2],
    ['one campus runs the whole capacity (no loss to survive)', 5, 1, 5],
    ['no campus runs nothing', 5, 0, 0],
    ['capacity 1 over two campuses runs 1 each', 1, 2, 1],
  ])('%s', (_name, capacity, n, want) => {
    expect(perCampusReplicas(capacity, n)).toBe(want);
    // the rule itself: after losing any one campus, at least `capacity` remain
    if (n > 1) expect(want * (n - 1)).toBeGreaterThanOrEqual(capacity);
  });
});

describe('survivesLossOfAnyCampus', () => {
  const count = (campus: string, available: number) => ({
    campus,
    desired: 3,
    ready: available,
    updated: 3,
    available,
  });
  it.each([
    ['3+3+3 available, capacity 6: safe', [3, 3, 3], 6, true],
    ['3+3+1 available, capacity 6: losing a full campus leaves 4', [3, 3, 1], 6, false],
    ['3+3+0 available, capacity 6: losing a full one leaves 3', [3, 3, 0], 6, false],
    ['4+4+4 available, capacity 7: safe', [4, 4, 4], 7, true],
  ])('%s', (_name, avail, capacity, want) => {
    const counts = avail.map((a, i) => count(`campus-${'abc'[i]}`, a));
    expect(survivesLossOfAnyCampus(capacity, counts).safe).toBe(want);
  });
});

describe('nextRolloutStep', () => {
  it.each([
    [
      'everything at the target is done',
      [at('a', 'new'), at('b', 'new'), at('c', 'new')],
      { kind: 'done' },
    ],
    [
      'the first campus on the old template goes first',
      [at('a', 'old'), at('b', 'old'), at('c', 'old')],
      { kind: 'update', campus: 'a' },
    ],
    [
      'the next campus waits until the updated one is Available',
      [at('a', 'new', false), at('b', 'old'), at('c', 'old')],
      { kind: 'wait-available', campus: 'a' },
    ],
    [
      'then the second campus goes',
      [at('a', 'new'), at('b', 'old'), at('c', 'old')],
      { kind: 'update', campus: 'b' },
    ],
    [
      'a campus not yet created never blocks',
      [at('a', undefined), at('b', 'old')],
      { kind: 'update', campus: 'b' },
    ],
    [
      'an unavailable campus at the target blocks those after it even if they are done',
      [at('a', 'new'), at('b', 'new', false), at('c', 'new')],
      { kind: 'wait-available', campus: 'b' },
    ],
  ] as const)('%s', (_name, order, want) => {
    expect(nextRolloutStep(order, 'new', ready)).toEqual(want);
  });

  it('waits for the image on the next campus before updating it', () => {
    const step = nextRolloutStep([at('a', 'new'), at('b', 'old')], 'new', (c) => c !== 'b');
    expect(step).toEqual({ kind: 'wait-image', campus: 'b' });
  });
});

describe('rolloutOrder', () => {
  it.each([
    [
      'by name when no order is given',
      ['campus-c', 'campus-a', 'campus-b'],
      undefined,
      ['campus-a', 'campus-b', 'campus-c'],
    ],
    [
      'the given order first, the rest by name',
      ['campus-a', 'campus-b', 'campus-c'],
      ['campus-c'],
      ['campus-c', 'campus-a', 'campus-b'],
    ],
    [
      'names in the order that are not campuses are ignored',
      ['campus-a', 'campus-b'],
      ['campus-z', 'campus-b'],
      ['campus-b', 'campus-a'],
    ],
  ])('%s', (_name, campuses, preferred, want) => {
    expect(rolloutOrder(campuses, preferred)).toEqual(want);
  });
});
