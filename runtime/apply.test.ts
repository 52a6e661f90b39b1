import { describe, expect, it } from 'vitest';
import { appliedHash, appliedHashAnnotation, upToDate } from './apply.ts';
import { canonicalJson, contains } from './object.ts';
import type { KubeObject } from './object.ts';

describe('contains', () => {
  it.each([
    { name: 'equal scalars', actual: 3, wanted: 3, want: true },
    { name: 'different scalars', actual: '3', wanted: 3, want: false },
    {
      name: 'more members in actual (defaults)',
      actual: { a: 1, b: 2 },
      wanted: { a: 1 },
      want: true,
    },
    { name: 'a member missing in actual', actual: { a: 1 }, wanted: { a: 1, b: 2 }, want: false },
    {
      name: 'nested',
      actual: { a: { b: [1, { c: 2, d: 3 }] } },
      wanted: { a: { b: [1, { c: 2 }] } },
      want: true,
    },
    { name: 'arrays of other lengths', actual: [1, 2, 3], wanted: [1, 2], want: false },
    { name: 'arrays in another order', actual: [2, 1], wanted: [1, 2], want: false },
    { name: 'an array against an object', actual: { 0: 1 }, wanted: [1], want: false },
    { name: 'undefined members are not wanted', actual: {}, wanted: { a: undefined }, want: true },
    { name: 'null is a value', actual: {}, wanted: { a: null }, want: false },
  ])('$name', ({ actual, wanted, want }) => {
    expect(contains(actual, wanted)).toBe(want);
  });
});

describe('canonicalJson', () => {
  it('does not depend on key order or undefined members', () => {
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 1, x: 2 }], c: undefined } })).toBe(
      canonicalJson({ a: { d: [1, { x: 2, y: 1 }] }, b: 1 }),
    );
  });
});

describe('upToDate', () => {
  const desired = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name: 's', namespace: 'n', labels: { app: 's' } },
    spec: { ports: [{ port: 80 }] },
  };
  const stored = (over: Record<string, unknown> = {}, hash = appliedHash(desired)) => ({
    metadata: {
      name: 's',
      namespace: 'n',
      labels: { app: 's', other: 'x' },
      annotations: { [appliedHashAnnotation]: hash },
      resourceVersion: '7',
    },
    spec: { ports: [{ port: 80, protocol: 'TCP', targetPort: 80 }], clusterIP: '10.0.0.1' },
    ...over,
  });

  it.each([
    { name: 'the same desired object, with server defaults', existing: stored(), want: true },
    { name: 'nothing in the cache', existing: undefined, want: false },
    { name: 'applied before hashes existed', existing: stored({}, ''), want: false },
    {
      name: 'one of our fields changed by someone else',
      existing: stored({ spec: { ports: [{ port: 81 }] } }),
      want: false,
    },
    {
      name: 'applied from another desired object (a field since dropped)',
      existing: stored(
        {},
        appliedHash({ ...desired, spec: { ports: [{ port: 80 }, { port: 90 }] } } as KubeObject),
      ),
      want: false,
    },
  ])('$name', ({ existing, want }) => {
    expect(upToDate(desired, existing)).toBe(want);
  });

  it('does not count the hash annotation itself', () => {
    const withHash = {
      ...desired,
      metadata: { ...desired.metadata, annotations: { [appliedHashAnnotation]: 'whatever' } },
    };
    expect(appliedHash(withHash)).toBe(appliedHash(desired));
  });
});
