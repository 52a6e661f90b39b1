import { describe, expect, it } from 'vitest';
import { campusLoad } from './desired.ts';
import { campusStatus, shieldEvent } from './status.ts';
import type { ShieldState } from '../../crds/index.ts';

const now = new Date('2026-11-22T10:00:00Z');
const until = new Date('2026-11-22T10:30:00Z');
const active: ShieldState = { kind: 'active', until, reason: 'switch upgrade', by: 'alice' };

describe('shieldEvent', () => {
  it.each([
    ['a shield that takes hold', undefined, active, 'CampusShielded'],
    [
      'a shield that was lifted',
      { active: true, by: 'alice' },
      { kind: 'none' } as const,
      'ShieldLifted',
    ],
    [
      'a shield that expired',
      { active: true, by: 'alice', until: '2026-11-22T10:30:00Z' },
      { kind: 'expired', until } as const,
      'ShieldExpired',
    ],
    ['a shield that still holds', { active: true }, active, undefined],
    ['no shield at all', { active: false }, { kind: 'none' } as const, undefined],
  ])('%s → %s', (_name, before, shield, want) => {
    expect(shieldEvent(before, shield)?.reason).toBe(want);
  });
});

describe('campusStatus', () => {
  const self = campusLoad('campus-a', [], [], 2 / 3, true);
  it('records when a shield began and keeps that time while it holds', () => {
    const first = campusStatus({
      self,
      loads: [self],
      shield: active,
      previous: undefined,
      generation: 2,
      now,
    });
    expect(first.shield).toEqual({
      active: true,
      since: '2026-11-22T10:00:00Z',
      until: '2026-11-22T10:30:00Z',
      by: 'alice',
      reason: 'switch upgrade',
    });
    const later = campusStatus({
      self,
      loads: [self],
      shield: active,
      previous: first,
      generation: 2,
      now: new Date('2026-11-22T10:10:00Z'),
    });
    expect(later.shield?.since).toBe('2026-11-22T10:00:00Z');
    expect(later.conditions?.find((c) => c.type === 'Shielded')?.status).toBe('True');
  });
});
