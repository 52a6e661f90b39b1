// Who runs Yard, as its Leases say: the operator holds `yard-operator`, the
// scheduler `yard-scheduler`. A Lease with no holder (released on a clean
// stop) or whose renewTime + leaseDurationSeconds has passed means nothing
// runs that component, so what is written in the API waits and what is read
// from status is as the last holder left it.
//
// This compares the holder's renewTime with our clock, which the elector
// itself avoids (leader-election.ts); for telling a person "nobody has
// renewed this for 4 minutes" a few seconds of skew do not matter.
import { CoordinationV1Api } from '@kubernetes/client-node';
import type { KubeConfig, V1LeaseSpec } from '@kubernetes/client-node';
import { formatDuration } from '../../runtime/duration.ts';
import { apiMessage, isNotFound } from '../../runtime/errors.ts';

export type LeaseState =
  | { readonly kind: 'held'; readonly holder: string; readonly renewedAgoMs: number }
  | { readonly kind: 'expired'; readonly holder: string; readonly expiredAgoMs: number }
  | { readonly kind: 'released' }
  | { readonly kind: 'missing' }
  | { readonly kind: 'unreadable'; readonly reason: string };

/** What a Lease's spec says at `now` (pure). */
export function leaseState(spec: V1LeaseSpec | undefined, now: Date): LeaseState {
  const holder = spec?.holderIdentity ?? '';
  if (holder === '') return { kind: 'released' };
  const renewed = spec?.renewTime ?? spec?.acquireTime;
  const renewedAt = renewed ? new Date(renewed).getTime() : NaN;
  if (Number.isNaN(renewedAt)) return { kind: 'expired', holder, expiredAgoMs: 0 };
  const expiresAt = renewedAt + (spec?.leaseDurationSeconds ?? 0) * 1000;
  if (expiresAt <= now.getTime())
    return { kind: 'expired', holder, expiredAgoMs: now.getTime() - expiresAt };
  return { kind: 'held', holder, renewedAgoMs: Math.max(0, now.getTime() - renewedAt) };
}

export const isHeld = (s: LeaseState): boolean => s.kind === 'held';

/** Whether it is known that nothing holds it (an unreadable lease tells nothing). */
export const nobodyHolds = (s: LeaseState): boolean =>
  s.kind === 'released' || s.kind === 'expired' || s.kind === 'missing';

const ago = (ms: number): string => (ms < 1000 ? 'just now' : `${formatDuration(ms)} ago`);

/** `yard-operator-0 (renewed 2s ago)`, `nobody (expired 4m ago, was yard-operator-0)`, … (pure). */
export function describeLease(s: LeaseState): string {
  switch (s.kind) {
    case 'held':
      return `${s.holder} (renewed ${ago(s.renewedAgoMs)})`;
    case 'expired':
      return `nobody (lease expired ${ago(s.expiredAgoMs)}, was ${s.holder})`;
    case 'released':
      return 'nobody (lease released)';
    case 'missing':
      return 'nobody (no lease: never ran here)';
    case 'unreadable':
      return `unknown (${s.reason})`;
  }
}

/** Reads a Lease and says what it means at `now`. Never throws: an unreadable lease says why. */
export async function readLeaseState(
  kc: KubeConfig,
  namespace: string,
  name: string,
  now: Date,
): Promise<LeaseState> {
  try {
    const lease = await kc
      .makeApiClient(CoordinationV1Api)
      .readNamespacedLease({ name, namespace });
    return leaseState(lease.spec, now);
  } catch (err) {
    if (isNotFound(err)) return { kind: 'missing' };
    return {
      kind: 'unreadable',
      reason: `cannot read lease ${namespace}/${name}: ${apiMessage(err)}`,
    };
  }
}

export const operatorLease = 'yard-operator';
export const schedulerLease = 'yard-scheduler';
