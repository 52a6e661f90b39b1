import { describe, expect, it } from 'vitest';
import {
  findCondition,
  invalidCondition,
  isFalse,
  isTrue,
  removeCondition,
  setCondition,
} from './conditions.ts';
import type { Condition, ConditionUpdate } from './conditions.ts';

const t0 = '2026-01-01T00:00:00Z';
const now = new Date('2026-01-01T01:02:03.456Z');
const nowStr = '2026-01-01T01:02:03Z';

const ready = (over: Partial<Condition> = {}): Condition => ({
  type: 'Ready',
  status: 'True',
  reason: 'AllGood',
  message: 'all good',
  observedGeneration: 1,
  lastTransitionTime: t0,
  ...over,
});

describe('setCondition', () => {
  it.each<{
    name: string;
    before: Condition[] | undefined;
    update: ConditionUpdate;
    want: Condition[];
  }>([
    {
      name: 'adds a new condition stamped now',
      before: undefined,
      update: {
        type: 'Ready',
        status: 'False',
        reason: 'Waiting',
        message: 'm',
        observedGeneration: 2,
      },
      want: [
        ready({
          status: 'False',
          reason: 'Waiting',
          message: 'm',
          observedGeneration: 2,
          lastTransitionTime: nowStr,
        }),
      ],
    },
    {
      name: 'keeps the transition time when the status does not change',
      before: [ready()],
      update: {
        type: 'Ready',
        status: 'True',
        reason: 'StillGood',
        message: 'new words',
        observedGeneration: 5,
      },
      want: [ready({ reason: 'StillGood', message: 'new words', observedGeneration: 5 })],
    },
    {
      name: 'moves the transition time when the status flips',
      before: [ready()],
      update: {
        type: 'Ready',
        status: 'False',
        reason: 'Broken',
        message: 'x',
        observedGeneration: 1,
      },
      want: [
        ready({ status: 'False', reason: 'Broken', message: 'x', lastTransitionTime: nowStr }),
      ],
    },
    {
      name: 'Unknown counts as a flip too',
      before: [ready()],
      update: {
        type: 'Ready',
        status: 'Unknown',
        reason: 'Lost',
        message: '',
        observedGeneration: 1,
      },
      want: [ready({ status: 'Unknown', reason: 'Lost', message: '', lastTransitionTime: nowStr })],
    },
    {
      name: 'leaves other conditions alone and keeps their order',
      before: [ready({ type: 'A' }), ready({ type: 'B' }), ready({ type: 'C' })],
      update: { type: 'B', status: 'False', reason: 'No', message: '' },
      want: [
        ready({ type: 'A' }),
        { type: 'B', status: 'False', reason: 'No', message: '', lastTransitionTime: nowStr },
        ready({ type: 'C' }),
      ],
    },
  ])('$name', ({ before, update, want }) => {
    const frozen = before ? structuredClone(before) : undefined;
    expect(setCondition(before, update, now)).toEqual(want);
    expect(before).toEqual(frozen); // the input is not changed
  });

  it.each<{ name: string; update: ConditionUpdate; want: RegExp }>([
    {
      name: 'a reason with spaces',
      update: { type: 'Ready', status: 'True', reason: 'all good', message: '' },
      want: /reason/,
    },
    {
      name: 'an empty reason',
      update: { type: 'Ready', status: 'True', reason: '', message: '' },
      want: /reason/,
    },
    {
      name: 'a status that is not True/False/Unknown',
      update: { type: 'Ready', status: 'Yes' as 'True', reason: 'R', message: '' },
      want: /status/,
    },
    {
      name: 'a type with spaces',
      update: { type: 'Not ready', status: 'True', reason: 'R', message: '' },
      want: /type/,
    },
    {
      name: 'a negative observedGeneration',
      update: { type: 'Ready', status: 'True', reason: 'R', message: '', observedGeneration: -1 },
      want: /observedGeneration/,
    },
  ])('refuses $name, as the API server would', ({ update, want }) => {
    expect(invalidCondition(update)).toMatch(want);
    expect(() => setCondition([], update, now)).toThrow(want);
  });

  it('accepts a domain-prefixed type', () => {
    expect(
      invalidCondition({ type: 'yard.dev/CampusSafe', status: 'True', reason: 'Ok', message: '' }),
    ).toBeUndefined();
  });
});

describe('finding conditions', () => {
  const conds = [ready({ observedGeneration: 3 }), ready({ type: 'Degraded', status: 'False' })];

  it.each([
    { name: 'True is true', fn: () => isTrue(conds, 'Ready'), want: true },
    { name: 'True for the current generation', fn: () => isTrue(conds, 'Ready', 3), want: true },
    {
      name: 'True about an older generation does not count',
      fn: () => isTrue(conds, 'Ready', 4),
      want: false,
    },
    { name: 'a missing condition is not true', fn: () => isTrue(conds, 'Available'), want: false },
    {
      name: 'a missing condition is not false either',
      fn: () => isFalse(conds, 'Available'),
      want: false,
    },
    { name: 'False is false', fn: () => isFalse(conds, 'Degraded'), want: true },
    { name: 'no list at all', fn: () => isTrue(undefined, 'Ready'), want: false },
  ])('$name', ({ fn, want }) => {
    expect(fn()).toBe(want);
  });

  it('finds and removes by type', () => {
    expect(findCondition(conds, 'Degraded')?.status).toBe('False');
    expect(removeCondition(conds, 'Ready').map((c) => c.type)).toEqual(['Degraded']);
  });
});
