import { describe, expect, it } from 'vitest';
import {
  exitOf,
  nextStreak,
  podPhase,
  restartDelay,
  restartPolicyOf,
  shouldRestart,
} from './restart.ts';
import type { PhaseInput } from './restart.ts';
import type { RestartPolicy } from './types.ts';

const b = { baseMs: 1_000, maxMs: 30_000, resetAfterMs: 60_000 };

describe('shouldRestart', () => {
  it.each<[RestartPolicy, number, boolean]>([
    ['Always', 0, true],
    ['Always', 1, true],
    ['OnFailure', 0, false],
    ['OnFailure', 137, true],
    ['Never', 0, false],
    ['Never', 2, false],
  ])('%s with exit code %i: %s', (policy, code, want) => {
    expect(shouldRestart(policy, code)).toBe(want);
  });

  it('takes an unset or unknown policy as Always, as the API defaults it', () => {
    expect([
      restartPolicyOf(undefined),
      restartPolicyOf('Sometimes'),
      restartPolicyOf('Never'),
    ]).toEqual(['Always', 'Always', 'Never']);
  });
});

describe('restart back-off', () => {
  it.each([
    { name: 'the first crash restarts at once', streak: 1, want: 0 },
    { name: 'the second waits the base delay', streak: 2, want: 1_000 },
    { name: 'then the delay doubles', streak: 4, want: 4_000 },
    { name: 'and stops at the ceiling', streak: 7, want: 30_000 },
    { name: 'a huge streak still gives the ceiling', streak: 5_000, want: 30_000 },
  ])('$name', ({ streak, want }) => {
    expect(restartDelay(streak, b)).toBe(want);
  });

  it.each([
    { name: 'a quick crash extends the streak', streak: 3, ranMs: 500, want: 4 },
    { name: 'a long enough run starts a new streak', streak: 6, ranMs: 60_000, want: 1 },
    { name: 'the first crash starts the first streak', streak: 0, ranMs: 10, want: 1 },
  ])('$name', ({ streak, ranMs, want }) => {
    expect(nextStreak(streak, ranMs, b)).toBe(want);
  });
});

describe('exitOf', () => {
  it.each([
    { name: 'a clean exit', code: 0, signal: null, want: { exitCode: 0 } },
    { name: 'an exit code', code: 3, signal: null, want: { exitCode: 3 } },
    { name: 'SIGKILL is 137', code: null, signal: 'SIGKILL', want: { exitCode: 137, signal: 9 } },
    { name: 'SIGTERM is 143', code: null, signal: 'SIGTERM', want: { exitCode: 143, signal: 15 } },
  ])('$name', ({ code, signal, want }) => {
    expect(exitOf(code, signal)).toEqual(want);
  });
});

const running: PhaseInput = { state: { running: { startedAt: 't' } } };
const creating: PhaseInput = { state: { waiting: { reason: 'ContainerCreating' } } };
const ok: PhaseInput = { state: { terminated: { exitCode: 0 } } };
const failed: PhaseInput = { state: { terminated: { exitCode: 1 } } };
const backingOff: PhaseInput = {
  state: { waiting: { reason: 'CrashLoopBackOff' } },
  lastState: { terminated: { exitCode: 1 } },
};

describe('podPhase (the kubelet getPhase)', () => {
  it.each<{ name: string; cs: PhaseInput[]; policy: RestartPolicy; want: string }>([
    {
      name: 'a container not started yet: Pending',
      cs: [creating],
      policy: 'Always',
      want: 'Pending',
    },
    { name: 'one running container: Running', cs: [running], policy: 'Never', want: 'Running' },
    {
      name: 'a crash-looping container: Running',
      cs: [backingOff],
      policy: 'Always',
      want: 'Running',
    },
    {
      name: 'OnFailure and a failure to restart: Running',
      cs: [backingOff],
      policy: 'OnFailure',
      want: 'Running',
    },
    { name: 'Never and a clean exit: Succeeded', cs: [ok], policy: 'Never', want: 'Succeeded' },
    {
      name: 'OnFailure and a clean exit: Succeeded',
      cs: [ok],
      policy: 'OnFailure',
      want: 'Succeeded',
    },
    { name: 'Never and a failed exit: Failed', cs: [failed], policy: 'Never', want: 'Failed' },
    {
      name: 'Never, one done and one running: Running',
      cs: [ok, running],
      policy: 'Never',
      want: 'Running',
    },
    {
      name: 'Never, one clean and one failed: Failed',
      cs: [ok, failed],
      policy: 'Never',
      want: 'Failed',
    },
    {
      name: 'Always never ends, even after a clean exit',
      cs: [ok],
      policy: 'Always',
      want: 'Running',
    },
    {
      name: 'one waiting beside a running one: Pending',
      cs: [running, creating],
      policy: 'Always',
      want: 'Pending',
    },
  ])('$name', ({ cs, policy, want }) => {
    expect(podPhase(cs, policy)).toBe(want);
  });
});
