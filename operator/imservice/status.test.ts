import { describe, expect, it } from 'vitest';
import { imserviceStatus } from './status.ts';
import type { StatusInput } from './status.ts';
import type { CampusCount } from './sizing.ts';

const now = new Date('2026-11-22T10:00:00Z');
const c = (campus: string, available: number, updated = 3, desired = 3): CampusCount => ({
  campus,
  desired,
  ready: available,
  updated,
  available,
});
const input = (counts: CampusCount[], over: Partial<StatusInput> = {}): StatusInput => ({
  capacity: 6,
  counts,
  step: { kind: 'done' },
  pausing: false,
  target: 'h1',
  shielded: new Set(),
  previous: undefined,
  generation: 4,
  now,
  campuses: { ok: true, reason: 'CampusesResolved', message: 'spread over 3 campuses' },
  ...over,
});
const cond = (s: ReturnType<typeof imserviceStatus>, type: string) =>
  s.conditions?.find((x) => x.type === type);

describe('imserviceStatus', () => {
  it.each([
    [
      'all campuses full: available, campus-safe, not degraded, complete',
      [c('a', 3), c('b', 3), c('c', 3)],
      'True',
      'True',
      'False',
    ],
    [
      'one campus down: still available (6 of 6), not campus-safe, degraded',
      [c('a', 3), c('b', 3), c('c', 0)],
      'True',
      'False',
      'True',
    ],
    [
      'two campuses half down: below capacity',
      [c('a', 3), c('b', 1), c('c', 1)],
      'False',
      'False',
      'True',
    ],
  ])('%s', (_name, counts, available, safe, degraded) => {
    const s = imserviceStatus(input(counts));
    expect(cond(s, 'Available')?.status).toBe(available);
    expect(cond(s, 'CampusSafe')?.status).toBe(safe);
    expect(cond(s, 'Degraded')?.status).toBe(degraded);
    expect(cond(s, 'Available')?.observedGeneration).toBe(4);
  });

  it('a shielded campus below desired is not Degraded (its pods stop serving by design)', () => {
    const s = imserviceStatus(
      input([c('a', 3), c('b', 3), c('c', 0)], { shielded: new Set(['c']) }),
    );
    expect(cond(s, 'Degraded')?.status).toBe('False');
    expect(cond(s, 'CampusSafe')?.message).toBe('losing a would leave 3 of 6 needed replicas');
  });

  it.each([
    [
      'done and all updated',
      { kind: 'done' } as const,
      false,
      'False',
      'RolloutComplete',
      'Complete',
    ],
    [
      'updating a campus',
      { kind: 'update', campus: 'b' } as const,
      false,
      'True',
      'RollingOutCampus',
      'Updating',
    ],
    [
      'pausing before a campus',
      { kind: 'wait-available', campus: 'b' } as const,
      true,
      'True',
      'RollingOutCampus',
      'Pausing',
    ],
    [
      'waiting for the image',
      { kind: 'wait-image', campus: 'c' } as const,
      false,
      'True',
      'WaitingForImage',
      'Distributing',
    ],
  ])('Progressing when %s', (_name, step, pausing, status, reason, phase) => {
    const s = imserviceStatus(input([c('a', 3), c('b', 3), c('c', 3)], { step, pausing }));
    expect(cond(s, 'Progressing')).toMatchObject({ status, reason });
    expect(s.rollout?.phase).toBe(phase);
  });

  it.each([
    [true, 'CampusesResolved', 'True'],
    [false, 'UnknownCampus', 'False'],
  ])('CampusesResolved carries the placement verdict (ok %s → %s %s)', (ok, reason, status) => {
    const message = ok ? 'spread over 3 campuses' : 'spec.rollout.campusOrder names "x"';
    const s = imserviceStatus(input([c('a', 3), c('b', 3)], { campuses: { ok, reason, message } }));
    expect(cond(s, 'CampusesResolved')).toMatchObject({ status, reason, message });
  });

  it('keeps lastTransitionTime when a condition does not flip', () => {
    const first = imserviceStatus(input([c('a', 3), c('b', 3), c('c', 3)]));
    const later = imserviceStatus(
      input([c('a', 3), c('b', 3), c('c', 3)], {
        previous: first.conditions,
        now: new Date('2026-11-22T11:00:00Z'),
      }),
    );
    expect(cond(later, 'Available')?.lastTransitionTime).toBe(
      cond(first, 'Available')?.lastTransitionTime,
    );
  });
});
