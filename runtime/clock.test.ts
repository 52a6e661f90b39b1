import { describe, expect, it } from 'vitest';
import { ManualClock, microTime, rfc3339, sleep } from './clock.ts';

describe('ManualClock', () => {
  it('fires timers in time order, including ones set by a timer that fired', () => {
    const c = new ManualClock(0);
    const fired: string[] = [];
    c.setTimer(30, () => fired.push('30'));
    c.setTimer(10, () => {
      fired.push('10');
      c.setTimer(5, () => fired.push('15'));
    });
    const cancel = c.setTimer(20, () => fired.push('20'));
    cancel();
    c.advance(29);
    expect(fired).toEqual(['10', '15']);
    c.advance(1);
    expect(fired).toEqual(['10', '15', '30']);
    expect(c.now()).toBe(30);
  });

  it('sleep wakes on time or on abort, whichever comes first', async () => {
    const c = new ManualClock(0);
    let woke = false;
    const p = sleep(c, 1_000).then(() => (woke = true));
    await c.tick(999);
    expect(woke).toBe(false);
    await c.tick(1);
    await p;
    expect(woke).toBe(true);
    const ac = new AbortController();
    const q = sleep(c, 60_000, ac.signal);
    ac.abort();
    await q;
    expect(c.pending()).toBe(0);
  });
});

describe('API time formats', () => {
  it('metav1.Time has whole seconds; MicroTime has six digits', () => {
    const t = Date.UTC(2026, 4, 6, 7, 8, 9, 123);
    expect(rfc3339(t)).toBe('2026-05-06T07:08:09Z');
    expect(microTime(t)).toBe('2026-05-06T07:08:09.123000Z');
  });
});
