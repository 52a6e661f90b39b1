import { describe, expect, it } from 'vitest';
import type { KubeObject } from './object.ts';
import {
  allOf,
  anyOf,
  changed,
  defaultPrimaryPredicate,
  generationChanged,
  passes,
  resourceVersionChanged,
} from './predicates.ts';

type Obj = KubeObject & {
  readonly spec?: unknown;
  readonly status?: unknown;
  readonly data?: unknown;
};

const base: Obj = {
  metadata: {
    name: 'x',
    namespace: 'ns',
    resourceVersion: '1',
    generation: 1,
    labels: { a: '1' },
    annotations: { b: '2' },
    finalizers: ['f'],
  },
  spec: { replicas: 1 },
  status: { ready: 0 },
};

const edit = (meta: Record<string, unknown>, rest: Partial<Obj> = {}): Obj => ({
  ...base,
  ...rest,
  metadata: { ...base.metadata, resourceVersion: '2', ...meta },
});

describe('defaultPrimaryPredicate (what wakes a controller about its own kind)', () => {
  it.each<{ name: string; next: Obj; want: boolean }>([
    {
      name: 'a status-only write (ours) does not',
      next: edit({}, { status: { ready: 3 } }),
      want: false,
    },
    {
      name: 'a spec change (generation moves) does',
      next: edit({ generation: 2 }, { spec: { replicas: 2 } }),
      want: true,
    },
    { name: 'a label change does', next: edit({ labels: { a: '9' } }), want: true },
    {
      name: 'an annotation change does',
      next: edit({ annotations: { b: '2', c: '3' } }),
      want: true,
    },
    {
      name: 'deletion starting does',
      next: edit({ deletionTimestamp: '2026-01-01T00:00:00Z' }),
      want: true,
    },
    { name: 'a finalizer removed does', next: edit({ finalizers: [] }), want: true },
    { name: 'a relist echo (same everything) does not', next: base, want: false },
  ])('$name', ({ next, want }) => {
    expect(passes([defaultPrimaryPredicate], 'update', next, base)).toBe(want);
  });

  it('lets creates and deletes through', () => {
    expect(passes([defaultPrimaryPredicate], 'create', base)).toBe(true);
    expect(passes([defaultPrimaryPredicate], 'delete', base)).toBe(true);
  });
});

describe('combinators', () => {
  const data = changed<Obj>('data', (o) => o.data);
  const cm = (d: unknown, rv: string): Obj => ({
    metadata: { name: 'c', resourceVersion: rv },
    data: d,
  });

  it.each([
    {
      name: 'a kind without generation: data changes pass with changed(data)',
      pred: anyOf(generationChanged, data),
      old: cm({ k: 'v' }, '1'),
      next: cm({ k: 'w' }, '2'),
      want: true,
    },
    {
      name: '…but generationChanged alone never fires for it',
      pred: generationChanged,
      old: cm({ k: 'v' }, '1'),
      next: cm({ k: 'w' }, '2'),
      want: false,
    },
    {
      name: 'changed() compares structurally, not by reference',
      pred: data,
      old: cm({ k: 'v' }, '1'),
      next: cm({ k: 'v' }, '2'),
      want: false,
    },
    {
      name: 'allOf needs every predicate',
      pred: allOf(resourceVersionChanged, data),
      old: cm({ k: 'v' }, '1'),
      next: cm({ k: 'v' }, '2'),
      want: false,
    },
    {
      name: 'anyOf needs one',
      pred: anyOf(resourceVersionChanged, data),
      old: cm({ k: 'v' }, '1'),
      next: cm({ k: 'v' }, '2'),
      want: true,
    },
  ])('$name', ({ pred, old, next, want }) => {
    expect(passes([pred as never], 'update', next, old)).toBe(want);
  });

  it('a predicate without a create method lets creates through; one with it decides', () => {
    expect(passes([generationChanged], 'create', base)).toBe(true);
    expect(passes([{ name: 'no', create: () => false }], 'create', base)).toBe(false);
  });
});
