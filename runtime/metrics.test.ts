import { Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { RuntimeMetrics } from './metrics.ts';

/** Sample lines of the exposition text, without comments. */
async function samples(registry: Registry): Promise<string[]> {
  return (await registry.metrics()).split('\n').filter((l) => l && !l.startsWith('#'));
}

describe('RuntimeMetrics', () => {
  it('exposes controller-runtime names and labels, zero before the first reconcile', async () => {
    const m = new RuntimeMetrics(new Registry(), () => 0);
    m.controller('campus', 4);
    m.workqueue('campus', () => []);
    m.leaderElection('yard-operator');
    const s = await samples(m.registry);
    for (const want of [
      'controller_runtime_reconcile_total{controller="campus",result="success"} 0',
      'controller_runtime_reconcile_total{controller="campus",result="error"} 0',
      'controller_runtime_reconcile_total{controller="campus",result="requeue"} 0',
      'controller_runtime_reconcile_total{controller="campus",result="requeue_after"} 0',
      'controller_runtime_reconcile_errors_total{controller="campus"} 0',
      'controller_runtime_max_concurrent_reconciles{controller="campus"} 4',
      'controller_runtime_active_workers{controller="campus"} 0',
      'workqueue_depth{name="campus"} 0',
      'workqueue_adds_total{name="campus"} 0',
      'workqueue_retries_total{name="campus"} 0',
      'workqueue_unfinished_work_seconds{name="campus"} 0',
      'workqueue_longest_running_processor_seconds{name="campus"} 0',
      'leader_election_master_status{name="yard-operator"} 0',
    ]) {
      expect(s).toContain(want);
    }
  });

  it('counts results, errors and times of reconciles per controller', async () => {
    const m = new RuntimeMetrics(new Registry());
    const c = m.controller('imservice', 1);
    c.reconciled('success', 0.02);
    c.reconciled('error', 0.5);
    c.reconciled('requeue_after', 0.01);
    const s = await samples(m.registry);
    expect(s).toContain(
      'controller_runtime_reconcile_total{controller="imservice",result="success"} 1',
    );
    expect(s).toContain(
      'controller_runtime_reconcile_total{controller="imservice",result="error"} 1',
    );
    expect(s).toContain('controller_runtime_reconcile_errors_total{controller="imservice"} 1');
    expect(s).toContain(
      'controller_runtime_reconcile_time_seconds_count{controller="imservice"} 3',
    );
    expect(s).toContain(
      'controller_runtime_reconcile_time_seconds_bucket{le="0.025",controller="imservice"} 2',
    );
  });

  it('computes stuck-work gauges from the queue at scrape time', async () => {
    let now = 10_000;
    const m = new RuntimeMetrics(new Registry(), () => now);
    m.workqueue('q', () => [4_000, 8_000]); // two keys in flight since t=4 s and t=8 s
    now = 10_000;
    const s = await samples(m.registry);
    expect(s).toContain('workqueue_unfinished_work_seconds{name="q"} 8');
    expect(s).toContain('workqueue_longest_running_processor_seconds{name="q"} 6');
  });

  it('lets two managers in one process keep separate registries', async () => {
    const a = new RuntimeMetrics(new Registry());
    const b = new RuntimeMetrics(new Registry());
    a.controller('x', 1).reconciled('success', 0.1);
    b.controller('x', 1);
    expect(await samples(b.registry)).toContain(
      'controller_runtime_reconcile_total{controller="x",result="success"} 0',
    );
  });
});
