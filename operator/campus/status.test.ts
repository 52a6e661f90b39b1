import { describe, expect, it } from 'vitest';
import type { CampusFacts } from './desired.ts';
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
  const self: CampusFacts = {
    name: 'campus-a',
    shielded: true,
    selected: ['a-1', 'a-2'],
    ownedElsewhere: new Map(),
    sharedWith: new Map(),
    published: undefined,
  };
  const common = { self, all: [self], nodesReady: 1, staleAfterMs: 120_000 };
  it('records when a shield began and keeps that time while it holds', () => {
    const first = campusStatus({
      ...common,
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
      ...common,
      shield: active,
      previous: first,
      generation: 2,
      now: new Date('2026-11-22T10:10:00Z'),
    });
    expect(later.shield?.since).toBe('2026-11-22T10:00:00Z');
    expect(later.conditions?.find((c) => c.type === 'Shielded')?.status).toBe('True');
  });
});

describe('campusStatus: the controller’s own fields only', () => {
  it('reports nodes, shield and conditions, and no amount (those are the scheduler’s)', () => {
    const self: CampusFacts = {
      name: 'campus-a',
      shielded: false,
      selected: ['a-1', 'a-2'],
      ownedElsewhere: new Map(),
      sharedWith: new Map(),
      published: undefined,
    };
    const s = campusStatus({
      self,
      all: [self],
      nodesReady: 1,
      shield: { kind: 'none' },
      previous: undefined,
      generation: 4,
      now,
      staleAfterMs: 120_000,
    });
    expect(Object.keys(s).sort()).toEqual(['conditions', 'nodes', 'observedGeneration', 'shield']);
    expect(s.nodes).toEqual({ ready: 1, total: 2, summary: '1/2' });
    expect(s.conditions?.map((c) => [c.type, c.status, c.reason])).toEqual([
      ['CampusSafe', 'Unknown', 'SchedulerNotPublished'],
      ['Shielded', 'False', 'NotShielded'],
      ['NodesSelected', 'True', 'NodesSelected'],
    ]);
  });
});
