// BlackholeWatch on a clock the test steps: it holds what the Campus objects
// say, lifts at `until` by its own timer with no event arriving, follows an
// extended or deleted blackhole, and leaves no timer behind when stopped. Its
// inputs are real caches (runtime's Store), filled by hand as an informer would.
import { describe, expect, it } from 'vitest';
import type { Campus } from '../../crds/generated/types.ts';
import { Store } from '../../runtime/cache.ts';
import { ManualClock } from '../../runtime/clock.ts';
import type { EventHandler } from '../../runtime/informer.ts';
import { nullLogger } from '../../runtime/logger.ts';
import type { KubeObject } from '../../runtime/object.ts';
import { kwokAnnotation } from '../control-plane/topology.ts';
import { BlackholeWatch } from './network.ts';
import type { Watched } from './network.ts';
import type { NodeObject } from './types.ts';

class Cache<T extends KubeObject> implements Watched<T> {
  readonly store = new Store<T>();
  readonly #handlers = new Set<EventHandler<T>>();
  addHandler(h: EventHandler<T>): () => void {
    this.#handlers.add(h);
    return () => this.#handlers.delete(h);
  }
  /** Adds or replaces an object and tells the handlers, as an informer's watch would. */
  put(obj: T): void {
    const old = this.store.upsert(obj);
    for (const h of this.#handlers) {
      if (old) h.onUpdate?.(old, obj);
      else h.onAdd?.(obj, false);
    }
  }
}

const start = Date.UTC(2026, 11, 7, 16, 0, 0);
const iso = (ms: number): string => new Date(ms).toISOString();
const campus = (name: string, until?: number): Campus & KubeObject => ({
  apiVersion: 'yard.dev/v1alpha1',
  kind: 'Campus',
  metadata: { name },
  spec: until === undefined ? {} : { blackhole: { reason: 'drill', until: iso(until), by: 'me' } },
});
const node = (name: string, zone: string, simulated = true): NodeObject & KubeObject => ({
  metadata: {
    name,
    labels: { 'topology.kubernetes.io/zone': zone },
    ...(simulated ? { annotations: { [kwokAnnotation]: 'fake' } } : {}),
  },
});

function setup(campuses: Campus[]) {
  const clock = new ManualClock(start);
  const c = new Cache<Campus & KubeObject>();
  const n = new Cache<NodeObject & KubeObject>();
  for (const x of campuses) c.put(x);
  n.put(node('a-1', 'campus-a'));
  n.put(node('b-1', 'campus-b'));
  n.put(node('b-2', 'campus-b'));
  n.put(node('b-real', 'campus-b', false));
  const changes: string[][] = [];
  const watch = new BlackholeWatch({
    campuses: c,
    nodes: n,
    clock,
    recheckMs: 60_000,
    log: nullLogger,
    changed: (nodes) => changes.push([...nodes].sort()),
  });
  watch.start();
  return { clock, c, watch, changes };
}

describe('BlackholeWatch', () => {
  it('holds the simulated nodes of a blackholed campus from the start, and lifts them at until with no event', () => {
    const { clock, watch, changes } = setup([
      campus('campus-a'),
      campus('campus-b', start + 30_000),
    ]);
    expect(watch.state()).toEqual({
      campuses: [{ campus: 'campus-b', reason: 'drill', by: 'me', until: '2026-12-07T16:00:30Z' }],
      nodes: ['b-1', 'b-2'],
    });
    expect(changes).toEqual([['b-1', 'b-2']]);
    clock.advance(29_999);
    expect(watch.blockOf('b-1')).toBeDefined();
    clock.advance(1);
    expect(watch.blockOf('b-1')).toBeUndefined();
    expect(watch.state()).toEqual({ campuses: [], nodes: [] });
    expect(changes).toEqual([
      ['b-1', 'b-2'],
      ['b-1', 'b-2'],
    ]);
  });

  it('follows an extended blackhole (reported again, lifted at the new until, not the old)', () => {
    const { clock, c, watch, changes } = setup([campus('campus-b', start + 10_000)]);
    clock.advance(5_000);
    c.put(campus('campus-b', start + 20_000));
    expect(changes).toHaveLength(2);
    clock.advance(5_000);
    expect(watch.blockOf('b-2')?.until).toEqual(new Date(start + 20_000));
    clock.advance(10_000);
    expect(watch.blockOf('b-2')).toBeUndefined();
    expect(changes).toHaveLength(3);
  });

  it('lifts at once when the field is deleted, and reports nothing when nothing changed', () => {
    const { clock, c, watch, changes } = setup([campus('campus-b', start + 600_000)]);
    c.put(campus('campus-a'));
    expect(changes).toHaveLength(1);
    clock.advance(1_000);
    c.put(campus('campus-b'));
    expect(watch.state().nodes).toEqual([]);
    expect(changes).toEqual([
      ['b-1', 'b-2'],
      ['b-1', 'b-2'],
    ]);
  });

  it('holds nothing for an until already passed or unparsable, and leaves no timer when stopped', () => {
    const { clock, watch, changes } = setup([
      campus('campus-a', start - 1),
      { ...campus('campus-b'), spec: { blackhole: { reason: 'x', until: 'later' } } },
    ]);
    expect(watch.state()).toEqual({ campuses: [], nodes: [] });
    expect(changes).toEqual([]);
    expect(clock.pending()).toBe(1); // the periodic re-check only
    watch.stop();
    expect(clock.pending()).toBe(0);
  });
});
