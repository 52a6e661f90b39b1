import { describe, expect, it } from 'vitest';
import { createLedger, expectMessage, expire, pending, prune, receive } from './delivery.ts';
import { addSample, createStats, percentile, summarize } from './stats.ts';

describe('percentile', () => {
  it.each([
    { values: [], p: 50, want: null },
    { values: [7], p: 99, want: 7 },
    { values: [5, 1, 4, 2, 3], p: 50, want: 3 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 99, want: 99 },
    { values: Array.from({ length: 100 }, (_, i) => i + 1), p: 100, want: 100 },
  ])('p$p of $values.length values is $want', ({ values, p, want }) => {
    expect(percentile(values, p)).toBe(want);
  });
});

describe('windows', () => {
  const t0 = 1_000_000;
  it('counts per window and per API, and shows empty windows as gaps', () => {
    const s = createStats(t0, 5000);
    addSample(s, { service: 'access', api: 'send', ok: true, ms: 10, at: t0 + 100 });
    addSample(s, { service: 'access', api: 'send', ok: false, ms: 30, at: t0 + 4999 });
    addSample(s, { service: 'access', api: 'sync', ok: true, ms: 5, at: t0 + 4000 });
    addSample(s, { service: 'access', api: 'send', ok: false, shed: true, ms: 1, at: t0 + 12_000 });
    const { windows, apis } = summarize(s, t0 + 14_000);
    expect(windows.map((w) => [w.start - t0, w.ok, w.failed, w.successRate])).toEqual([
      [0, 2, 1, 2 / 3],
      [5000, 0, 0, null],
      [10_000, 0, 1, 0],
    ]);
    expect(windows[0]?.apis).toEqual([
      {
        service: 'access',
        api: 'send',
        ok: 1,
        failed: 1,
        shed: 0,
        p50Ms: 10,
        p99Ms: 30,
        maxMs: 30,
      },
      { service: 'access', api: 'sync', ok: 1, failed: 0, shed: 0, p50Ms: 5, p99Ms: 5, maxMs: 5 },
    ]);
    expect(apis.find((a) => a.api === 'send')).toMatchObject({
      ok: 1,
      failed: 2,
      shed: 1,
      maxMs: 30,
    });
  });

  it('keeps a bounded number of windows and latencies', () => {
    const s = createStats(t0, 1000, { maxWindows: 3, maxLatencies: 10, random: () => 0.5 });
    for (let i = 0; i < 100; i++)
      addSample(s, { service: 'a', api: 'x', ok: true, ms: i, at: t0 + i * 100 });
    expect(s.windows.size).toBeLessThanOrEqual(3);
    expect(s.totals.get('a\u0000x')?.latencies).toHaveLength(10);
    expect(summarize(s, t0 + 9999).windows).toHaveLength(3);
  });
});

describe('the delivery ledger', () => {
  it.each([
    {
      name: 'every recipient receives once: all delivered',
      steps: (l: ReturnType<typeof createLedger>) => {
        expectMessage(l, 'a/1', ['b', 'c'], 0);
        receive(l, 'b', 'a/1', 10);
        receive(l, 'c', 'a/1', 20);
      },
      want: { expected: 2, delivered: 2, lost: 0, duplicates: 0, pending: 0 },
    },
    {
      name: 'a second copy is a duplicate',
      steps: (l: ReturnType<typeof createLedger>) => {
        expectMessage(l, 'a/1', ['b'], 0);
        receive(l, 'b', 'a/1', 10);
        receive(l, 'b', 'a/1', 11);
      },
      want: { expected: 1, delivered: 1, duplicates: 1 },
    },
    {
      name: 'missing after the timeout is lost; arriving later makes it late, not lost',
      steps: (l: ReturnType<typeof createLedger>) => {
        expectMessage(l, 'a/1', ['b', 'c'], 0);
        receive(l, 'b', 'a/1', 10);
        expire(l, 10_000, 10_000);
        expect(l.lost).toBe(1);
        receive(l, 'c', 'a/1', 12_000);
      },
      want: { expected: 2, delivered: 2, lost: 0, late: 1 },
    },
    {
      name: 'a retried send of one id expects it once',
      steps: (l: ReturnType<typeof createLedger>) => {
        expectMessage(l, 'a/1', ['b'], 0);
        expectMessage(l, 'a/1', ['b'], 5);
      },
      want: { expected: 1, pending: 1 },
    },
    {
      name: 'a message never acknowledged is unacked, and its second copy a duplicate',
      steps: (l: ReturnType<typeof createLedger>) => {
        receive(l, 'b', 'a/9', 1);
        receive(l, 'b', 'a/9', 2);
      },
      want: { expected: 0, unacked: 1, duplicates: 1 },
    },
    {
      name: 'a message received before its acknowledgement arrived is expected and delivered once acknowledged',
      steps: (l: ReturnType<typeof createLedger>) => {
        receive(l, 'b', 'a/1', 1);
        expectMessage(l, 'a/1', ['b', 'c'], 2);
        receive(l, 'c', 'a/1', 3);
        receive(l, 'b', 'a/1', 4);
      },
      want: { expected: 2, delivered: 2, unacked: 0, duplicates: 1, pending: 0 },
    },
  ])('$name', ({ steps, want }) => {
    const l = createLedger();
    steps(l);
    expect({ ...l, pending: pending(l) }).toMatchObject(want);
  });

  it('forgets settled entries after a while and keeps pending ones', () => {
    const l = createLedger();
    expectMessage(l, 'a/1', ['b'], 0);
    expectMessage(l, 'a/2', ['b'], 0);
    expectMessage(l, 'a/3', ['b'], 50_000);
    receive(l, 'b', 'a/1', 10);
    expire(l, 20_000, 10_000); // a/2 lost
    prune(l, 100_000, 60_000);
    expect([...l.entries.keys()]).toEqual(['b a/3']);
    expect(pending(l)).toBe(1);
  });
});
