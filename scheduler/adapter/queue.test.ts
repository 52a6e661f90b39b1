// The scheduling queue: active, unschedulable, back-off, and gangs taken whole.
import { describe, expect, it } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import { podKey } from './mapping.ts';
import { SchedulingQueue } from './queue.ts';
import { pending } from '../../e2e/harness/scheduler-objects.ts';

const online = (n: string) => pending(pod(n).scheduler('yard').build());
const member = (n: string, job: string) =>
  pending(
    pod(n)
      .scheduler('yard')
      .labels({ 'yard.dev/framework': 'offline', 'yard.dev/offline-job': job })
      .build(),
  );
const keys = (r: ReturnType<SchedulingQueue['pop']>) => ({
  online: r.online.map(podKey),
  gangs: Object.fromEntries([...r.gangs].map(([j, ps]) => [j, ps.map(podKey)])),
});

describe('SchedulingQueue', () => {
  it('takes new pods first in, first out, up to the batch size', () => {
    const q = new SchedulingQueue();
    for (const n of ['a', 'b', 'c']) expect(q.upsert(online(n))).toBe(true);
    expect(q.upsert(online('a'))).toBe(false); // known: refreshed, not re-queued
    expect(keys(q.pop(2))).toEqual({ online: ['ns/a', 'ns/b'], gangs: {} });
    expect(keys(q.pop(2))).toEqual({ online: ['ns/c'], gangs: {} });
    expect(q.hasActive()).toBe(false);
  });

  it('takes a gang whole, waiting members included', () => {
    const q = new SchedulingQueue();
    q.upsert(member('t-0', 'train'));
    q.pop(10);
    q.park('ns/t-0');
    expect(q.counts()).toEqual({ active: 0, unschedulable: 1, backoff: 0 });
    // a new member wakes the gang: both are asked together
    q.upsert(member('t-1', 'train'));
    expect(keys(q.pop(1))).toEqual({ online: [], gangs: { 'ns/train': ['ns/t-0', 'ns/t-1'] } });
  });

  it('parks the undecided until the cluster changes', () => {
    const q = new SchedulingQueue();
    q.upsert(online('a'));
    q.upsert(online('b'));
    q.pop(10);
    q.park('ns/a');
    q.park('ns/b');
    expect(q.hasActive()).toBe(false);
    expect(q.activateAll()).toBe(2);
    expect(keys(q.pop(10)).online).toEqual(['ns/a', 'ns/b']);
  });

  it('retries a failed bind when its back-off ends, not before', () => {
    const q = new SchedulingQueue();
    q.upsert(online('a'));
    q.pop(10);
    q.backoff('ns/a', 1_000);
    expect(q.promote(999)).toBe(1_000);
    expect(q.hasActive()).toBe(false);
    expect(q.activateAll()).toBe(0); // freed capacity does not cut a back-off short
    expect(q.promote(1_000)).toBeUndefined();
    expect(keys(q.pop(10)).online).toEqual(['ns/a']);
  });

  it('forgets a removed pod everywhere, gangs included', () => {
    const q = new SchedulingQueue();
    q.upsert(member('t-0', 'train'));
    q.upsert(member('t-1', 'train'));
    q.remove('ns/t-0');
    expect(q.size).toBe(1);
    expect(keys(q.pop(10)).gangs).toEqual({ 'ns/train': ['ns/t-1'] });
    q.park('ns/t-0'); // gone: parking it does nothing
    expect(q.counts().unschedulable).toBe(0);
  });

  it('puts every pending pod back in play after a cycle that failed half-way', () => {
    const q = new SchedulingQueue();
    for (const n of ['a', 'b', 'c']) q.upsert(online(n));
    q.pop(2); // a and b taken, then the cycle failed
    q.backoff('ns/c', 5_000);
    q.reactivate();
    expect(q.counts()).toEqual({ active: 2, unschedulable: 0, backoff: 1 });
  });

  it('takes online pods before any gang, whatever order they came in', () => {
    const q = new SchedulingQueue();
    q.upsert(member('job-a-0', 'job-a'));
    q.upsert(member('job-a-1', 'job-a'));
    q.upsert(online('web-0'));
    q.upsert(online('web-1'));
    expect(keys(q.pop(3))).toEqual({
      online: ['ns/web-0', 'ns/web-1'],
      gangs: { 'ns/job-a': ['ns/job-a-0', 'ns/job-a-1'] },
    });
  });
});
