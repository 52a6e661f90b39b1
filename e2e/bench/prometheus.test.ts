import { describe, expect, it } from 'vitest';
import { bucketDelta, buckets, histogramQuantile, parseMetrics, sum } from './prometheus.ts';
import type { Bucket } from './prometheus.ts';

const scrape = `
# HELP controller_runtime_reconcile_total Total number of reconciliations per controller
# TYPE controller_runtime_reconcile_total counter
controller_runtime_reconcile_total{controller="imservice",result="success"} 40
controller_runtime_reconcile_total{controller="imservice",result="error"} 2
controller_runtime_reconcile_total{controller="campus",result="success"} 7
leader_election_master_status{name="yard-operator"} 1
workqueue_depth{name="a \\"quoted\\" name"} 3
process_cpu_seconds_total 1.5
t_bucket{le="0.1",controller="imservice"} 10
t_bucket{le="0.5",controller="imservice"} 30
t_bucket{le="+Inf",controller="imservice"} 40
t_bucket{le="0.1",controller="campus"} 5
t_bucket{le="0.5",controller="campus"} 5
t_bucket{le="+Inf",controller="campus"} 5
`;

describe('parseMetrics and sum', () => {
  const samples = parseMetrics(scrape);
  it.each([
    ['every series of a name', 'controller_runtime_reconcile_total', {}, 49],
    [
      'the series with a label',
      'controller_runtime_reconcile_total',
      { controller: 'imservice' },
      42,
    ],
    [
      'the series with two labels',
      'controller_runtime_reconcile_total',
      { controller: 'imservice', result: 'error' },
      2,
    ],
    ['a series without labels', 'process_cpu_seconds_total', {}, 1.5],
    ['a label value with escaped quotes', 'workqueue_depth', { name: 'a \\"quoted\\" name' }, 3],
    ['a name that is absent', 'nothing_total', {}, 0],
    ['a label value no series has', 'controller_runtime_reconcile_total', { controller: 'x' }, 0],
  ])('%s', (_name, metric, labels, want) => {
    expect(sum(samples, metric, labels)).toBe(want);
  });

  it('reads cumulative buckets per label set, +Inf last', () => {
    expect(buckets(samples, 't', { controller: 'imservice' })).toEqual([
      { le: 0.1, count: 10 },
      { le: 0.5, count: 30 },
      { le: Infinity, count: 40 },
    ]);
  });
});

const b = (...pairs: [number, number][]): Bucket[] => pairs.map(([le, count]) => ({ le, count }));

describe('histogramQuantile (as PromQL computes it)', () => {
  it.each([
    ['no observations', 0.5, b([0.1, 0], [Infinity, 0]), undefined],
    ['interpolates inside the first bucket from 0', 0.5, b([1, 10], [Infinity, 10]), 0.5],
    ['interpolates inside a later bucket', 0.5, b([1, 0], [3, 10], [Infinity, 10]), 2],
    ['the median of 10 + 20 + 10', 0.5, b([0.1, 10], [0.5, 30], [Infinity, 40]), 0.3],
    ['in +Inf: the highest finite bound', 0.99, b([0.1, 10], [0.5, 30], [Infinity, 40]), 0.5],
    ['q = 1 lands on the last non-empty bucket', 1, b([1, 5], [2, 5], [Infinity, 5]), 1],
  ])('%s', (_name, q, bs, want) => {
    const got = histogramQuantile(q, bs);
    if (want === undefined) expect(got).toBeUndefined();
    else expect(got).toBeCloseTo(want, 9);
  });

  it('works on the difference of two scrapes', () => {
    const before = b([0.1, 10], [0.5, 10], [Infinity, 10]);
    const after = b([0.1, 10], [0.5, 20], [Infinity, 20]);
    expect(bucketDelta(after, before)).toEqual(b([0.1, 0], [0.5, 10], [Infinity, 10]));
    expect(histogramQuantile(0.5, bucketDelta(after, before))).toBeCloseTo(0.3, 9);
  });
});
