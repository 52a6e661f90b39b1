import { describe, expect, it } from 'vitest';
import { ManualClock, flush } from './clock.ts';
import { WorkQueue } from './workqueue.ts';
import type { WorkQueueMetrics } from './workqueue.ts';

const noJitter = (): number => 0;

function queue(clock = new ManualClock()): { q: WorkQueue; clock: ManualClock } {
  return {
    q: new WorkQueue({
      name: 'test',
      clock,
      backoff: { baseMs: 100, maxMs: 1_000 },
      random: noJitter,
    }),
    clock,
  };
}

describe('WorkQueue', () => {
  it('hands out a key queued twice only once', async () => {
    const { q } = queue();
    q.add('a');
    q.add('a');
    q.add('b');
    expect(q.len()).toBe(2);
    expect(await q.get()).toBe('a');
    expect(await q.get()).toBe('b');
    expect(q.len()).toBe(0);
  });

  it('never hands a key to two workers: re-added while processing, it comes back after done', async () => {
    const { q } = queue();
    q.add('a');
    const first = await q.get();
    expect(first).toBe('a');
    q.add('a'); // changed while being reconciled
    expect(q.len()).toBe(0); // not handed to a second worker
    let second: string | undefined;
    void q.get().then((k) => (second = k));
    await flush();
    expect(second).toBeUndefined();
    q.done('a');
    await flush();
    expect(second).toBe('a');
  });

  it('a key added twice while processing is processed once more, not twice', async () => {
    const { q } = queue();
    q.add('a');
    await q.get();
    q.add('a');
    q.add('a');
    q.done('a');
    expect(q.len()).toBe(1);
    expect(await q.get()).toBe('a');
    q.done('a');
    expect(q.len()).toBe(0);
  });

  it('wakes a waiting worker when a key arrives', async () => {
    const { q } = queue();
    const got = q.get();
    q.add('x');
    expect(await got).toBe('x');
  });

  it('addAfter queues the key only when the delay has passed', () => {
    const { q, clock } = queue();
    q.addAfter('a', 500);
    expect(q.len()).toBe(0);
    expect(q.delayedLen()).toBe(1);
    clock.advance(499);
    expect(q.len()).toBe(0);
    clock.advance(1);
    expect(q.len()).toBe(1);
    expect(q.delayedLen()).toBe(0);
  });

  it('addAfter keeps the earliest time asked for a key', () => {
    const { q, clock } = queue();
    q.addAfter('a', 1_000);
    q.addAfter('a', 200); // sooner: moves it forward
    q.addAfter('a', 5_000); // later: ignored
    clock.advance(200);
    expect(q.len()).toBe(1);
    clock.advance(10_000);
    expect(q.len()).toBe(1); // no second copy from the other timers
  });

  it('backs off exponentially per key on failure, up to the cap, and forget resets it', async () => {
    const { q, clock } = queue();
    /** Fails `a` once more and returns how long until it is ready again. */
    const fail = async (): Promise<number> => {
      q.addRateLimited('a');
      let waited = 0;
      while (q.len() === 0 && waited < 10_000) {
        clock.advance(10);
        waited += 10;
      }
      q.done((await q.get()) ?? '');
      return waited;
    };
    const delays: number[] = [];
    for (let i = 0; i < 6; i++) delays.push(await fail());
    expect(delays).toEqual([100, 200, 400, 800, 1_000, 1_000]);
    expect(q.numRequeues('a')).toBe(6);
    q.forget('a');
    expect(q.numRequeues('a')).toBe(0);
    expect(await fail()).toBe(100);
  });

  it('keeps back-off separate per key', () => {
    const { q, clock } = queue();
    q.addRateLimited('a');
    q.addRateLimited('a'); // second failure of a: 200 ms (the earlier 100 wins the race)
    q.addRateLimited('b');
    clock.advance(100);
    expect(q.len()).toBe(2);
    expect(q.numRequeues('a')).toBe(2);
    expect(q.numRequeues('b')).toBe(1);
  });

  it('shutDown: ignores new keys, drops delayed ones, and releases waiting workers', async () => {
    const { q, clock } = queue();
    const waiting = q.get();
    q.shutDown();
    expect(await waiting).toBeUndefined();
    q.add('a');
    q.addAfter('b', 10);
    clock.advance(100);
    expect(q.len()).toBe(0);
    expect(await q.get()).toBeUndefined();
    expect(clock.pending()).toBe(0);
  });

  it('shutDown lets the key in flight finish; drained says when', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    const key = await q.get();
    q.shutDown();
    expect(await q.get()).toBeUndefined(); // b is not handed out any more
    let drained: boolean | undefined;
    void q.drained(1_000).then((d) => (drained = d));
    await flush();
    expect(drained).toBeUndefined();
    q.done(key ?? '');
    await flush();
    expect(drained).toBe(true);
  });

  it('drained gives up after its timeout when a key never finishes', async () => {
    const { q, clock } = queue();
    q.add('stuck');
    await q.get();
    q.shutDown();
    let drained: boolean | undefined;
    void q.drained(1_000).then((d) => (drained = d));
    await clock.tick(1_000);
    expect(drained).toBe(false);
  });

  it('shutDownWithDrain hands out what is queued and waits for all of it', async () => {
    const { q } = queue();
    q.add('a');
    q.add('b');
    const done = q.shutDownWithDrain(10_000);
    const seen: string[] = [];
    for (let k = await q.get(); k !== undefined; k = await q.get()) {
      seen.push(k);
      q.done(k);
    }
    expect(seen).toEqual(['a', 'b']);
    expect(await done).toBe(true);
  });

  it('reports depth, adds, retries and durations to its metrics', async () => {
    const clock = new ManualClock();
    const calls = {
      depth: [] as number[],
      added: 0,
      queued: [] as number[],
      worked: [] as number[],
      retried: 0,
    };
    const metrics: WorkQueueMetrics = {
      depth: (n) => calls.depth.push(n),
      added: () => calls.added++,
      queued: (s) => calls.queued.push(s),
      worked: (s) => calls.worked.push(s),
      retried: () => calls.retried++,
    };
    const q = new WorkQueue({ name: 'm', clock, metrics, random: noJitter });
    q.add('a');
    q.add('a'); // de-duplicated: not an add
    clock.advance(2_000);
    const k = await q.get();
    clock.advance(500);
    q.done(k ?? '');
    q.addRateLimited('a');
    expect(calls.added).toBe(1);
    expect(calls.depth).toEqual([1, 0]);
    expect(calls.queued).toEqual([2]);
    expect(calls.worked).toEqual([0.5]);
    expect(calls.retried).toBe(1);
  });
});
