import { describe, expect, it } from 'vitest';
import { decide, nextLeaseSpec } from './leader-election.ts';
import type { LeaseDecision, LeaseSpec } from './leader-election.ts';

const me = 'op-1';
const held = (holder: string, seconds = 15): LeaseSpec => ({
  holderIdentity: holder,
  leaseDurationSeconds: seconds,
  renewTime: '2026-01-01T00:00:00.000000Z',
  leaseTransitions: 3,
});

describe('decide: what a candidate may do with the lease', () => {
  it.each<{
    name: string;
    spec: LeaseSpec | undefined;
    now: number;
    observedAt: number;
    want: LeaseDecision['kind'];
  }>([
    { name: 'no lease yet: create it', spec: undefined, now: 0, observedAt: 0, want: 'create' },
    { name: 'we hold it: renew', spec: held(me), now: 100_000, observedAt: 0, want: 'renew' },
    {
      name: 'another holds it and we saw it change 5 s ago: wait',
      spec: held('op-2'),
      now: 5_000,
      observedAt: 0,
      want: 'wait',
    },
    {
      name: 'another holds it, unchanged for its whole 15 s: take it',
      spec: held('op-2'),
      now: 15_000,
      observedAt: 0,
      want: 'take',
    },
    {
      name: 'released (no holder): take it at once',
      spec: { ...held(''), leaseDurationSeconds: 1 },
      now: 0,
      observedAt: 0,
      want: 'take',
    },
    {
      name: 'expiry counts from when we saw the record, not its renewTime (clock skew)',
      spec: held('op-2'),
      now: 20_000,
      observedAt: 10_000,
      want: 'wait',
    },
  ])('$name', ({ spec, now, observedAt, want }) => {
    expect(decide(spec, me, now, observedAt).kind).toBe(want);
  });
});

describe('nextLeaseSpec', () => {
  const now = Date.UTC(2026, 0, 1, 0, 0, 10);
  it('counts a transition when taking, keeps acquireTime when renewing', () => {
    const taken = nextLeaseSpec({ kind: 'take', from: 'op-2' }, held('op-2'), me, now, 15_000);
    expect(taken).toEqual({
      holderIdentity: me,
      leaseDurationSeconds: 15,
      acquireTime: '2026-01-01T00:00:10.000000Z',
      renewTime: '2026-01-01T00:00:10.000000Z',
      leaseTransitions: 4,
    });
    const renewed = nextLeaseSpec({ kind: 'renew' }, taken, me, now + 2_000, 15_000);
    expect(renewed.acquireTime).toBe(taken.acquireTime);
    expect(renewed.renewTime).toBe('2026-01-01T00:00:12.000000Z');
    expect(renewed.leaseTransitions).toBe(4);
  });

  it('rounds a lease duration up to whole seconds', () => {
    expect(nextLeaseSpec({ kind: 'create' }, undefined, me, now, 2_500).leaseDurationSeconds).toBe(
      3,
    );
  });
});
