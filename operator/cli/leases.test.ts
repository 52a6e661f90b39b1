// What a Lease says about who runs, as a table.
import { describe, expect, it } from 'vitest';
import { describeLease, leaseState } from './leases.ts';

const now = new Date('2026-12-07T16:00:00Z');
const at = (s: string): Date => new Date(`2026-12-07T${s}Z`);

describe('leaseState', () => {
  it.each([
    {
      name: 'renewed 3s ago within 15s: held',
      spec: { holderIdentity: 'op-0', renewTime: at('15:59:57'), leaseDurationSeconds: 15 },
      want: { kind: 'held', holder: 'op-0', renewedAgoMs: 3000 },
      text: 'op-0 (renewed 3s ago)',
    },
    {
      name: 'renewed 4m15s ago with 15s: expired 4m ago',
      spec: { holderIdentity: 'op-0', renewTime: at('15:55:45'), leaseDurationSeconds: 15 },
      want: { kind: 'expired', holder: 'op-0', expiredAgoMs: 240_000 },
      text: 'nobody (lease expired 4m ago, was op-0)',
    },
    {
      name: 'expiring exactly now: expired (nobody renews it any more)',
      spec: { holderIdentity: 'op-0', renewTime: at('15:59:45'), leaseDurationSeconds: 15 },
      want: { kind: 'expired', holder: 'op-0', expiredAgoMs: 0 },
      text: 'nobody (lease expired just now, was op-0)',
    },
    {
      name: 'renewed "in the future" (a holder’s clock ahead of ours): held',
      spec: { holderIdentity: 'op-0', renewTime: at('16:00:02'), leaseDurationSeconds: 15 },
      want: { kind: 'held', holder: 'op-0', renewedAgoMs: 0 },
      text: 'op-0 (renewed just now)',
    },
    {
      name: 'no holder (released on a clean stop): nobody',
      spec: { holderIdentity: '', renewTime: at('15:59:59'), leaseDurationSeconds: 1 },
      want: { kind: 'released' },
      text: 'nobody (lease released)',
    },
    {
      name: 'a holder without any time: expired, it cannot be trusted to run',
      spec: { holderIdentity: 'op-0', leaseDurationSeconds: 15 },
      want: { kind: 'expired', holder: 'op-0', expiredAgoMs: 0 },
      text: 'nobody (lease expired just now, was op-0)',
    },
    {
      name: 'only an acquire time: counted from it',
      spec: { holderIdentity: 'op-0', acquireTime: at('15:59:50'), leaseDurationSeconds: 15 },
      want: { kind: 'held', holder: 'op-0', renewedAgoMs: 10_000 },
      text: 'op-0 (renewed 10s ago)',
    },
  ])('$name', ({ spec, want, text }) => {
    const s = leaseState(spec, now);
    expect(s).toEqual(want);
    expect(describeLease(s)).toBe(text);
  });

  it.each([
    [{ kind: 'missing' } as const, 'nobody (no lease: never ran here)'],
    [{ kind: 'unreadable', reason: 'forbidden' } as const, 'unknown (forbidden)'],
  ])('says %j as "%s"', (s, text) => {
    expect(describeLease(s)).toBe(text);
  });
});
