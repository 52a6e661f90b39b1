// The admission queue with a hand-driven clock: priority order, room made by
// shedding the least important waiter, waiters that waited too long, and the
// threshold moving with the queueing time.
import { afterEach, describe, expect, it } from 'vitest';
import { defaultAdmissionPolicy } from './admission.ts';
import { createGate } from './gate.ts';
import type { Gate, GateResult } from './gate.ts';
import { level, levels } from './priority.ts';

let t = 0;
const gates: Gate[] = [];
function gate(maxConcurrency: number, maxQueue: number, maxQueueWaitMs = 1000): Gate {
  const g = createGate(
    {
      maxConcurrency,
      maxQueue,
      maxQueueWaitMs,
      policy: { ...defaultAdmissionPolicy, windowMs: 60_000, windowRequests: 10_000 },
    },
    undefined,
    () => t,
  );
  gates.push(g);
  return g;
}
afterEach(() => {
  for (const g of gates.splice(0)) g.close();
  t = 0;
});

const pay = level('payment', 1);
const moments = level('moments', 1);
const settle = (): Promise<void> => new Promise((r) => setImmediate(r));

function track(p: Promise<GateResult>) {
  const s: { r: GateResult | undefined } = { r: undefined };
  void p.then((r) => (s.r = r));
  return s;
}

describe('the admission gate', () => {
  it('serves the most important waiter first when a slot frees', async () => {
    const g = gate(1, 10);
    const first = await g.enter(moments, 'moments');
    const m = track(g.enter(moments, 'moments'));
    const p = track(g.enter(pay, 'payment'));
    await settle();
    expect([m.r, p.r]).toEqual([undefined, undefined]);
    t = 5;
    if (first.kind === 'admitted') first.release();
    await settle();
    expect(p.r).toMatchObject({ kind: 'admitted', queuedMs: 5 });
    expect(m.r).toBeUndefined();
  });

  it('makes room in a full queue by shedding its least important waiter', async () => {
    const g = gate(1, 1);
    await g.enter(pay, 'payment');
    const m = track(g.enter(moments, 'moments'));
    const p = track(g.enter(pay, 'payment'));
    const m2 = track(g.enter(moments, 'moments'));
    await settle();
    expect(m.r).toMatchObject({ kind: 'shed', reason: 'queue-full' });
    expect(p.r).toBeUndefined();
    expect(m2.r).toMatchObject({ kind: 'shed', reason: 'queue-full' });
  });

  it('sheds a waiter that waited longer than the limit instead of serving it late', async () => {
    const g = gate(1, 10, 100);
    const first = await g.enter(pay, 'payment');
    const late = track(g.enter(pay, 'payment'));
    t = 150;
    if (first.kind === 'admitted') first.release();
    await settle();
    expect(late.r).toMatchObject({ kind: 'shed', reason: 'queue-timeout' });
  });

  it('lowers the threshold after a window of long queueing, then sheds Moments at once', async () => {
    const g = gate(1, 100);
    const held = await g.enter(pay, 'payment');
    for (let i = 0; i < 20; i++) void g.enter(level('moments', i), 'moments');
    void g.enter(pay, 'payment');
    t = 50; // every waiter has waited 50 ms, above the 20 ms target
    const change = g.roll();
    expect(change.kind).toBe('lower');
    expect(g.threshold()).toBeLessThan(levels);
    expect(await g.enter(level('moments', 127), 'moments')).toMatchObject({
      kind: 'shed',
      reason: 'level',
    });
    expect(
      await Promise.race([
        g.enter(pay, 'payment').then(() => 'answered'),
        Promise.resolve('queued'),
      ]),
    ).toBe('queued');
    if (held.kind === 'admitted') held.release();
  });

  it('lets a long-poll in without taking a slot', async () => {
    const g = gate(1, 0);
    await g.enter(pay, 'payment');
    expect(await g.enter(pay, 'message', false)).toMatchObject({ kind: 'admitted' });
    expect(await g.enter(pay, 'payment')).toMatchObject({ kind: 'shed', reason: 'queue-full' });
  });
});
