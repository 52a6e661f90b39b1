// The scheduler's cache, fed informer events by hand and stepped with the
// core's `cycle`: what the ledger holds after each event, and the rollbacks.
import type { V1Pod } from '@kubernetes/client-node';
import { beforeEach, describe, expect, it } from 'vitest';
import { pod } from '../../e2e/harness/builders.ts';
import { cycle, type Decision } from '../core/index.ts';
import { SchedulerCache, type Change } from './cache.ts';
import { onlineAsk, podKey } from './mapping.ts';
import {
  campusObject,
  node,
  offlineJob,
  pending,
  placed,
  t0,
} from '../../e2e/harness/scheduler-objects.ts';

let now = t0;
let changes: Change[] = [];
let cache: SchedulerCache;
const jobs = new Map([['ns/etl', offlineJob('ns/etl').priority(1).build()]]);

beforeEach(() => {
  now = t0;
  changes = [];
  cache = new SchedulerCache({
    schedulerName: 'yard',
    tolerated: new Set(),
    now: () => now,
    job: (k) => jobs.get(k),
    onChange: (c) => changes.push(c),
  });
  cache.setCampuses([campusObject('campus-a').build()]);
  cache.setNode(node('a-1').build());
  cache.setNode(node('a-2').build());
});

const chat = (n: string, cpu = '4') =>
  pod(n).scheduler('yard').requests({ cpu }).labels({ 'yard.dev/imservice': 'chat' }).build();
const usedCpu = (n: string): number => {
  const l = cache.ledger();
  const i = l.indexOf(n);
  return i === undefined ? NaN : 32_000 - l.free(i).cpu;
};

/** One cycle over what the queue holds, as the scheduler runs it; returns the decisions. */
function step(): readonly Decision[] {
  const ledger = cache.ledger();
  const { online } = cache.queue.pop(100);
  const { decisions } = cycle(
    ledger,
    online.map((p) => onlineAsk(p, 'campus-a')),
  );
  for (const d of decisions) if (d.kind === 'bind') cache.binding(d.pod, d.node);
  return decisions;
}

describe('SchedulerCache', () => {
  it('counts a bound pod, and frees its room when it ends', () => {
    cache.setPod(placed(chat('a'), 'a-1'));
    expect(usedCpu('a-1')).toBe(4000);
    changes = [];
    cache.setPod(placed(chat('a'), 'a-1', 'Succeeded'));
    expect(usedCpu('a-1')).toBe(0);
    expect(changes).toEqual(['freed']);
  });

  it('counts a terminating pod until it is gone', () => {
    const p = placed(chat('a'), 'a-1');
    cache.setPod(p);
    cache.setPod({ ...p, metadata: { ...p.metadata, deletionTimestamp: new Date(t0) } });
    expect(cache.ledger().entry('ns/a')?.leaving).toBe(true);
    expect(usedCpu('a-1')).toBe(4000);
    cache.deletePod('ns/a');
    expect(usedCpu('a-1')).toBe(0);
  });

  it('queues a pending pod of Yard’s, and says so', () => {
    cache.setPod(pending(chat('a')));
    cache.setPod(pending(pod('b').build())); // another scheduler’s
    expect(cache.queue.size).toBe(1);
    expect(changes).toContain('pending');
  });

  it('does not decide a pod twice while its bind is in flight', () => {
    const p = pending(chat('a'));
    cache.setPod(p);
    expect(step()).toEqual([{ kind: 'bind', pod: 'ns/a', node: 'a-1' }]);
    cache.setPod(p); // the watch still shows it pending
    expect(cache.queue.size).toBe(0);
    expect(cache.inFlight).toBe(1);
    expect(usedCpu('a-1')).toBe(4000); // assumed before the bind returns
    cache.setPod(placed(p, 'a-1')); // the binding shows up
    expect(cache.inFlight).toBe(0);
    expect(usedCpu('a-1')).toBe(4000);
  });

  it('rolls a failed bind back, and retries it after the back-off', () => {
    const p = pending(chat('a'));
    cache.setPod(p);
    step();
    cache.bindFailed('ns/a', p, t0 + 1_000);
    expect(usedCpu('a-1')).toBe(0);
    expect(cache.queue.counts()).toEqual({ active: 0, unschedulable: 0, backoff: 1 });
    expect(cache.queue.promote(t0 + 1_000)).toBeUndefined();
    expect(step()).toEqual([{ kind: 'bind', pod: 'ns/a', node: 'a-1' }]);
  });

  it('keeps a binding someone else made when ours fails', () => {
    const p = pending(chat('a'));
    cache.setPod(p);
    step(); // to a-1
    cache.setPod(placed(p, 'a-2'));
    cache.bindFailed('ns/a', placed(p, 'a-2'), t0 + 1_000);
    expect(usedCpu('a-1')).toBe(0);
    expect(usedCpu('a-2')).toBe(4000);
    expect(cache.queue.size).toBe(0);
  });

  it('puts an eviction that failed back on the books', () => {
    cache.setPod(placed(chat('a'), 'a-1'));
    cache.ledger().markLeaving('ns/a'); // as a preemption does
    cache.evictionFailed('ns/a');
    expect(cache.ledger().entry('ns/a')?.leaving).toBe(false);
  });

  it('rebuilds the ledger when a node changes, keeping binds in flight', () => {
    cache.setPod(pending(chat('a')));
    step();
    const before = cache.rebuilds;
    cache.setNode(node('a-2').build()); // unchanged: nothing to do
    expect(cache.stale).toBe(false);
    cache.setNode(node('a-2').cordoned().build());
    expect(cache.stale).toBe(true);
    expect(changes).toContain('world');
    expect(usedCpu('a-1')).toBe(4000);
    expect(cache.rebuilds).toBe(before + 1);
    const l = cache.ledger();
    expect(l.isOpen(l.indexOf('a-2') ?? -1)).toBe(false);
  });

  it('sees a shield, and sees it lift when its time comes', () => {
    cache.setCampuses([campusObject('campus-a').shield(60).build()]);
    expect(cache.ledger().campus('campus-a')?.shielded).toBe(true);
    expect(cache.nextTimeChange()).toBe(t0 + 60_000);
    now = t0 + 60_000;
    cache.refreshTime();
    expect(cache.stale).toBe(true);
    expect(cache.ledger().campus('campus-a')?.shielded).toBe(false);
    expect(cache.nextTimeChange()).toBeUndefined();
  });

  it('maps a job’s placed pods again when its gang minimum or priority changes', () => {
    const member: V1Pod = placed(
      pod('etl-0')
        .scheduler('yard')
        .labels({ 'yard.dev/framework': 'offline', 'yard.dev/offline-job': 'etl' })
        .build(),
      'a-1',
    );
    cache.setPod(member);
    expect(cache.ledger().job('ns/etl')?.priority).toBe(1);
    const changed = offlineJob('ns/etl').priority(9).min(1).build();
    jobs.set('ns/etl', changed);
    cache.setJob(changed);
    expect(cache.stale).toBe(true);
    expect(cache.ledger().job('ns/etl')?.priority).toBe(9);
    expect(podKey(member)).toBe('ns/etl-0');
  });
});
